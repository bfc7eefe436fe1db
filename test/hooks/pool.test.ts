/**
 * Module hooks run in worker threads: nothing a hook does stops the connector's event
 * loop, the time limit always fires, and a worker that is blocked or dies is replaced.
 */
import t, { type Test } from 'tap';
import { performance } from 'node:perf_hooks';
import type { HookRunnerOptions } from '../../lib/adapters/hooks/loader.js';
import { answer, sampleInputs, sleep, writeHook, runnerInTempDir } from './fixtures/hooks.js';

function setup(tt: Test, extra: Partial<HookRunnerOptions> = {}) {
  return runnerInTempDir(tt, extra);
}

const input = () => sampleInputs().need_registration;
const phone = () => sampleInputs().process_client_phone;

/** Counts how often a 10 ms timer of the connector's own thread fires while `work` runs. */
async function ticksDuring<T>(work: Promise<T>): Promise<{ value: T; ticks: number; ms: number }> {
  let ticks = 0;
  const timer = setInterval(() => ticks++, 10);
  const started = performance.now();
  try {
    const value = await work;
    return { value, ticks, ms: performance.now() - started };
  } finally {
    clearInterval(timer);
  }
}

const BLOCKERS: Array<[string, string]> = [
  ['an endless loop', 'export default () => { while (true) {} };'],
  ['a busy CPU loop that would end in a minute', 'export default () => { const end = Date.now() + 60_000; while (Date.now() < end) {} return { state: "success", data: { result: false } }; };'],
  ['a synchronous child_process call', 'import { execFileSync } from "node:child_process";\nexport default () => { execFileSync("sleep", ["2"]); return { state: "success", data: { result: false } }; };'],
  ['a synchronous wait', 'export default () => { Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 30_000); return { state: "success", data: { result: false } }; };'],
];

t.test('a hook that blocks its thread: the time limit fires, the connector keeps running, the worker is replaced', async (t) => {
  for (const [name, source] of BLOCKERS) {
    await t.test(name, async (tt) => {
      const { dir, lines, runner } = setup(tt, { timeouts: { need_registration: 300 } });
      writeHook(dir, 'need_registration.mjs', source);
      const { value: res, ticks, ms } = await ticksDuring(runner.run('need_registration', input(), { result: true }));
      tt.equal(res.error?.code, 'HOOK_TIMEOUT');
      tt.same(res.data, { result: true }, 'the defaults');
      // HOOK_TIMEOUT is the limit's answer (a blocker that ended by itself would give its own);
      // durations are the benchmarks' business, not a test's.
      tt.ok(ticks >= 10, `the connector's timers ran meanwhile (${ticks} ticks of 10 ms in ${Math.round(ms)} ms)`);
      await sleep(300); // the grace after the limit, then the replacement
      tt.equal(runner.workers().replaced, 1, 'the blocked worker was replaced');
      tt.ok(lines.some((l) => l.msg === 'customization worker replaced' && /did not give its thread back/.test(String(l.why))), 'and the admin is told why');
      writeHook(dir, 'need_registration.mjs', answer({ result: false }));
      const after = await runner.run('need_registration', input(), { result: true });
      tt.same([after.applied, after.data], [true, { result: false }], 'the next run works');
    });
  }
});

t.test('while one worker spins, hooks go to the other one', async (t) => {
  const { dir, runner } = setup(t, { workers: 2, timeouts: { need_registration: 3000 } });
  writeHook(dir, 'need_registration.mjs', 'export default () => { while (true) {} };');
  writeHook(dir, 'process_client_phone.mjs', 'export default ({ phone }) => ({ state: "success", data: { phone: "7" + phone } });');
  const spinning = runner.run('need_registration', input(), { result: true });
  let spinningSettled = false;
  void spinning.then(() => (spinningSettled = true));
  await sleep(400); // the heartbeat notices the blocked worker
  for (let i = 0; i < 20; i++) {
    const res = await runner.run('process_client_phone', phone(), { phone: 'x' });
    t.equal(res.applied, true, `run ${i} applied`);
  }
  // Order, not time: all 20 ran while the spinning hook still held its worker (its 3 s limit
  // had not fired), so none of them waited for that worker or its replacement.
  t.equal(spinningSettled, false, 'the 20 runs finished while the other worker still spun');
  t.equal((await spinning).error?.code, 'HOOK_TIMEOUT');
});

t.test('a hook queued behind a blocked worker, not started yet, runs on its replacement', async (t) => {
  const { dir, runner } = setup(t, { workers: 1, timeouts: { need_registration: 200, process_client_phone: 3000 } });
  writeHook(dir, 'need_registration.mjs', 'export default () => { while (true) {} };');
  writeHook(dir, 'process_client_phone.mjs', 'export default ({ phone }) => ({ state: "success", data: { phone: "7" + phone } });');
  await runner.run('process_client_phone', phone(), { phone: 'x' }); // the worker is up and has the module
  const spinning = runner.run('need_registration', input(), { result: true });
  await sleep(20);
  const waiting = runner.run('process_client_phone', phone(), { phone: 'x' });
  t.equal((await spinning).error?.code, 'HOOK_TIMEOUT');
  const res = await waiting;
  t.equal(res.applied, true, 'it was moved, not failed');
  t.equal(res.data.phone, `7${phone().phone}`);
  t.equal(runner.workers().replaced, 1);
});

