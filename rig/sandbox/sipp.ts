// Runs SIPp (Debian package sip-tester) for the e2e tests: UAC calls from
// the trunk or from a phone, UAS phones that answer/busy/never answer.
// Spawned with an argument array (no shell); every run has a deadline.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freeUdpPort, waitUdpBound } from './ports.js';
import { packageRoot } from './repo.js';

const SCENARIO_DIR = path.join(packageRoot(), 'test', 'sipp');

/** Scenario files in test/sipp/ (or a path to your own XML). */
export type SippScenario =
  | 'uac' // call, talk -d ms, hang up; rejections end normally
  | 'uac-cancel' // call, wait for 180, wait -d ms, CANCEL
  | 'uac-wait-bye' // call, stay until the far end hangs up
  | 'uas-answer' // 180, ring -d ms, 200, wait for BYE
  | 'uas-answer-bye' // 180, ring -d ms, 200, talk 3 s, send BYE
  | 'uas-busy' // 486
  | 'uas-noanswer'; // 180 until CANCEL

export interface SippOptions {
  scenario: SippScenario | { file: string };
  localIp: string;
  localPort: number;
  /** UAC: Asterisk's host:port */
  remote?: string;
  /** UAC: the number dialled (-s) */
  service?: string;
  /** default pause in ms (-d): talk time (uac), ring time (uas-answer), time before CANCEL (uac-cancel) */
  durationMs?: number;
  /** -key values, e.g. { caller_num: '79991234567', caller_name: 'Client' } */
  keys?: Record<string, string>;
  /** number of calls (-m), default 1 */
  calls?: number;
  /** hard deadline, ms (default 30000); SIPp is killed after it */
  timeoutMs?: number;
  extraArgs?: string[];
}

export interface SipMessage {
  direction: 'received' | 'sent';
  /** first line, e.g. "INVITE sip:101@... SIP/2.0" or "SIP/2.0 200 OK" */
  startLine: string;
  method?: string;
  status?: number;
  headers: Record<string, string[]>;
  body: string;
  raw: string;
}

export interface SippResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  stdout: string;
  stderr: string;
  /** every SIP message SIPp received (from its -trace_msg file) */
  received: SipMessage[];
  sent: SipMessage[];
  /** UAC: final status of our INVITE (200, 486, 480, 487...) if any */
  finalStatus: number | null;
}

export interface SippRun {
  /** resolves once SIPp has bound its SIP port */
  ready: Promise<void>;
  done: Promise<SippResult>;
  kill(): void;
}

export function header(msg: SipMessage, name: string): string | undefined {
  return msg.headers[name.toLowerCase()]?.[0];
}

/** Display name of a From/To header value: `"Name" <sip:...>` → Name. */
export function displayName(value: string | undefined): string | undefined {
  if (!value) return undefined;
  const q = /^\s*"((?:[^"\\]|\\.)*)"/.exec(value);
  if (q) return q[1]!.replace(/\\(.)/g, '$1');
  const lt = value.indexOf('<');
  return lt > 0 ? value.slice(0, lt).trim() : '';
}

export function parseSipMessage(raw: string, direction: SipMessage['direction']): SipMessage {
  const text = raw.replace(/\r\n/g, '\n');
  const sep = text.indexOf('\n\n');
  const head = sep >= 0 ? text.slice(0, sep) : text;
  const body = sep >= 0 ? text.slice(sep + 2) : '';
  const lines = head.split('\n');
  const startLine = (lines.shift() ?? '').trim();
  const headers: Record<string, string[]> = {};
  for (const line of lines) {
    const i = line.indexOf(':');
    if (i <= 0) continue;
    const k = line.slice(0, i).trim().toLowerCase();
    (headers[k] ??= []).push(line.slice(i + 1).trim());
  }
  const m: SipMessage = { direction, startLine, headers, body, raw };
  const st = /^SIP\/2\.0\s+(\d{3})/.exec(startLine);
  if (st) m.status = Number(st[1]);
  else m.method = startLine.split(' ')[0];
  return m;
}

/** Parse SIPp's -trace_msg file. */
export function parseMessageTrace(text: string): SipMessage[] {
  const out: SipMessage[] = [];
  const blocks = text.split(/^-{20,}[^\n]*\n/m);
  for (const block of blocks) {
    const m = /^\s*(?:UDP|TCP|TLS|SCTP)\s+message\s+(received|sent)[^\n]*\n/i.exec(block);
    if (!m) continue;
    const raw = block.slice(m[0].length).replace(/^\s*\n/, '').replace(/\s+$/, '');
    if (raw) out.push(parseSipMessage(raw, m[1]!.toLowerCase() === 'sent' ? 'sent' : 'received'));
  }
  return out;
}

