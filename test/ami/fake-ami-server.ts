// A fake Asterisk Manager over real TCP (port 0) for the adapter's component
// tests. It parses actions with our own parser and answers like Asterisk 22.
import net from 'node:net';
import { AmiParser, type RawAmiMessage } from '../../lib/protocol/ami/parser.js';

export type Reply = Record<string, string>;
export type Handler = (action: RawAmiMessage, conn: FakeConn) => Reply | Reply[] | null | void;

export interface FakeConn {
  socket: net.Socket;
  loggedIn: boolean;
  send(fields: Reply): void;
}

export interface FakeAmiOptions {
  username?: string;
  secret?: string;
  /** Never answer the Login. */
  silentLogin?: boolean;
  /** Live channels returned by CoreShowChannels. */
  channels?: Reply[];
  handlers?: Record<string, Handler>;
}

export function encode(fields: Reply): string {
  let out = '';
  for (const [k, v] of Object.entries(fields)) out += `${k}: ${v}\r\n`;
  return out + '\r\n';
}

export class FakeAmi {
  readonly server: net.Server;
  readonly conns = new Set<FakeConn>();
  readonly actions: RawAmiMessage[] = [];
  connections = 0;
  port = 0;
  constructor(readonly opts: FakeAmiOptions = {}) {
    this.server = net.createServer((socket) => this.accept(socket));
  }

  async listen(port = 0): Promise<number> {
    await new Promise<void>((resolve) => this.server.listen(port, '127.0.0.1', resolve));
    const addr = this.server.address();
    this.port = typeof addr === 'object' && addr ? addr.port : 0;
    return this.port;
  }

  /** Actions received with this name (case-insensitive). */
  received(name: string): RawAmiMessage[] {
    return this.actions.filter((a) => String(a['action']).toLowerCase() === name.toLowerCase());
  }

  /** Send an event to every logged-in connection. */
  broadcast(fields: Reply): void {
    for (const c of this.conns) if (c.loggedIn) c.send(fields);
  }

  /** Drop every connection (as a crash or restart of Asterisk would). */
  dropAll(): void {
    for (const c of this.conns) c.socket.destroy();
  }

  async close(): Promise<void> {
    this.dropAll();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(socket: net.Socket): void {
    this.connections++;
    socket.setNoDelay(true);
    const conn: FakeConn = {
      socket,
      loggedIn: false,
      send: (fields) => {
        if (!socket.destroyed) socket.write(encode(fields));
      },
    };
    this.conns.add(conn);
    socket.on('close', () => this.conns.delete(conn));
    socket.on('error', () => {});
    const parser = new AmiParser({ onMessage: (m) => this.onAction(m, conn) });
    socket.on('data', (d) => parser.push(d));
    socket.write('Asterisk Call Manager/9.0.0\r\n');
  }

  private onAction(action: RawAmiMessage, conn: FakeConn): void {
    this.actions.push(action);
    const name = String(action['action'] ?? '').toLowerCase();
    const actionId = String(action['actionid'] ?? '');
    const withId = (r: Reply): Reply => (actionId ? { ...r, ActionID: actionId } : r);
    const custom = this.opts.handlers?.[name];
    if (custom) {
      const out = custom(action, conn);
      if (out) for (const r of Array.isArray(out) ? out : [out]) conn.send(withId(r));
      return;
    }
    if (name === 'login') {
      if (this.opts.silentLogin) return;
      const ok =
        action['username'] === (this.opts.username ?? 'kommo') && action['secret'] === (this.opts.secret ?? 'sesame');
      if (ok) {
        conn.loggedIn = true;
        conn.send(withId({ Response: 'Success', Message: 'Authentication accepted' }));
      } else {
        conn.send(withId({ Response: 'Error', Message: 'Authentication failed' }));
        setTimeout(() => conn.socket.end(), 5);
      }
      return;
    }
    if (!conn.loggedIn) {
      conn.send(withId({ Response: 'Error', Message: 'Permission denied' }));
      return;
    }
    if (name === 'coreshowchannels') {
      const channels = this.opts.channels ?? [];
      conn.send(withId({ Response: 'Success', EventList: 'start', Message: 'Channels will follow' }));
      for (const ch of channels) conn.send(withId({ Event: 'CoreShowChannel', ...ch }));
      conn.send(
        withId({ Event: 'CoreShowChannelsComplete', EventList: 'Complete', ListItems: String(channels.length) }),
      );
      return;
    }
    if (name === 'ping') {
      conn.send(withId({ Response: 'Success', Ping: 'Pong', Timestamp: '1700000000.000000' }));
      return;
    }
    if (name === 'originate') {
      conn.send(withId({ Response: 'Success', Message: 'Originate successfully queued' }));
      return;
    }
    if (name === 'silent') return;
    conn.send(withId({ Response: 'Error', Message: 'Invalid/unknown command' }));
  }
}
