/**
 * A minimal FastAGI client that plays Asterisk's side of one session: sends
 * the environment block, answers every command with `200 result=1`, records
 * the variables set, and resolves when the server closes the connection.
 * Used by the AGI benchmark and by component tests.
 */
import net from 'node:net';

export interface AgiSessionResult {
  variables: Record<string, string>;
  commands: string[];
  /** From connect to the server closing the connection. */
  elapsedMs: number;
  /** From connect to the last variable (KOMMO_STATUS) being set. */
  answerMs: number;
}

export interface AgiClientOptions {
  host: string;
  port: number;
  script?: string;
  callerId: string;
  callerIdName?: string;
  uniqueId?: string;
  channel?: string;
  timeoutMs?: number;
}

/** Parse `SET VARIABLE "NAME" "value"` with AGI quoting. */
export function parseSetVariable(line: string): [string, string] | null {
  const m = /^SET VARIABLE\s+(.*)$/.exec(line);
  if (!m?.[1]) return null;
  const args: string[] = [];
  const s = m[1];
  let i = 0;
  while (i < s.length) {
    while (s[i] === ' ') i++;
    if (i >= s.length) break;
    let out = '';
    if (s[i] === '"') {
      i++;
      while (i < s.length && s[i] !== '"') {
        if (s[i] === '\\' && i + 1 < s.length) i++;
        out += s[i];
        i++;
      }
      i++;
    } else {
      while (i < s.length && s[i] !== ' ') out += s[i++];
    }
    args.push(out);
  }
  return args.length >= 2 ? [args[0]!, args[1]!] : null;
}

export function runAgiSession(opts: AgiClientOptions): Promise<AgiSessionResult> {
  const started = process.hrtime.bigint();
  const ms = () => Number(process.hrtime.bigint() - started) / 1e6;
  return new Promise((resolve, reject) => {
    const socket = net.connect(opts.port, opts.host);
    socket.setNoDelay(true);
    const variables: Record<string, string> = {};
    const commands: string[] = [];
    let answerMs = -1;
    let buffer = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`AGI session timed out after ${opts.timeoutMs ?? 10_000} ms`));
    }, opts.timeoutMs ?? 10_000);
    socket.setEncoding('utf8');
    socket.on('connect', () => {
      const script = opts.script ?? 'autodistribution';
      const env = [
        'agi_network: yes',
        `agi_network_script: ${script}`,
        `agi_request: agi://${opts.host}:${opts.port}/${script}`,
        `agi_channel: ${opts.channel ?? 'PJSIP/trunk-00000001'}`,
        'agi_language: en',
        'agi_type: PJSIP',
        `agi_uniqueid: ${opts.uniqueId ?? '1700000000.1'}`,
        'agi_version: 22.10.1',
        `agi_callerid: ${opts.callerId}`,
        `agi_calleridname: ${opts.callerIdName ?? 'unknown'}`,
        'agi_callingpres: 0',
        'agi_dnid: 200',
        'agi_rdnis: unknown',
        'agi_context: from-trunk',
        'agi_extension: 200',
        'agi_priority: 2',
        'agi_enhanced: 0.0',
        'agi_accountcode: ',
        'agi_threadid: 140000000000000',
      ];
      socket.write(`${env.join('\n')}\n\n`);
    });
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      let nl: number;
      while ((nl = buffer.indexOf('\n')) !== -1) {
        const line = buffer.slice(0, nl).replace(/\r$/, '');
        buffer = buffer.slice(nl + 1);
        if (!line) continue;
        commands.push(line);
        const kv = parseSetVariable(line);
        if (kv) {
          variables[kv[0]] = kv[1];
          if (kv[0] === 'KOMMO_STATUS') answerMs = ms();
        }
        socket.write('200 result=1\n');
      }
    });
    socket.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ variables, commands, elapsedMs: ms(), answerMs });
    });
  });
}
