// Starts a real Asterisk 22 (chrooted into the Debian sid root built by
// scripts/asterisk-root.sh) with a freshly generated configuration, for the
// end-to-end tests. One instance per call; every port is picked free, so
// test files may run in parallel.
import { spawn, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync, mkdtempSync, copyFileSync } from 'node:fs';
import path from 'node:path';
import { asteriskConfig } from './asterisk-config.js';
import { AmiTestClient } from './asterisk-ami.js';
import { freeTcpPort, freeUdpPort } from './ports.js';
import { packageRoot } from './repo.js';

export const DEFAULT_ASTERISK_ROOT = '/var/cache/kommo-asterisk/sid-root';
export const ROOT_MARKER = '.kommo-asterisk-root-ready';
const REPO = packageRoot();

export const TRUNK_IP = '127.0.0.2';
/** The second trunk (`flavour: 'freepbx'`): where outbound calls and Follow-Me's mobile legs go. */
export const TRUNK2_IP = '127.0.0.6';
export const PHONES: Readonly<Record<string, string>> = Object.freeze({
  '101': '127.0.0.3',
  '102': '127.0.0.4',
  '103': '127.0.0.5',
});

export interface StartAsteriskOptions {
  /** the sid root (default env KA_ASTERISK_ROOT or /var/cache/kommo-asterisk/sid-root) */
  root?: string;
  /** extra [globals], e.g. { KOMMO_AGI_PORT: '4573', KOMMO_FALLBACK: 'test-fallback,s,1' } */
  globals?: Record<string, string>;
  /** extra dialplan appended to extensions.conf */
  extraDialplan?: string;
  /** the product dialplan dir to copy and #include (default <repo>/dialplan) */
  dialplanDir?: string;
  /** Dial() timeout of the test glue, seconds (default 20) */
  dialTimeout?: number;
  /** Queue() timeout of 203, seconds (default 20) */
  queueTimeout?: number;
  /** per-member ring time in the queue, seconds (default 15) */
  queueMemberTimeout?: number;
  /** seconds the IVR (204) waits for a digit (default 5) */
  ivrWait?: number;
  /** start timeout, ms (default 30000) */
  startTimeoutMs?: number;
  /** keep the generated dir after stop() (default: only when env KA_KEEP_ASTERISK=1) */
  keepDir?: boolean;
  /** configuration files to write instead of the generated ones, e.g. { 'features.conf': '[general]\n' } */
  files?: Record<string, string>;
  /** `freepbx`: FreePBX-shaped dialplan (rig/sandbox/freepbx-dialplan.ts) and a second trunk `trunk2` */
  flavour?: 'plain' | 'freepbx';
}

export interface AsteriskInstance {
  root: string;
  /** config dir as a host path, and as Asterisk sees it inside the chroot */
  hostDir: string;
  chrootDir: string;
  /** where the test glue's MixMonitor writes (host path) */
  recordingsDir: string;
  amiHost: string;
  amiPort: number;
  amiUser: string;
  amiSecret: string;
  sipHost: string;
  sipPort: number;
  trunkIp: string;
  trunkPort: number;
  /** the second trunk (flavour freepbx), else undefined */
  trunk2?: { ip: string; port: number };
  /** where Asterisk's own monitor directory (spool/monitor) is, as a host path */
  monitorDir: string;
  phones: Readonly<Record<string, string>>;
  phonePort: number;
  pid: number;
  /** stdout+stderr of the asterisk process so far */
  logs(): string;
  /** messages.log (notice, warning, error, verbose 3) so far */
  messages(): string;
  /** run a CLI command (asterisk -rx) and return its output */
  cli(cmd: string, timeoutMs?: number): Promise<string>;
  /** a logged-in raw AMI client (Events: on unless told) */
  ami(events?: 'on' | 'off'): Promise<AmiTestClient>;
  /** map a path inside the chroot to the host path */
  hostPath(chrootPath: string): string;
  stop(): Promise<void>;
}

const running = new Set<ChildProcess>();
let safetyNetInstalled = false;

function installSafetyNet(): void {
  if (safetyNetInstalled) return;
  safetyNetInstalled = true;
  const killAll = (): void => {
    for (const child of running) {
      try {
        child.kill('SIGKILL');
      } catch {
        /* already gone */
      }
    }
    running.clear();
  };
  process.on('exit', killAll);
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      killAll();
      process.kill(process.pid, sig);
    });
  }
}

