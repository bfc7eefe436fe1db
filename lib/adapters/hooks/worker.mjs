// @ts-check
/**
 * The body of one customization worker thread (see pool.ts). It imports module hooks
 * and calls them, so that a hook that spins, blocks on synchronous I/O or exhausts
 * its heap stops this thread only, never the connector's event loop.
 *
 * Plain JavaScript on purpose: a worker starts with no TypeScript loader (the
 * connector compiles `.ts` hooks itself before they get here), so it starts in a few
 * milliseconds. It imports nothing of the connector's; the pool turns the error
 * descriptions it sends into HookErrors.
 *
 * Messages in (from the pool): `run`, `abort`, `ping`. Messages out: `started`,
 * `done`, `ack` (an abort was seen: this thread's event loop is alive), `pong`, `log`.
 * The protocol's types are in pool-protocol.ts. Answers travel as JSON text, so that
 * what the connector receives is exactly the JSON copy it would have made itself.
 */
import { createRequire } from 'node:module';
import { setPriority } from 'node:os';
import { pathToFileURL } from 'node:url';
import { parentPort } from 'node:worker_threads';

const port = parentPort;
if (!port) throw new Error('worker.mjs runs only as a worker thread');
const require = createRequire(import.meta.url);

// Below the connector's own threads: a hook that burns CPU waits for the cores the
// connector does not need (on Linux this thread's nice value; elsewhere best effort).
try {
  setPriority(0, 10);
} catch {
  // not permitted or not supported: the thread runs at the connector's priority
}

/** @param {import('./pool-protocol.js').WorkerOut} message */
const post = (message) => port.postMessage(message);

/** One import per file and version; an edit (a new version) imports again. @type {Map<string, {version: string, fn: Promise<Function>}>} */
const modules = new Map();
/** @type {Map<number, AbortController>} */
const running = new Map();

/** A failure the pool turns into a HookError with this code. */
class Failure extends Error {
  /** @param {import('./errors.js').HookErrorCode} code @param {string} message @param {unknown} [cause] @param {Record<string, unknown>} [fields] */
  constructor(code, message, cause, fields = {}) {
    super(message, { cause });
    this.code = code;
    this.fields = fields;
  }
}

/** What to add to a message about a thrown value that is not an Error (see errors.ts `detail`). @param {unknown} err */
function detail(err) {
  if (err instanceof Error) return '';
  let text;
  try {
    text = typeof err === 'string' ? err : (JSON.stringify(err) ?? String(err));
  } catch {
    text = String(err);
  }
  return `: ${text.length > 200 ? `${text.slice(0, 200)}…` : text}`;
}

/** The function a module exports: `default`, else `handler`, else `default.handler` (CommonJS). @param {Record<string, unknown>} mod */
function pickHandler(mod) {
  const def = mod.default;
  if (typeof def === 'function') return def;
  if (typeof mod.handler === 'function') return mod.handler;
  if (typeof def === 'object' && def !== null && typeof (/** @type {Record<string, unknown>} */ (def)).handler === 'function') {
    return /** @type {Function} */ ((/** @type {Record<string, unknown>} */ (def)).handler);
  }
  return undefined;
}

/** @param {import('./pool-protocol.js').WorkerRun} run */
async function importHandler(run) {
  const { file, target, version } = run;
  if (file.kind === 'module') delete require.cache[file.file];
  let mod;
  try {
    mod = await import(`${pathToFileURL(target).href}?v=${encodeURIComponent(version)}`);
  } catch (err) {
    throw new Failure('HOOK_LOAD_FAILED', `cannot load ${file.name}${detail(err)}`, err);
  }
  const fn = pickHandler(mod);
  if (!fn) throw new Failure('HOOK_LOAD_FAILED', `${file.name} exports no function: export default (input) => result, or export a function named handler`);
  return fn;
}

/** @param {import('./pool-protocol.js').WorkerRun} run */
function handlerFor(run) {
  const cached = modules.get(run.file.file);
  if (cached && cached.version === run.version) return cached.fn;
  const fn = importHandler(run);
  fn.catch(() => undefined);
  modules.set(run.file.file, { version: run.version, fn });
  return fn;
}

