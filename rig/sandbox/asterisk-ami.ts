// A deliberately small AMI client for the end-to-end tests and the fixture
// recorder. It is NOT the product's AMI layer: it keeps every message raw
// (original key case, key order, repeated keys) so tests and fixtures see
// exactly what Asterisk sent.
import net from 'node:net';
import { EventEmitter } from 'node:events';

/** One AMI message: keys in Asterisk's own case and order; a repeated key
 * (e.g. `Variable`, `ChanVariable`) becomes an array of its values. */
export type AmiMessage = Record<string, string | string[]>;

export interface AmiTestClientOptions {
  host?: string;
  port: number;
  username: string;
  secret: string;
  /** deadline for connect + login, ms (default 5000) */
  timeoutMs?: number;
  /** Events header at login (default 'on') */
  events?: 'on' | 'off';
}

/** Parse one raw block (lines without the terminating blank line). */
export function parseAmiBlock(block: string): AmiMessage {
  const msg: AmiMessage = {};
  for (const line of block.split('\r\n')) {
    if (line === '') continue;
    const i = line.indexOf(':');
    if (i < 0) continue;
    const key = line.slice(0, i);
    const value = line.slice(i + 1).replace(/^ /, '');
    const prev = msg[key];
    if (prev === undefined) msg[key] = value;
    else if (Array.isArray(prev)) prev.push(value);
    else msg[key] = [prev, value];
  }
  return msg;
}

export function field(msg: AmiMessage, key: string): string | undefined {
  const v = msg[key];
  return Array.isArray(v) ? v[0] : v;
}

function encodeAction(fields: Record<string, string | number | string[]>): string {
  let out = '';
  for (const [k, v] of Object.entries(fields)) {
    for (const one of Array.isArray(v) ? v : [v]) {
      const s = String(one);
      if (/[\r\n]/.test(s) || /[\r\n:]/.test(k)) throw new Error(`AMI field ${k} contains CR/LF`);
      out += `${k}: ${s}\r\n`;
    }
  }
  return out + '\r\n';
}

/**
 * Connects, logs in, and emits every message:
 *  'event'   (msg: AmiMessage, raw: string)
 *  'message' (msg, raw)  — events and responses alike
 *  'close'
 */
export class AmiTestClient extends EventEmitter {
  private socket: net.Socket | null = null;
  private buf = '';
  private seq = 0;
  private readonly pending = new Map<
    string,
    { resolve: (m: AmiMessage[]) => void; reject: (e: Error) => void; list: AmiMessage[]; timer: NodeJS.Timeout; isList: boolean }
  >();
  banner = '';

  constructor(private readonly opts: AmiTestClientOptions) {
    super();
  }

  async connect(): Promise<void> {
    const timeoutMs = this.opts.timeoutMs ?? 5000;
    const socket = net.connect({ host: this.opts.host ?? '127.0.0.1', port: this.opts.port });
    this.socket = socket;
    socket.setEncoding('utf8');
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`AMI connect timeout after ${timeoutMs} ms`));
      }, timeoutMs);
      const onError = (err: Error): void => {
        clearTimeout(timer);
        reject(err);
      };
      socket.once('error', onError);
      socket.once('data', (chunk: string) => {
        clearTimeout(timer);
        socket.off('error', onError);
        const nl = chunk.indexOf('\r\n');
        this.banner = nl >= 0 ? chunk.slice(0, nl) : chunk;
        this.buf = nl >= 0 ? chunk.slice(nl + 2) : '';
        resolve();
      });
    });
    socket.on('data', (chunk: string) => this.onData(chunk));
    socket.on('error', (err) => this.failAll(err));
    socket.on('close', () => {
      this.failAll(new Error('AMI connection closed'));
      this.emit('close');
    });
    const [res] = await this.action(
      { Action: 'Login', Username: this.opts.username, Secret: this.opts.secret, Events: this.opts.events ?? 'on' },
      timeoutMs,
    );
    if (!res || field(res, 'Response') !== 'Success') {
      this.close();
      throw new Error(`AMI login failed: ${res ? field(res, 'Message') : 'no response'}`);
    }
  }

  private onData(chunk: string): void {
    this.buf += chunk;
    let end: number;
    while ((end = this.buf.indexOf('\r\n\r\n')) >= 0) {
      const raw = this.buf.slice(0, end);
      this.buf = this.buf.slice(end + 4);
      const msg = parseAmiBlock(raw);
      this.emit('message', msg, raw);
      if (msg.Event !== undefined) this.emit('event', msg, raw);
      const id = field(msg, 'ActionID');
      const p = id !== undefined ? this.pending.get(id) : undefined;
      if (!p) continue;
      p.list.push(msg);
      const finished = p.isList
        ? field(msg, 'EventList') === 'Complete' || field(msg, 'Response') === 'Error'
        : msg.Response !== undefined;
      if (finished) {
        clearTimeout(p.timer);
        this.pending.delete(id!);
        p.resolve(p.list);
      }
    }
  }

  private failAll(err: Error): void {
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      this.pending.delete(id);
      p.reject(err);
    }
  }

  /** Send an action; resolve with the response (and, for list actions, every item up to EventList: Complete). */
  action(
    fields: Record<string, string | number | string[]>,
    timeoutMs = 5000,
    opts: { list?: boolean } = {},
  ): Promise<AmiMessage[]> {
    const socket = this.socket;
    if (!socket || socket.destroyed) return Promise.reject(new Error('AMI not connected'));
    const id = `t${++this.seq}`;
    return new Promise<AmiMessage[]>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`AMI action ${String(fields.Action)} timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, list: [], timer, isList: opts.list === true });
      socket.write(encodeAction({ ...fields, ActionID: id }));
    });
  }

  /** Resolve with the first event matching pred (checked from now on). */
  waitForEvent(pred: (m: AmiMessage) => boolean, timeoutMs = 10000, what = 'event'): Promise<AmiMessage> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.off('event', onEvent);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for AMI ${what}`));
      }, timeoutMs);
      const onEvent = (m: AmiMessage): void => {
        if (!pred(m)) return;
        clearTimeout(timer);
        this.off('event', onEvent);
        resolve(m);
      };
      this.on('event', onEvent);
    });
  }

  close(): void {
    const s = this.socket;
    this.socket = null;
    if (s && !s.destroyed) {
      try {
        s.end('Action: Logoff\r\n\r\n');
      } catch {
        /* socket already gone: nothing to log off */
      }
      s.destroy();
    }
  }
}