export function asteriskRoot(root?: string): string {
  return root ?? process.env.KA_ASTERISK_ROOT ?? DEFAULT_ASTERISK_ROOT;
}

/** null when the root is usable, else why not. */
export function asteriskRootProblem(root = asteriskRoot()): string | null {
  if (!existsSync(path.join(root, ROOT_MARKER)) || !existsSync(path.join(root, 'usr/sbin/asterisk'))) {
    return `no Asterisk root at ${root} (missing ${ROOT_MARKER}): run scripts/asterisk-root.sh as root`;
  }
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    return `the e2e tests chroot into ${root} and must run as root`;
  }
  return null;
}

function moduleDir(root: string): string {
  const lib = path.join(root, 'usr/lib');
  for (const d of readdirSync(lib)) {
    const p = path.join(lib, d, 'asterisk/modules');
    if (existsSync(p)) return `/usr/lib/${d}/asterisk/modules`;
  }
  if (existsSync(path.join(lib, 'asterisk/modules'))) return '/usr/lib/asterisk/modules';
  throw new Error(`no asterisk modules dir under ${lib}`);
}

function run(cmd: string, args: string[], timeoutMs: number): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString('utf8')));
    child.stderr.on('data', (b: Buffer) => (out += b.toString('utf8')));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${cmd} ${args.join(' ')} timed out after ${timeoutMs} ms`));
    }, timeoutMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}

async function ensureProc(root: string): Promise<void> {
  if (existsSync(path.join(root, 'proc/self'))) return;
  const r = await run('mount', ['-t', 'proc', 'proc', path.join(root, 'proc')], 5000);
  if (r.code !== 0) throw new Error(`mount proc in ${root} failed: ${r.out}`);
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function startAsterisk(opts: StartAsteriskOptions = {}): Promise<AsteriskInstance> {
  const root = asteriskRoot(opts.root);
  const problem = asteriskRootProblem(root);
  if (problem) throw new Error(problem);
  await ensureProc(root);
  installSafetyNet();

  mkdirSync(path.join(root, 'tmp'), { recursive: true, mode: 0o1777 });
  // On a real system the monitor directory belongs to the user Asterisk runs as, so the
  // bundled dialplan's default KOMMO_RECORDINGS_DIR (monitor/kommo) can be created by
  // MixMonitor. Here Asterisk runs as root (without CAP_DAC_OVERRIDE): give root the
  // ownership the asterisk user has on a stock install.
  try {
    for (const dir of ['var/spool/asterisk', 'var/spool/asterisk/monitor']) chownSync(path.join(root, dir), 0, 0);
  } catch {
    // no such directory in this root: the default recordings directory is not used
  }
  const hostDir = mkdtempSync(path.join(root, 'tmp', 'ka-test-'));
  const chrootDir = '/' + path.relative(root, hostDir);
  for (const sub of ['etc', 'db', 'keys/keys', 'spool', 'spool/monitor', 'run', 'log', 'cache', 'recordings']) {
    mkdirSync(path.join(hostDir, sub), { recursive: true });
  }

  const amiPort = await freeTcpPort('127.0.0.1');
  const sipPort = await freeUdpPort(['127.0.0.1']);
  const trunkPort = await freeUdpPort([TRUNK_IP]);
  const phonePort = await freeUdpPort(Object.values(PHONES));
  const trunk2 = opts.flavour === 'freepbx' ? { ip: TRUNK2_IP, port: await freeUdpPort([TRUNK2_IP]) } : undefined;
  const amiUser = 'kommo-test';
  const amiSecret = `s${Math.random().toString(36).slice(2, 12)}`;

  const dialplanDir = opts.dialplanDir ?? path.join(REPO, 'dialplan');
  const dialplanFiles = readdirSync(dialplanDir).filter((f) => f.endsWith('.conf')).sort();
  for (const f of dialplanFiles) copyFileSync(path.join(dialplanDir, f), path.join(hostDir, 'etc', f));

  const globals: Record<string, string> = {
    KOMMO_AGI_HOST: '127.0.0.1',
    KOMMO_AGI_PORT: '4573',
    KOMMO_FALLBACK: 'test-fallback,s,1',
    KOMMO_RECORDINGS_DIR: `${chrootDir}/recordings`,
    TEST_DIAL_TIMEOUT: String(opts.dialTimeout ?? 20),
    TEST_QUEUE_TIMEOUT: String(opts.queueTimeout ?? 20),
    TEST_IVR_WAIT: String(opts.ivrWait ?? 5),
    ...opts.globals,
  };
  const files = asteriskConfig({
    dir: chrootDir,
    moduleDir: moduleDir(root),
    sipPort,
    amiPort,
    amiUser,
    amiSecret,
    trunkIp: TRUNK_IP,
    trunkPort,
    phones: PHONES,
    phonePort,
    dialplanFiles,
    globals,
    extraDialplan: opts.extraDialplan ?? '',
    queueMemberTimeout: opts.queueMemberTimeout ?? 15,
    ...(opts.flavour ? { flavour: opts.flavour } : {}),
    ...(trunk2 ? { trunk2 } : {}),
  });
  for (const [name, text] of Object.entries({ ...files, ...opts.files })) {
    writeFileSync(path.join(hostDir, name === 'asterisk.conf' ? name : path.join('etc', name)), text);
  }
  const confPath = `${chrootDir}/asterisk.conf`;

  let output = '';
  const child = spawn('chroot', [root, '/usr/sbin/asterisk', '-C', confPath, '-f', '-n', '-q'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  let exited: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  const exitPromise = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exited = { code, signal };
      running.delete(child);
      resolve();
    });
  });
  child.stdout.on('data', (b: Buffer) => (output += b.toString('utf8')));
  child.stderr.on('data', (b: Buffer) => (output += b.toString('utf8')));
  child.once('error', (err) => (output += `\nspawn error: ${err.message}\n`));

  const cli = async (cmd: string, timeoutMs = 10000): Promise<string> => {
    const r = await run('chroot', [root, '/usr/sbin/asterisk', '-C', confPath, '-rx', cmd], timeoutMs);
    if (r.code !== 0) throw new Error(`asterisk -rx '${cmd}' exited ${String(r.code)}: ${r.out}`);
    return r.out;
  };

  const messages = (): string => {
    try {
      return readFileSync(path.join(hostDir, 'log', 'messages.log'), 'utf8');
    } catch {
      return '';
    }
  };

  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    if (!exited) {
      try {
        await cli('core stop now', 5000);
      } catch {
        /* not answering: killed below */
      }
      await Promise.race([exitPromise, sleep(5000)]);
    }
    if (!exited) {
      child.kill('SIGKILL');
      await Promise.race([exitPromise, sleep(2000)]);
    }
    running.delete(child);
    if (!(opts.keepDir ?? process.env.KA_KEEP_ASTERISK === '1')) {
      rmSync(hostDir, { recursive: true, force: true });
    }
  };

  const instance: AsteriskInstance = {
    root,
    hostDir,
    chrootDir,
    recordingsDir: path.join(hostDir, 'recordings'),
    amiHost: '127.0.0.1',
    amiPort,
    amiUser,
    amiSecret,
    sipHost: '127.0.0.1',
    sipPort,
    trunkIp: TRUNK_IP,
    trunkPort,
    ...(trunk2 ? { trunk2 } : {}),
    monitorDir: path.join(hostDir, 'spool', 'monitor'),
    phones: PHONES,
    phonePort,
    pid: child.pid ?? -1,
    logs: () => output,
    messages,
    cli,
    hostPath: (p: string) => path.join(root, p),
    ami: async (events: 'on' | 'off' = 'on') => {
      const c = new AmiTestClient({ port: amiPort, username: amiUser, secret: amiSecret, events });
      await c.connect();
      return c;
    },
    stop,
  };

  // Wait for: fully booted, AMI login, PJSIP endpoints loaded.
  const deadline = Date.now() + (opts.startTimeoutMs ?? 30000);
  let lastError = '';
  try {
    for (;;) {
      if (exited) {
        throw new Error(`asterisk exited during start (${JSON.stringify(exited)}) — root ${root}`);
      }
      if (Date.now() > deadline) throw new Error(`asterisk not ready after ${opts.startTimeoutMs ?? 30000} ms: ${lastError}`);
      try {
        await cli('core waitfullybooted', 5000);
        const eps = await cli('pjsip show endpoints', 5000);
        if (!/Endpoint:\s+trunk\b/.test(eps)) throw new Error(`trunk endpoint not loaded: ${eps.slice(0, 500)}`);
        const c = await instance.ami('off');
        c.close();
        break;
      } catch (err) {
        lastError = err instanceof Error ? err.message : String(err);
        await sleep(200);
      }
    }
  } catch (err) {
    const tail = `${output.slice(-2000)}\n${messages().slice(-3000)}`;
    await stop();
    throw new Error(`${err instanceof Error ? err.message : String(err)}\n--- asterisk output ---\n${tail}`);
  }
  return instance;
}