t.test('a hook already running in a worker that gets blocked fails with HOOK_TIMEOUT when the worker goes', async (t) => {
  const { dir, runner } = setup(t, { workers: 1, timeouts: { need_registration: 300, process_client_phone: 3000 } });
  writeHook(dir, 'process_client_phone.mjs', 'export default async ({ phone }) => { await new Promise((r) => setTimeout(r, 100)); return { state: "success", data: { phone } }; };');
  writeHook(dir, 'need_registration.mjs', 'export default async () => { await new Promise((r) => setTimeout(r, 20)); while (true) {} };');
  const slow = runner.run('process_client_phone', phone(), { phone: 'x' });
  const spinning = runner.run('need_registration', input(), { result: true });
  const [a, b] = await Promise.all([slow, spinning]);
  t.equal(b.error?.code, 'HOOK_TIMEOUT');
  t.equal(a.error?.code, 'HOOK_TIMEOUT', 'its neighbour could not finish: the thread was blocked');
  t.match(a.error?.message, /its worker thread was lost: need_registration did not give its thread back/);
});

t.test('a worker that dies is replaced: process.exit, out of memory', async (t) => {
  const cases: Array<[string, string, RegExp]> = [
    ['process.exit', 'export default () => process.exit(3);', /exited with code 3/],
    ['out of memory', 'export default () => { const keep = []; while (true) keep.push(new Array(100_000).fill(Math.random())); };', /out of memory|ERR_WORKER_OUT_OF_MEMORY/i],
  ];
  for (const [name, source, why] of cases) {
    await t.test(name, async (tt) => {
      const { dir, runner } = setup(tt, { workerMemoryMb: 32, timeouts: { need_registration: 20_000 } });
      writeHook(dir, 'need_registration.mjs', source);
      const res = await runner.run('need_registration', input(), { result: true });
      tt.equal(res.error?.code, 'HOOK_THREW');
      tt.match(res.error?.message, why);
      tt.equal(process.exitCode ?? 0, 0, 'the connector itself did not exit');
      writeHook(dir, 'need_registration.mjs', answer({ result: false }));
      tt.same((await runner.run('need_registration', input(), { result: true })).data, { result: false }, 'the replacement works');
    });
  }
});

t.test('a hook sees no connector secret in process.env; its console output goes to the log', async (t) => {
  process.env.KOMMO_LONG_LIVED_TOKEN = 'tok-secret';
  process.env.AMI_SECRET_BRANCH_B = 'ami-secret-b';
  process.env.KA_HOOK_TEST_VAR = 'visible';
  t.teardown(() => {
    delete process.env.KOMMO_LONG_LIVED_TOKEN;
    delete process.env.AMI_SECRET_BRANCH_B;
    delete process.env.KA_HOOK_TEST_VAR;
  });
  const { dir, lines, runner } = setup(t);
  writeHook(
    dir,
    'process_client_phone.mjs',
    'export default () => { console.log("debug print"); return { state: "success", data: { phone: `${process.env.KOMMO_LONG_LIVED_TOKEN ?? "none"}-${process.env.AMI_SECRET_BRANCH_B ?? "none"}-${process.env.KA_HOOK_TEST_VAR}` } }; };',
  );
  const res = await runner.run('process_client_phone', phone(), { phone: 'x' });
  t.equal(res.data.phone, 'none-none-visible', 'no Kommo token, no per-server AMI secret');
  await sleep(50);
  t.ok(lines.some((l) => l.stdout === 'debug print\n' && /wrote to stdout/.test(l.msg)), 'console.log is logged, not mixed into the JSON log');
});

t.test('a hook error thrown outside its call is logged; the worker stays', async (t) => {
  const { dir, lines, runner } = setup(t);
  writeHook(dir, 'need_registration.mjs', 'export default () => { setTimeout(() => { throw new Error("stray"); }, 5); return { state: "success", data: { result: false } }; };');
  t.same((await runner.run('need_registration', input(), { result: true })).data, { result: false });
  await sleep(100);
  t.ok(lines.some((l) => /threw outside its call/.test(l.msg)), 'logged');
  t.equal(runner.workers().replaced, 0, 'no worker lost');
});

t.test('check() of a module whose top-level code spins answers at the limit', async (t) => {
  const { dir, runner } = setup(t, { timeouts: { need_registration: 300 } });
  writeHook(dir, 'need_registration.mjs', 'while (true) {}\nexport default () => ({});');
  const started = performance.now();
  const checks = await runner.check();
  t.ok(performance.now() - started < 1500);
  t.same(checks.map((c) => [c.hook, c.ok, c.error?.code]), [['need_registration', false, 'HOOK_TIMEOUT']]);
});

t.test('close() while a hook spins: the run ends HOOK_ABORTED and no worker is left', async (t) => {
  const { dir, runner } = setup(t, { timeouts: { need_registration: 10_000 } });
  writeHook(dir, 'need_registration.mjs', 'export default () => { while (true) {} };');
  const pending = runner.run('need_registration', input(), { result: true });
  await sleep(100);
  await runner.close();
  t.equal((await pending).error?.code, 'HOOK_ABORTED');
  t.same(runner.workers(), { workers: 0, replaced: 0, running: 0, queued: 0 });
});
