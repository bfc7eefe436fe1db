/**
 * Malformed FastAGI sessions, for the log-flood test and benchmark: five kinds, by
 * `i % 5` — random bytes, a 200 KB line, a malformed environment line, a reply with no
 * command in flight, a header without its blank line. Resolves when the connection closed.
 */
import net from 'node:net';
import { randomBytes } from 'node:crypto';

const ENV = 'agi_network: yes\nagi_network_script: autodistribution\nagi_request: agi://127.0.0.1/autodistribution\nagi_channel: PJSIP/trunk-1\nagi_uniqueid: 1.1\nagi_callerid: 79161234567\n\n';
const BIG = `agi_network: yes\n${'x'.repeat(200 * 1024)}\n`;

export function malformedAgiSession(port: number, i: number, host = '127.0.0.1'): Promise<void> {
  return new Promise((resolve) => {
    const s = net.connect(port, host);
    s.on('error', () => resolve());
    s.on('close', () => resolve());
    s.on('connect', () => {
      const kind = i % 5;
      if (kind === 0) s.end(randomBytes(200));
      else if (kind === 1) s.end(BIG);
      else if (kind === 2) s.end('agi_network: yes\nthis is not an env line\n\n');
      else if (kind === 3) s.write(`${ENV}200 result=1\n`);
      else s.end('agi_network: yes\nagi_request: agi://x/autodistribution\n');
    });
  });
}
