import t, { type Test } from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { HookRunnerOptions } from '../../lib/adapters/hooks/loader.js';
import { runExecutable } from '../../lib/adapters/hooks/exec.js';
import { sampleInputs, sleep, tempDir, writeHook, runnerInTempDir } from './fixtures/hooks.js';

function setup(tt: Test, extra: Partial<HookRunnerOptions> = {}) {
  return runnerInTempDir(tt, { timeoutMs: 3000, ...extra });
}

/** Dead: no such process, or a zombie nobody reaps (PID 1 in a container may not). */
function gone(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return true;
  }
  try {
    return /^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return true;
  }
}

const phoneInput = () => sampleInputs().process_client_phone;

t.test('a #!/bin/sh executable changes the data', async (t) => {
  const { dir, runner } = setup(t);
  writeHook(
    dir,
    'process_client_phone',
    '#!/bin/sh\n# reads the request, answers a fixed number\ncat > /dev/null\nprintf \'{"state":"success","data":{"phone":"+7 916 123-45-67"}}\\n\'\n',
    true,
  );
  const res = await runner.run('process_client_phone', phoneInput(), { phone: '89161234567' });
  t.same(res, { data: { phone: '+7 916 123-45-67' }, applied: true });
  t.same(runner.active(), ['process_client_phone']);
});

t.test('a #!/usr/bin/env node executable gets the input on stdin', async (t) => {
  const { dir, lines, runner } = setup(t);
  writeHook(
    dir,
    'process_client_phone',
    [
      '#!/usr/bin/env node',
      'let text = "";',
      'process.stdin.on("data", (c) => (text += c));',
      'process.stdin.on("end", () => {',
      '  const input = JSON.parse(text);',
      '  process.stderr.write("normalising " + input.phone + "\\n");',
      '  const phone = "+7" + input.phone.slice(1) + "/" + input.call_stage + "/" + process.env.KA_HOOK;',
      '  process.stdout.write(JSON.stringify({ state: "success", data: { phone } }));',
      '});',
    ].join('\n'),
    true,
  );
  const res = await runner.run('process_client_phone', phoneInput(), { phone: 'x' });
  t.equal(res.error, undefined, 'no error');
  t.same(res.data, { phone: '+79161234567/call_ended/process_client_phone' });
  t.ok(lines.some((l) => l.hook === 'process_client_phone' && l.stderr === 'normalising 89161234567\n'), 'stderr in the log');
});

t.test('executable failures fall back with a coded error and a log line', async (t) => {
  const cases: Array<[string, string, string]> = [
    ['bad JSON', '#!/bin/sh\necho "this is not json"\n', 'HOOK_BAD_JSON'],
    ['no output', '#!/bin/sh\nexit 0\n', 'HOOK_BAD_JSON'],
    ['a non-zero exit (even with a valid answer)', '#!/bin/sh\necho \'{"state":"success","data":{"phone":"1"}}\'\necho "went wrong" >&2\nexit 3\n', 'HOOK_EXIT'],
    ['killed by a signal', '#!/bin/sh\nkill -9 $$\n', 'HOOK_EXIT'],
    ['a non-success state', '#!/bin/sh\necho \'{"state":"error","data":{}}\'\n', 'HOOK_STATE'],
    ['wrong shape', '#!/bin/sh\necho \'{"state":"success","data":{"phone":79161234567}}\'\n', 'HOOK_BAD_SHAPE'],
    ['a bad interpreter line', '#!/nonexistent/interpreter\n', 'HOOK_LOAD_FAILED'],
  ];
  for (const [name, script, code] of cases) {
    await t.test(name, async (tt) => {
      const { dir, lines, runner } = setup(tt);
      writeHook(dir, 'process_client_phone.sh', script, true);
      const defaults = { phone: '89161234567' };
      const res = await runner.run('process_client_phone', phoneInput(), defaults);
      tt.equal(res.applied, false);
      tt.equal(res.data, defaults);
      tt.equal(res.error?.code, code);
      tt.equal(res.error?.hook, 'process_client_phone');
      const line = lines.find((l) => l.code === code && l.hook === 'process_client_phone');
      tt.ok(line, 'logged with hook and code');
      tt.ok(line && line.level >= 40, 'at warn or error');
      if (code === 'HOOK_EXIT' && name.startsWith('a non-zero')) {
        tt.equal(res.error?.exitCode, 3);
        tt.equal(res.error?.stderr, 'went wrong\n', 'stderr captured');
        tt.equal((line?.err as { stderr?: string }).stderr, 'went wrong\n', 'and logged');
      }
      if (code === 'HOOK_BAD_SHAPE') tt.equal(res.error?.path, 'data.phone');
    });
  }
});

t.test('a slow executable is killed at the time limit, its children too', async (t) => {
  const { dir, runner } = setup(t, { timeouts: { process_client_phone: 300 } });
  const pidFile = join(dir, 'child.pid');
  writeHook(dir, 'process_client_phone.sh', `#!/bin/sh\nsleep 30 &\necho $! > '${pidFile}'\nwait\n`, true);
  const started = Date.now();
  const res = await runner.run('process_client_phone', phoneInput(), { phone: 'x' });
  t.equal(res.error?.code, 'HOOK_TIMEOUT');
  t.equal(res.error?.timeoutMs, 300);
  t.ok(Date.now() - started < 2000, 'answered at the limit');
  const pid = Number(readFileSync(pidFile, 'utf8'));
  await sleep(100);
  t.ok(gone(pid), 'the background child was killed with the group');
});

