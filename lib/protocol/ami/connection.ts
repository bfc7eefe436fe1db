/**
 * One AMI TCP connection: our own framing on `node:net` — the parser in ./parser.ts,
 * the one the tests and benchmarks exercise, is the one that runs in production.
 *
 *   const conn = openAmiConnection({ host, port, username, secret, peerErrors });
 *   conn.on('connect', …).on('message'… )
 *
 * It pairs responses with their callbacks by ActionID and hands every event on as
 * `managerevent`; the session logic (login deadline, queueing, reconnects, list
 * actions) is in ./client.ts, one connection per attempt. A stream the parser
 * cannot frame (a message over 1 MiB, the sign of a peer that is not Asterisk) is
 * reported once per interval, without a stack, and the connection is dropped: the
 * client reconnects.
 */
import { EventEmitter } from 'node:events';
import net from 'node:net';
import type { PeerErrorLog } from '../../platform/log-throttle.js';
import type { AmiActionFields } from './encoder.js';
import { AmiParser, type RawAmiMessage } from './parser.js';

export type ResponseCallback = (err: RawAmiMessage | undefined, response: RawAmiMessage) => void;

/** What ./client.ts needs of a connection (tests may pass a factory of their own). */
export interface AmiConnection {
  on(event: 'managerevent', listener: (msg: RawAmiMessage) => void): this;
  on(event: 'close', listener: () => void): this;
  on(event: 'error', listener: (err: Error) => void): this;
  /** Open the TCP connection (no login); `callback` runs once connected. */
  connect(port: number, host: string, callback: () => void): void;
  /** Send Login with the connection's credentials; `err` is the error response. */
  login(callback: (err?: RawAmiMessage) => void): void;
  /** Send an action (its `actionid` field becomes the ActionID); returns the ActionID. */
  action(fields: Readonly<Record<string, unknown>>, callback: ResponseCallback): string;
  /** Forget the callback of an ActionID (its action was settled otherwise). */
  forget(actionId: string): void;
  /** Close the socket; `close` follows. Idempotent. */
  disconnect(): void;
}

export interface AmiConnectionOptions {
  username: string;
  secret: string;
  /** Where framing errors go (rate-limited). */
  peerErrors?: PeerErrorLog;
}

export type AmiConnectionFactory = (options: AmiConnectionOptions) => AmiConnection;

/** `Key: value` lines of one action; `{a: 1}` values become one `Key: a=1` line each (Variable). */
export function encodeAction(fields: Readonly<Record<string, unknown>>): string {
  let out = '';
  for (const [key, value] of Object.entries(fields)) {
    if (value === undefined) continue;
    const name = key.toLowerCase() === 'actionid' ? 'ActionID' : key;
    if (typeof value === 'object' && value !== null) {
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) out += `${name}: ${k}=${String(v)}\r\n`;
    } else out += `${name}: ${String(value)}\r\n`;
  }
  return `${out}\r\n`;
}

class Connection extends EventEmitter implements AmiConnection {
  readonly #options: AmiConnectionOptions;
  readonly #callbacks = new Map<string, ResponseCallback>();
  #socket: net.Socket | undefined;
  #seq = 0;
  #closed = false;

  constructor(options: AmiConnectionOptions) {
    super();
    this.#options = options;
  }

  connect(port: number, host: string, callback: () => void): void {
    const socket = net.connect({ port, host });
    this.#socket = socket;
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 30_000);
    const parser = new AmiParser({
      onMessage: (msg) => this.#onMessage(msg),
      onError: (err) => {
        this.#options.peerErrors?.report('AMI_MALFORMED', { remote: `${host}:${port}`, message: `${err.message}; the connection is dropped` });
        socket.destroy();
      },
    });
    socket.once('connect', callback);
    socket.on('data', (chunk: Buffer) => parser.push(chunk));
    socket.on('error', (err) => this.emit('error', err));
    socket.on('close', () => {
      parser.end();
      this.#closed = true;
      this.#callbacks.clear();
      this.emit('close');
    });
  }

  login(callback: (err?: RawAmiMessage) => void): void {
    const { username, secret } = this.#options;
    this.action({ action: 'Login', username, secret, events: 'on' }, (err) => callback(err));
  }

  action(fields: Readonly<Record<string, unknown>>, callback: ResponseCallback): string {
    const given = fields['actionid'];
    const id = typeof given === 'string' && given !== '' ? given : `conn-${++this.#seq}`;
    const { actionid: _drop, ...rest } = fields as AmiActionFields & { actionid?: unknown };
    if (this.#socket && !this.#closed) {
      this.#callbacks.set(id, callback);
      this.#socket.write(encodeAction({ ...rest, actionid: id }));
    }
    return id;
  }

  forget(actionId: string): void {
    this.#callbacks.delete(actionId);
  }

  disconnect(): void {
    const socket = this.#socket;
    if (!socket || socket.destroyed) return;
    socket.end();
    // Asterisk closes its side at once; do not wait for a peer that does not.
    setTimeout(() => socket.destroy(), 1000).unref();
  }

  #onMessage(msg: RawAmiMessage): void {
    const id = typeof msg['actionid'] === 'string' ? msg['actionid'] : undefined;
    if (msg['response'] !== undefined && msg['event'] === undefined) {
      const callback = id === undefined ? undefined : this.#callbacks.get(id);
      if (!callback || id === undefined) return;
      this.#callbacks.delete(id);
      const failed = typeof msg['response'] === 'string' && msg['response'].toLowerCase() === 'error';
      callback(failed ? msg : undefined, msg);
      return;
    }
    if (msg['event'] !== undefined) this.emit('managerevent', msg);
  }
}

export const openAmiConnection: AmiConnectionFactory = (options) => new Connection(options);