/** @param {unknown} err @returns {import('./pool-protocol.js').SerializedCause} */
function serializeCause(err) {
  if (err === undefined) return undefined;
  if (err instanceof Error) {
    const code = /** @type {{code?: unknown}} */ (err).code;
    return { name: err.name, message: err.message, stack: err.stack, code: typeof code === 'string' ? code : undefined };
  }
  return { name: typeof err, message: detail(err).slice(2) };
}

/** @param {unknown} err @returns {import('./pool-protocol.js').SerializedFailure} */
function serializeFailure(err) {
  if (err instanceof Failure) return { code: err.code, message: err.message, fields: err.fields, cause: serializeCause(err.cause) };
  return { code: 'HOOK_THREW', message: `failed${detail(err)}`, fields: {}, cause: serializeCause(err) };
}

/** JSON text of log arguments; what cannot be serialised is described instead. @param {unknown[]} args */
function logArgs(args) {
  try {
    return JSON.stringify(args, (_key, value) => (value instanceof Error ? { type: value.name, message: value.message, stack: value.stack } : value));
  } catch (err) {
    return JSON.stringify([{ logError: `the hook logged something that is not JSON-able${detail(err)}` }, String(args.at(-1))]);
  }
}

/** @type {readonly import('./pool-protocol.js').WorkerLogLevel[]} */
const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace'];

/** A pino-shaped logger whose lines are written by the connector's own logger. @param {number} id @param {Record<string, unknown>} bindings */
function hookLogger(id, bindings) {
  /** @type {Record<string, unknown>} */
  const logger = { level: 'trace', child: (/** @type {Record<string, unknown>} */ more) => hookLogger(id, { ...bindings, ...more }) };
  for (const level of LEVELS) logger[level] = (/** @type {unknown[]} */ ...args) => post({ t: 'log', id, level, bindings, args: logArgs(args) });
  return logger;
}

/** @param {import('./pool-protocol.js').WorkerRun} run */
async function execute(run) {
  const abort = new AbortController();
  running.set(run.id, abort);
  try {
    const fn = await handlerFor(run);
    // Given up on while its module was loading (its time limit, its call gone): never start it.
    if (abort.signal.aborted) throw new Failure(/** @type {any} */ (abort.signal.reason)?.code ?? 'HOOK_ABORTED', 'aborted before it started');
    if (run.loadOnly) {
      post({ t: 'done', id: run.id, ok: true, answer: undefined });
      return;
    }
    // From here on the hook's own code runs: were the thread lost now, running it again elsewhere could do its work twice.
    post({ t: 'started', id: run.id });
    const context = { hook: run.file.hook, signal: abort.signal, timeoutMs: run.timeoutMs, logger: hookLogger(run.id, { hook: run.file.hook }) };
    let answer;
    try {
      answer = await fn(JSON.parse(run.input), context);
    } catch (err) {
      throw new Failure('HOOK_THREW', `threw${detail(err)}`, err);
    }
    let text;
    try {
      text = answer === undefined ? undefined : JSON.stringify(answer);
    } catch (err) {
      throw new Failure('HOOK_BAD_SHAPE', 'the answer is not JSON-able', err, { path: '$' });
    }
    post({ t: 'done', id: run.id, ok: true, answer: text });
  } catch (err) {
    post({ t: 'done', id: run.id, ok: false, error: serializeFailure(err) });
  } finally {
    running.delete(run.id);
  }
}

port.on('message', (/** @type {import('./pool-protocol.js').WorkerIn} */ message) => {
  if (message.t === 'run') void execute(message);
  else if (message.t === 'abort') {
    // The reason a hook sees, as in-process: an Error whose code says why.
    running.get(message.id)?.abort(Object.assign(new Error(message.reason), { name: 'HookError', code: message.code, hook: message.hook }));
    post({ t: 'ack', id: message.id });
  } else post({ t: 'pong', seq: message.seq });
});

// A hook's stray timer or promise must not take its neighbours down with it.
process.on('uncaughtException', (err) => post({ t: 'log', id: 0, level: 'error', bindings: {}, args: logArgs([{ err }, 'a customization threw outside its call']) }));
process.on('unhandledRejection', (err) => post({ t: 'log', id: 0, level: 'error', bindings: {}, args: logArgs([{ err }, 'a customization left a promise rejection unhandled']) }));

post({ t: 'ready' });