function scenarioArgs(s: SippOptions['scenario']): string[] {
  if (typeof s === 'object') return ['-sf', s.file];
  return ['-sf', path.join(SCENARIO_DIR, `${s}.xml`)];
}

/**
 * Start SIPp; see SippRun. Never throws synchronously for a failed call: read `done`.
 * A SIP port still held by another SIPp (EADDRINUSE: parallel test files share the phone
 * addresses, and a media port picked elsewhere can land on ours) is retried a few times.
 */
export async function startSipp(opts: SippOptions): Promise<SippRun> {
  let current = await startSippOnce(opts);
  let killed = false;
  const ready = (async () => {
    for (let attempt = 1; ; attempt++) {
      try {
        await current.ready;
        return;
      } catch (err) {
        const inUse = /errno = 98|Address already in use/.test(err instanceof Error ? err.message : String(err));
        if (killed || !inUse || attempt >= 6) throw err;
        await new Promise((r) => setTimeout(r, 200 * attempt));
        current = await startSippOnce(opts);
      }
    }
  })();
  ready.catch(() => undefined);
  const done = ready.then(
    () => current.done,
    () => current.done,
  );
  return {
    ready,
    done,
    kill: () => {
      killed = true;
      current.kill();
    },
  };
}

async function startSippOnce(opts: SippOptions): Promise<SippRun> {
  const work = mkdtempSync(path.join(os.tmpdir(), 'ka-sipp-'));
  const messageFile = path.join(work, 'messages.log');
  const timeoutMs = opts.timeoutMs ?? 30000;
  const mediaPort = await freeUdpPort([opts.localIp]);
  const args = [
    ...scenarioArgs(opts.scenario),
    '-i', opts.localIp,
    '-p', String(opts.localPort),
    '-mi', opts.localIp,
    '-mp', String(mediaPort),
    '-m', String(opts.calls ?? 1),
    '-l', '1',
    '-nostdin',
    '-trace_msg',
    '-message_file', messageFile,
    '-trace_err',
    '-error_file', path.join(work, 'errors.log'),
    '-timeout', `${Math.ceil(timeoutMs / 1000)}s`,
    '-timeout_error',
    '-recv_timeout', String(timeoutMs),
  ];
  if (opts.durationMs !== undefined) args.push('-d', String(opts.durationMs));
  if (opts.service !== undefined) args.push('-s', opts.service);
  const keys = { caller_num: 'sipp', caller_name: 'SIPp', ...opts.keys };
  for (const [k, v] of Object.entries(keys)) args.push('-key', k, v);
  args.push(...(opts.extraArgs ?? []));
  if (opts.remote) args.push(opts.remote);

  const child = spawn('sipp', args, { stdio: ['ignore', 'pipe', 'pipe'], cwd: work });
  let stdout = '';
  let stderr = '';
  // SIPp repaints its screen on stdout: keep only the tail.
  child.stdout.on('data', (b: Buffer) => (stdout = (stdout + b.toString('utf8')).slice(-20000)));
  child.stderr.on('data', (b: Buffer) => (stderr = (stderr + b.toString('utf8')).slice(-20000)));
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, timeoutMs + 5000);

  const done = new Promise<SippResult>((resolve) => {
    let spawnError = '';
    child.once('error', (err) => (spawnError = `spawn sipp: ${err.message}\n`));
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      let trace = '';
      let errors = '';
      try {
        trace = readFileSync(messageFile, 'utf8');
      } catch {
        /* no message was exchanged */
      }
      try {
        errors = readFileSync(path.join(work, 'errors.log'), 'utf8');
      } catch {
        /* no error file */
      }
      rmSync(work, { recursive: true, force: true });
      const all = parseMessageTrace(trace);
      const received = all.filter((m) => m.direction === 'received');
      const inviteFinals = received.filter(
        (m) => m.status !== undefined && m.status >= 200 && /\bINVITE\b/i.test(header(m, 'cseq') ?? ''),
      );
      resolve({
        code,
        signal,
        timedOut,
        stdout,
        stderr: spawnError + stderr + errors,
        received,
        sent: all.filter((m) => m.direction === 'sent'),
        finalStatus: inviteFinals.length ? inviteFinals[inviteFinals.length - 1]!.status! : null,
      });
    });
  });
  const ready = Promise.race([
    waitUdpBound(opts.localIp, opts.localPort, 5000),
    done.then((r) => {
      throw new Error(`sipp exited before it was ready (code ${String(r.code)}): ${r.stderr.slice(-2000)}`);
    }),
  ]);
  ready.catch(() => undefined);
  return { ready, done, kill: () => child.kill('SIGKILL') };
}

/** Start SIPp, wait until it is bound, and return its run handle. */
export async function sipp(opts: SippOptions): Promise<SippRun> {
  const run = await startSipp(opts);
  await run.ready;
  return run;
}