t.test('stderr is bounded', async (t) => {
  const { dir, runner } = setup(t);
  writeHook(dir, 'process_client_phone.sh', '#!/bin/sh\nhead -c 100000 /dev/zero | tr "\\0" x >&2\nexit 1\n', true);
  const res = await runner.run('process_client_phone', phoneInput(), { phone: 'x' });
  t.equal(res.error?.code, 'HOOK_EXIT');
  t.ok((res.error?.stderr?.length ?? 0) <= 8 * 1024 + 10, 'cut');
  t.match(res.error?.stderr, /…\[cut\]$/);
});

t.test('an executable that ignores stdin still works', async (t) => {
  const { dir, runner } = setup(t);
  writeHook(dir, 'need_registration', '#!/bin/sh\necho \'{"state":"success","data":{"result":false}}\'\n', true);
  const res = await runner.run('need_registration', sampleInputs().need_registration, { result: true });
  t.same(res.data, { result: false });
});

t.test('the connector’s secrets are not in the environment', async (t) => {
  const { dir, runner } = setup(t);
  process.env.AMI_SECRET = 's3cret';
  t.teardown(() => delete process.env.AMI_SECRET);
  writeHook(dir, 'process_client_phone', '#!/bin/sh\nprintf \'{"state":"success","data":{"phone":"%s"}}\' "${AMI_SECRET:-none}"\n', true);
  const res = await runner.run('process_client_phone', phoneInput(), { phone: 'x' });
  t.same(res.data, { phone: 'none' });
});

t.test('a file without the exec bit is not a hook, and the admin is told', async (t) => {
  const { dir, lines, runner } = setup(t);
  writeHook(dir, 'process_client_phone.sh', '#!/bin/sh\necho {}\n', false);
  const res = await runner.run('process_client_phone', phoneInput(), { phone: 'x' });
  t.same(res, { data: { phone: 'x' }, applied: false });
  t.equal(lines.filter((l) => l.file === 'process_client_phone.sh' && /not executable/.test(l.msg)).length, 1, 'said once');
});

t.test('an abort kills the executable', async (t) => {
  const { dir, runner } = setup(t);
  writeHook(dir, 'process_client_phone', '#!/bin/sh\nexec sleep 30\n', true);
  const ac = new AbortController();
  setTimeout(() => ac.abort(), 100);
  const started = Date.now();
  const res = await runner.run('process_client_phone', phoneInput(), { phone: 'x' }, { signal: ac.signal });
  t.equal(res.error?.code, 'HOOK_ABORTED');
  t.ok(Date.now() - started < 2000);
});

t.test('a hung executable gets SIGTERM at the time limit, and SIGKILL when it ignores it', async (t) => {
  const dir = tempDir(t);
  const pidFile = join(dir, 'pid');
  const stubborn = writeHook(dir, 'stubborn', `#!/bin/sh\ntrap '' TERM\necho $$ > '${pidFile}'\nwhile :; do sleep 0.05; done\n`, true);
  const started = Date.now();
  await t.rejects(runExecutable({ hook: 'need_registration', file: stubborn, input: '{}', timeoutMs: 300, killGraceMs: 600 }), { code: 'HOOK_TIMEOUT' });
  t.ok(Date.now() - started < 1000, 'the caller has its answer at the limit, not after the grace');
  const pid = Number(readFileSync(pidFile, 'utf8'));
  await sleep(200);
  t.notOk(gone(pid), 'SIGTERM ignored: still there during the grace');
  await sleep(800);
  t.ok(gone(pid), 'SIGKILL after the grace');

  const tidyFile = join(dir, 'tidied');
  const tidy = writeHook(dir, 'tidy', `#!/bin/sh\ntrap 'echo tidied > "${tidyFile}"; exit 0' TERM\nwhile :; do sleep 0.05; done\n`, true);
  await t.rejects(runExecutable({ hook: 'need_registration', file: tidy, input: '{}', timeoutMs: 200, killGraceMs: 5000 }), { code: 'HOOK_TIMEOUT' });
  await sleep(300);
  t.equal(readFileSync(tidyFile, 'utf8'), 'tidied\n', 'SIGTERM first: the script could clean up');
});

t.test('stdout is bounded: an endless writer is stopped at the limit', async (t) => {
  const dir = tempDir(t);
  const file = writeHook(dir, 'flood', '#!/bin/sh\nexec yes\n', true);
  const started = Date.now();
  await t.rejects(runExecutable({ hook: 'need_registration', file, input: '{}', timeoutMs: 10_000, maxStdout: 64 * 1024 }), { code: 'HOOK_BAD_JSON', message: /over 65536 bytes/ });
  t.ok(Date.now() - started < 5000, 'stopped at the size limit, not the time limit');
});
