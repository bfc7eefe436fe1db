// Free-port helpers for the end-to-end tests (tap runs test files in
// parallel, so every Asterisk/SIPp instance gets its own ports).
import dgram from 'node:dgram';
import net from 'node:net';

function bindUdp(address: string, port: number): Promise<dgram.Socket | null> {
  return new Promise((resolve) => {
    const s = dgram.createSocket('udp4');
    s.once('error', () => {
      s.close();
      resolve(null);
    });
    s.bind(port, address, () => resolve(s));
  });
}

function closeUdp(s: dgram.Socket): Promise<void> {
  return new Promise((resolve) => s.close(() => resolve()));
}

/** A UDP port that is free on every one of `addresses` right now. */
export async function freeUdpPort(addresses: string[], tries = 50): Promise<number> {
  for (let i = 0; i < tries; i++) {
    // Stay below the RTP range Asterisk uses by default (10000-20000) and
    // above the well-known SIP ports.
    const port = 21000 + Math.floor(Math.random() * 20000);
    const held: dgram.Socket[] = [];
    let ok = true;
    for (const a of addresses) {
      const s = await bindUdp(a, port);
      if (!s) {
        ok = false;
        break;
      }
      held.push(s);
    }
    await Promise.all(held.map(closeUdp));
    if (ok) return port;
  }
  throw new Error(`no free UDP port on ${addresses.join(', ')}`);
}

/** A TCP port that is free on `address` right now. */
export function freeTcpPort(address = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, address, () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** Resolve once something is bound to UDP address:port (the bind fails). */
export async function waitUdpBound(address: string, port: number, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const s = await bindUdp(address, port);
    if (!s) return;
    await closeUdp(s);
    if (Date.now() > deadline) throw new Error(`nothing bound to udp ${address}:${port} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
