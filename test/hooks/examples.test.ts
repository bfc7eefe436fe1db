/**
 * Every example shipped in customizations/ loads under its real hook name and answers
 * `success` with data of the right shape for a sample input — and none is active
 * where it ships.
 */
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { copyFileSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HOOK_ERROR_CODES } from '../../lib/adapters/hooks/errors.js';
import { createHookRunner } from '../../lib/adapters/hooks/loader.js';
import { HOOK_NAMES, type HookName } from '../../lib/adapters/hooks/types.js';
import { captureLogs, sampleDefaults, sampleInputs, tempDir } from './fixtures/hooks.js';

const examples = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'customizations');

interface Teardown {
  teardown(fn: () => unknown): void;
}

/** Copy one example under the hook's real name into a fresh directory and run it once. */
async function runExample(t: Teardown, hook: HookName, exampleName: string, activeName: string) {
  const dir = tempDir(t);
  copyFileSync(join(examples, exampleName), join(dir, activeName));
  const { logger, lines } = captureLogs();
  const runner = createHookRunner({ dir, timeoutMs: 5000, timeouts: {}, logger, rescanMs: 0 });
  t.teardown(() => runner.close());
  const run = runner.run as (h: HookName, input: unknown, defaults: unknown) => ReturnType<typeof runner.run>;
  const res = await run(hook, sampleInputs()[hook], sampleDefaults()[hook]);
  return { active: runner.active(), res, lines };
}

t.test('the shipped examples are not active', async (t) => {
  const { logger } = captureLogs();
  const runner = createHookRunner({ dir: examples, timeoutMs: 1000, timeouts: {}, logger });
  t.teardown(() => runner.close());
  t.same(runner.active(), []);
});

t.test('there is an example for every hook', async (t) => {
  const names = readdirSync(examples);
  for (const hook of HOOK_NAMES) t.ok(names.includes(`${hook}.example.mjs`), `${hook}.example.mjs`);
  const py = join(examples, 'process_client_phone.example.py');
  t.ok((statSync(py).mode & 0o111) !== 0, 'the executable example keeps its exec bit');
});

t.test('the README documents every hook and every error code', async (t) => {
  const readme = readFileSync(join(examples, 'README.md'), 'utf8');
  for (const hook of HOOK_NAMES) t.match(readme, `\`${hook}\``, hook);
  for (const code of HOOK_ERROR_CODES) t.match(readme, code, code);
});

t.test('each example answers success with the right shape', async (t) => {
  const results = new Map<HookName, unknown>();
  for (const hook of HOOK_NAMES) {
    await t.test(hook, async (tt) => {
      const { active, res, lines } = await runExample(tt, hook, `${hook}.example.mjs`, `${hook}.mjs`);
      tt.same(active, [hook], 'active under its real name');
      tt.equal(res.error, undefined, res.error ? `${res.error.message} ${JSON.stringify(lines)}` : 'no error');
      tt.equal(res.applied, true, 'applied (success, right shape)');
      results.set(hook, res.data);
    });
  }
  const inputs = sampleInputs();
  t.same(results.get('need_registration'), { result: true }, 'not blacklisted');
  t.same(results.get('process_client_phone'), { phone: '+79161234567' }, '8 → +7');
  t.match(results.get('process_call_params'), { call_result: 'Line: trunk-main' });
  t.match(results.get('process_contact_creation_params'), { name: 'Иван Петров', tags: ['kommo-asterisk', 'incoming call'] });
  t.match(results.get('process_lead_creation_params'), {
    pipeline_id: 7000001,
    _embedded: { tags: [{ name: 'kommo-asterisk' }, { name: 'Ad: metro posters' }] },
  });
  t.match(results.get('process_originate_params'), { extension: '89161234567', context: 'from-crm-cheap-trunk' });
  t.same(results.get('process_record_file_path'), { path: inputs.process_record_file_path.path }, 'no file: the original path');
  const task = results.get('process_task_creation_params') as { complete_till: number; text: string };
  t.match(task.text, /\(line trunk-main\)$/);
  t.ok(task.complete_till > Date.now() / 1000, 'deadline ahead');
  t.same(results.get('process_autodistribution'), { number: '101', name: 'Иван Петров' }, 'not a VIP: unchanged');
  t.same(results.get('post_registration'), {});
  t.same(results.get('process_contact_update_params'), { name: 'Иван Петров' }, 'automatic name replaced');
  t.same(results.get('process_lead_update_params'), { status_id: 70000022 });
  t.match(results.get('process_unsorted_creation_params'), { source_name: 'kommo-asterisk · Metro posters' });
});

t.test('VIP routing example', async (t) => {
  const dir = tempDir(t);
  copyFileSync(join(examples, 'process_autodistribution.example.mjs'), join(dir, 'process_autodistribution.mjs'));
  const { logger } = captureLogs();
  const runner = createHookRunner({ dir, timeoutMs: 5000, timeouts: {}, logger });
  t.teardown(() => runner.close());
  const input = { ...sampleInputs().process_autodistribution, number: '', from: '8 903 111-22-33', name: 'Константин Константинопольский' };
  const res = await runner.run('process_autodistribution', input, { number: '', name: input.name });
  t.same(res.data, { number: '101', name: 'VIP Константин Конст' }, 'routed to 101, name cut to 20');
});

t.test('need_registration example ignores blacklisted numbers', async (t) => {
  const dir = tempDir(t);
  copyFileSync(join(examples, 'need_registration.example.mjs'), join(dir, 'need_registration.mjs'));
  const { logger } = captureLogs();
  const runner = createHookRunner({ dir, timeoutMs: 5000, timeouts: {}, logger });
  t.teardown(() => runner.close());
  const input = sampleInputs().need_registration;
  input.call_full.channel.from.number = '8 (999) 000-00-00';
  t.same((await runner.run('need_registration', input, { result: true })).data, { result: false });
});

const python = spawnSync('python3', ['--version']).status === 0;

t.test('the Python executable example', { skip: python ? false : 'python3 is not installed' }, async (t) => {
  const dir = tempDir(t);
  const target = join(dir, 'process_client_phone.py');
  copyFileSync(join(examples, 'process_client_phone.example.py'), target);
  const { logger, lines } = captureLogs();
  const runner = createHookRunner({ dir, timeoutMs: 5000, timeouts: {}, logger });
  t.teardown(() => runner.close());
  t.same(runner.active(), ['process_client_phone'], 'copyFile keeps the exec bit');
  const res = await runner.run('process_client_phone', sampleInputs().process_client_phone, { phone: '89161234567' });
  t.same(res, { data: { phone: '+79161234567' }, applied: true });
  t.ok(lines.some((l) => typeof l.stderr === 'string' && l.stderr.includes("-> '+79161234567'")), 'its stderr is logged');
});
