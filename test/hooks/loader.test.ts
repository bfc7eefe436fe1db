import t, { type Test } from 'tap';
import { rmSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { createHookRunner, hookTimeout, type HookRunner, type HookRunnerOptions } from '../../lib/adapters/hooks/loader.js';
import { HookError } from '../../lib/adapters/hooks/errors.js';
import { ModuleLoader } from '../../lib/adapters/hooks/modules.js';
import type { HookName } from '../../lib/adapters/hooks/types.js';
import { answer, captureLogs, sampleDefaults, sampleInputs, sleep, tempDir, writeHook, type LogLine, runnerInTempDir } from './fixtures/hooks.js';

function setup(tt: Test, extra: Partial<HookRunnerOptions> = {}) {
  return runnerInTempDir(tt, extra);
}

/** The failure line logged for `hook` with `code`. */
function failureLine(lines: LogLine[], hook: HookName, code: string): LogLine | undefined {
  return lines.find((l) => l.hook === hook && l.code === code && l.msg === 'customization failed; defaults used');
}

async function expectFallback(tt: Test, runner: HookRunner, lines: LogLine[], code: string, level: number): Promise<HookError | undefined> {
  const inputs = sampleInputs();
  const defaults = sampleDefaults();
  const res = await runner.run('need_registration', inputs.need_registration, defaults.need_registration);
  tt.equal(res.applied, false, 'not applied');
  tt.equal(res.data, defaults.need_registration, 'the very defaults object comes back');
  tt.ok(res.error instanceof HookError, 'a HookError');
  tt.equal(res.error?.code, code);
  tt.equal(res.error?.hook, 'need_registration');
  const line = failureLine(lines, 'need_registration', code);
  tt.ok(line, `a log line with the hook and ${code}`);
  tt.equal(line?.level, level, 'log level');
  tt.equal((line?.err as { code?: string } | undefined)?.code, code, 'the error is serialised with its code');
  tt.equal(runner.lastErrors().need_registration?.code, code, 'kept as the hook\'s last error (the admin panel shows it)');
  tt.equal(runner.lastErrors().process_call_params, undefined, 'for that hook only');
  return res.error;
}

t.test('module failures fall back to the defaults with a coded error and a log line', async (t) => {
  const cases: Array<[string, string, string, number]> = [
    ['a throw', 'export default () => { throw new Error("boom"); };', 'HOOK_THREW', 50],
    ['an async rejection', 'export default async () => { await null; throw new TypeError("nope"); };', 'HOOK_THREW', 50],
    ['a rejected promise of a non-error', 'export default () => Promise.reject("plain string");', 'HOOK_THREW', 50],
    ['a timeout', 'export default () => new Promise((r) => setTimeout(r, 5000).unref());', 'HOOK_TIMEOUT', 40],
    ['a non-success state', 'export default () => ({ state: "error", data: { result: false } });', 'HOOK_STATE', 40],
    ['a missing state', 'export default () => ({ data: { result: false } });', 'HOOK_STATE', 40],
    ['data of the wrong shape', 'export default () => ({ state: "success", data: { result: "yes" } });', 'HOOK_BAD_SHAPE', 50],
    ['no data', 'export default () => ({ state: "success" });', 'HOOK_BAD_SHAPE', 50],
    ['an answer that is not an object', 'export default () => "success";', 'HOOK_BAD_SHAPE', 50],
    ['a syntax error', 'export default () => {{ return ;', 'HOOK_LOAD_FAILED', 50],
    ['no function exported', 'export const something = 1;', 'HOOK_LOAD_FAILED', 50],
    ['a throw at import', 'throw new Error("top-level");\nexport default () => ({});', 'HOOK_LOAD_FAILED', 50],
  ];
  for (const [name, source, code, level] of cases) {
    await t.test(name, async (tt) => {
      const { dir, lines, runner } = setup(tt, { timeouts: { need_registration: 150 } });
      writeHook(dir, 'need_registration.mjs', source);
      const err = await expectFallback(tt, runner, lines, code, level);
      tt.match(err?.message, /^need_registration: /, 'the message names the hook');
      tt.equal(err?.file, join(dir, 'need_registration.mjs'));
    });
  }
});

t.test('wrong shape names the wrong path', async (t) => {
  const { dir, runner } = setup(t);
  writeHook(dir, 'process_lead_creation_params.mjs', answer({ name: 'x', _embedded: { contacts: [{ id: 'abc' }] } }));
  const inputs = sampleInputs();
  const defaults = sampleDefaults();
  const res = await runner.run('process_lead_creation_params', inputs.process_lead_creation_params, defaults.process_lead_creation_params);
  t.equal(res.error?.code, 'HOOK_BAD_SHAPE');
  t.equal(res.error?.path, 'data._embedded.contacts[0].id');
});

t.test('the timeout answers within the limit', async (t) => {
  const { dir, runner } = setup(t, { timeouts: { need_registration: 100 } });
  writeHook(dir, 'need_registration.mjs', 'export default () => new Promise((r) => setTimeout(r, 5000).unref());');
  const started = Date.now();
  const res = await runner.run('need_registration', sampleInputs().need_registration, { result: true });
  t.equal(res.error?.code, 'HOOK_TIMEOUT');
  t.equal(res.error?.timeoutMs, 100);
  t.ok(Date.now() - started < 1500, 'did not wait for the hook');
});

t.test('a working .mjs hook changes the data', async (t) => {
  const { dir, lines, runner } = setup(t);
  writeHook(
    dir,
    'process_client_phone.mjs',
    'export default async ({ phone, call_stage }) => ({ state: "success", data: { phone: "+7" + phone.slice(1), stage: call_stage } });',
  );
  const res = await runner.run('process_client_phone', sampleInputs().process_client_phone, { phone: '89161234567' });
  t.same(res, { data: { phone: '+79161234567' }, applied: true }, 'extra fields dropped');
  t.ok(lines.some((l) => l.msg === 'customization applied' && l.hook === 'process_client_phone' && l.level === 20));
  t.same(runner.active(), ['process_client_phone']);
});

t.test('a named `handler` export and a CommonJS .js hook work', async (t) => {
  const { dir, runner } = setup(t);
  writeHook(dir, 'need_registration.mjs', 'export function handler() { return { state: "success", data: { result: false } }; }');
  writeHook(dir, 'process_client_phone.js', 'module.exports = ({ phone }) => ({ state: "success", data: { phone: phone + "-cjs" } });');
  const inputs = sampleInputs();
  t.same((await runner.run('need_registration', inputs.need_registration, { result: true })).data, { result: false });
  t.same((await runner.run('process_client_phone', inputs.process_client_phone, { phone: 'x' })).data, { phone: '89161234567-cjs' });
});

t.test('a .ts hook is compiled without a TS loader and works', async (t) => {
  const { dir, runner } = setup(t);
  writeHook(
    dir,
    'process_client_phone.ts',
    [
      'interface Input { phone: string; call_stage: string }',
      'type Answer = { state: "success"; data: { phone: string } };',
      'const prefix: string = "+7";',
      'export default function (input: Input): Answer {',
      '  const digits = input.phone.replace(/\\D/g, "") as string;',
      '  return { state: "success", data: { phone: prefix + digits.slice(1) } };',
      '}',
    ].join('\n'),
  );
  const res = await runner.run('process_client_phone', sampleInputs().process_client_phone, { phone: 'x' });
  t.same(res, { data: { phone: '+79161234567' }, applied: true });

  // Edited: recompiled and re-imported.
  writeHook(dir, 'process_client_phone.ts', 'export default (i: { phone: string }) => ({ state: "success", data: { phone: `ts:${i.phone}` } });\n');
  const again = await runner.run('process_client_phone', sampleInputs().process_client_phone, { phone: 'x' });
  t.same(again.data, { phone: 'ts:89161234567' });
});

t.test('a .ts hook that does not compile is a load failure naming the line', async (t) => {
  const { dir, runner } = setup(t);
  writeHook(dir, 'process_client_phone.ts', 'export default (i: { phone: string }) => {\n  return { state: "success", data: { phone: i.phone } ;\n');
  const res = await runner.run('process_client_phone', sampleInputs().process_client_phone, { phone: 'x' });
  t.equal(res.error?.code, 'HOOK_LOAD_FAILED');
  t.match(res.error?.message, /does not compile: .*\(line \d+\)/);
});

t.test('editing a hook file is picked up without a restart', async (t) => {
  const { dir, lines, runner } = setup(t);
  const input = sampleInputs().need_registration;
  writeHook(dir, 'need_registration.mjs', answer({ result: false }));
  t.same((await runner.run('need_registration', input, { result: true })).data, { result: false });
  t.same((await runner.run('need_registration', input, { result: true })).data, { result: false }, 'cached');

  writeHook(dir, 'need_registration.mjs', answer({ result: true }) + '// edited\n');
  t.same((await runner.run('need_registration', input, { result: false })).data, { result: true }, 'new version used');
  t.ok(lines.some((l) => l.msg === 'customization changed; reloading' && l.hook === 'need_registration'));

  // A broken edit falls back; fixing it recovers.
  writeHook(dir, 'need_registration.mjs', 'export default () => {');
  t.equal((await runner.run('need_registration', input, { result: true })).error?.code, 'HOOK_LOAD_FAILED');
  writeHook(dir, 'need_registration.mjs', answer({ result: false }) + '// fixed, longer\n');
  t.same((await runner.run('need_registration', input, { result: true })).data, { result: false });

  // Same size, new mtime: still noticed.
  writeHook(dir, 'need_registration.mjs', answer({ result: true }) + '// fixed, longer\n'.replace('longer', 'LONGER'));
  utimesSync(join(dir, 'need_registration.mjs'), new Date(), new Date(Date.now() + 5000));
  t.same((await runner.run('need_registration', input, { result: false })).data, { result: true });
});

t.test('a new file and a removed file are noticed', async (t) => {
  const { dir, runner } = setup(t);
  const input = sampleInputs().need_registration;
  t.same(runner.active(), []);
  t.same(await runner.run('need_registration', input, { result: true }), { data: { result: true }, applied: false }, 'off: defaults, no error');
  writeHook(dir, 'need_registration.mjs', answer({ result: false }));
  t.equal((await runner.run('need_registration', input, { result: true })).applied, true, 'appeared');
  rmSync(join(dir, 'need_registration.mjs'));
  t.same(await runner.run('need_registration', input, { result: true }), { data: { result: true }, applied: false }, 'removed');
  t.same(runner.active(), []);
});

t.test('an inactive hook costs only the cached listing', async (t) => {
  const { dir, runner } = setup(t, { rescanMs: 60_000 });
  const input = sampleInputs().need_registration;
  writeHook(dir, 'need_registration.mjs', answer({ result: false }));
  const res = await runner.run('need_registration', input, { result: true });
  t.equal(res.applied, false, 'the listing is trusted for rescanMs: no look at the disk');
  t.same(await runner.scan(), ['need_registration'], 'scan() re-reads at once');
  t.equal((await runner.run('need_registration', input, { result: true })).applied, true);
});

t.test('the hook gets a copy: it cannot mutate the caller’s objects', async (t) => {
  const { dir, runner } = setup(t);
  writeHook(
    dir,
    'process_call_params.mjs',
    [
      'export default (input) => {',
      '  input.call_full.channel.from.number = "hacked";',
      '  input.call_full.conversations = null;',
      '  input.params.phone = "hacked";',
      '  input.params.extra = { nested: true };',
      '  return { state: "success", data: input.params };',
      '};',
    ].join('\n'),
  );
  const input = sampleInputs().process_call_params;
  const before = structuredClone(input);
  const defaults = sampleDefaults().process_call_params;
  const res = await runner.run('process_call_params', input, defaults);
  t.equal(res.applied, true);
  t.same(input, before, 'the caller’s input is untouched');
  t.equal(res.data.phone, 'hacked', 'the hook’s answer is used');
  t.not(res.data, input.params);
});

t.test('the answer is a copy: the hook cannot keep a reference into it', async (t) => {
  const { dir, runner } = setup(t);
  writeHook(dir, 'process_contact_update_params.mjs', 'const kept = { name: "A" };\nexport default () => ({ state: "success", data: kept });');
  const input = sampleInputs().process_contact_update_params;
  const first = await runner.run('process_contact_update_params', input, {});
  first.data.name = 'changed by the caller';
  const second = await runner.run('process_contact_update_params', input, {});
  t.same(second.data, { name: 'A' });
});

t.test('hook 9 through the runner: read-only fields dropped, name cut to 20', async (t) => {
  const { dir, runner } = setup(t);
  writeHook(
    dir,
    'process_autodistribution.mjs',
    'export default (i) => ({ state: "success", data: { ...i, number: "102", name: "Александра Константиновна Водкина", extra: 1 } });',
  );
  const input = sampleInputs().process_autodistribution;
  const res = await runner.run('process_autodistribution', input, { number: '101', name: 'x' });
  t.same(res.data, { number: '102', name: 'Александра Константи' });
  t.equal(Array.from(res.data.name).length, 20);
});

t.test('Kommo bodies: null keys are stripped', async (t) => {
  const { dir, runner } = setup(t);
  writeHook(dir, 'process_contact_creation_params.mjs', 'export default ({ params }) => ({ state: "success", data: { ...params, responsible_user_id: null, name: "Client" } });');
  const input = sampleInputs().process_contact_creation_params;
  const res = await runner.run('process_contact_creation_params', input, input.params);
  t.equal(res.applied, true);
  t.notOk('responsible_user_id' in res.data);
  t.equal(res.data.name, 'Client');
});

t.test('the caller’s signal aborts a slow hook; close() turns hooks off', async (t) => {
  const { dir, lines, runner } = setup(t);
  writeHook(dir, 'need_registration.mjs', 'export default () => new Promise((r) => setTimeout(r, 5000).unref());');
  const ac = new AbortController();
  setTimeout(() => ac.abort(), 50);
  const started = Date.now();
  const res = await runner.run('need_registration', sampleInputs().need_registration, { result: true }, { signal: ac.signal });
  t.equal(res.error?.code, 'HOOK_ABORTED');
  t.ok(Date.now() - started < 1500);
  t.equal(failureLine(lines, 'need_registration', 'HOOK_ABORTED')?.level, 20, 'logged at debug');

  const pending = runner.run('need_registration', sampleInputs().need_registration, { result: true });
  await sleep(30);
  await runner.close();
  t.equal((await pending).error?.code, 'HOOK_ABORTED', 'close aborts hooks in flight');
  await runner.close();
  t.same(await runner.run('need_registration', sampleInputs().need_registration, { result: true }), { data: { result: true }, applied: false });
  t.same(runner.active(), []);
});

t.test('the per-call logger is used', async (t) => {
  const { dir, runner } = setup(t);
  const call = captureLogs();
  writeHook(dir, 'need_registration.mjs', 'export default () => { throw new Error("x"); };');
  await runner.run('need_registration', sampleInputs().need_registration, { result: true }, { logger: call.logger.child({ linkedid: 'L1' }) });
  const line = call.lines.find((l) => l.code === 'HOOK_THREW');
  t.equal(line?.linkedid, 'L1');
});

t.test('time limits and the closed set', async (t) => {
  t.equal(hookTimeout('need_registration', 3000), 3000);
  t.equal(hookTimeout('process_record_file_path', 3000), 10_000);
  t.equal(hookTimeout('process_record_file_path', 3000, { process_record_file_path: 20_000 }), 20_000);
  t.equal(hookTimeout('need_registration', 3000, { need_registration: 50 }), 50);

  const { dir, lines } = setup(t, { timeouts: { need_registraton: 10 } });
  t.ok(lines.some((l) => l.level === 40 && l.hook === 'need_registraton' && /unknown hook/.test(l.msg)), 'a typo in timeouts is reported');

  writeHook(dir, 'need_registraton.mjs', answer({ result: false }));
  writeHook(dir, 'need_registration.example.mjs', answer({ result: false }));
  writeHook(dir, 'need_registration.mjs.bak', answer({ result: false }));
  writeHook(dir, 'need_registration.mjs~', answer({ result: false }));
  writeHook(dir, '.need_registration.mjs', answer({ result: false }));
  const { logger, lines: scanLines } = captureLogs();
  const runner = createHookRunner({ dir, timeoutMs: 1000, timeouts: {}, logger });
  t.teardown(() => runner.close());
  t.same(runner.active(), [], 'typos, examples, backups and dot files are not hooks');
  t.ok(scanLines.some((l) => l.file === 'need_registraton.mjs' && /does not name a hook/.test(l.msg)), 'the typo is reported');
});

t.test('several files for one hook: the module wins, the rest is reported', async (t) => {
  const dir = tempDir(t);
  writeHook(dir, 'need_registration.mjs', answer({ result: false }));
  writeHook(dir, 'need_registration.ts', answer({ result: true }));
  writeHook(dir, 'need_registration.sh', '#!/bin/sh\necho "{}"\n', true);
  const { logger, lines } = captureLogs();
  const runner = createHookRunner({ dir, timeoutMs: 1000, timeouts: {}, logger });
  t.teardown(() => runner.close());
  const res = await runner.run('need_registration', sampleInputs().need_registration, { result: true });
  t.same(res.data, { result: false });
  t.equal(lines.filter((l) => l.usedInstead === 'need_registration.mjs').length, 2);
});

t.test('a missing directory means no hooks', async (t) => {
  const { logger, lines } = captureLogs();
  const runner = createHookRunner({ dir: join(tempDir(t), 'nope'), timeoutMs: 1000, timeouts: {}, logger, rescanMs: 0 });
  t.teardown(() => runner.close());
  t.same(runner.active(), []);
  t.same(await runner.run('need_registration', sampleInputs().need_registration, { result: true }), { data: { result: true }, applied: false });
  t.equal(lines.filter((l) => /does not exist/.test(l.msg)).length, 1, 'said once');
});

t.test('check() loads every active hook', async (t) => {
  const { dir, runner } = setup(t);
  writeHook(dir, 'need_registration.mjs', answer({ result: false }));
  writeHook(dir, 'process_client_phone.mjs', 'export default {');
  writeHook(dir, 'process_call_params', '#!/bin/sh\ncat\n', true);
  const checks = await runner.check();
  t.same(
    checks.map((c) => [c.hook, c.kind, c.ok, c.error?.code]),
    [
      ['need_registration', 'module', true, undefined],
      ['process_call_params', 'executable', true, undefined],
      ['process_client_phone', 'module', false, 'HOOK_LOAD_FAILED'],
    ],
  );
});

t.test('a module gets a context: its signal fires at the time limit, its logger names the hook', async (t) => {
  const { dir, lines, runner } = setup(t, { timeouts: { need_registration: 100 } });
  writeHook(
    dir,
    'need_registration.mjs',
    [
      'export default (input, context) => {',
      '  context.logger.info({ timeoutMs: context.timeoutMs, name: context.hook }, "hook says hello");',
      '  return new Promise((resolve) => {',
      '    context.signal.addEventListener("abort", () => {',
      '      context.logger.warn({ reason: context.signal.reason.code }, "hook was told to stop");',
      '      resolve({ state: "success", data: { result: false } });',
      '    });',
      '  });',
      '};',
    ].join('\n'),
  );
  const res = await runner.run('need_registration', sampleInputs().need_registration, { result: true });
  t.equal(res.error?.code, 'HOOK_TIMEOUT', 'the late answer is not used');
  const hello = lines.find((l) => l.msg === 'hook says hello');
  t.match(hello, { hook: 'need_registration', timeoutMs: 100, name: 'need_registration' });
  await sleep(20);
  t.match(lines.find((l) => l.msg === 'hook was told to stop'), { hook: 'need_registration', reason: 'HOOK_TIMEOUT' });
});

t.test('without the typescript package a .ts hook is HOOK_UNSUPPORTED', async (t) => {
  const dir = tempDir(t);
  const file = writeHook(dir, 'need_registration.ts', 'export default (): unknown => ({ state: "success", data: { result: false } });');
  const loader = new ModuleLoader({ typescript: async () => undefined });
  t.teardown(() => loader.close());
  await t.rejects(loader.prepare({ hook: 'need_registration', file, name: 'need_registration.ts', kind: 'typescript' }), {
    code: 'HOOK_UNSUPPORTED',
    hook: 'need_registration',
    message: /rename it to \.mjs/,
  });
});
