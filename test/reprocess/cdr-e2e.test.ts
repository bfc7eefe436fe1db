// End-to-end re-processing: a real Asterisk 22 writes kommo-cdr.csv with the
// shipped dialplan/cdr_custom.conf.sample; a call is made while no connector
// listens; `reprocess` recovers it once, and a second run submits nothing.
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { pino } from 'pino';
import type { CallFull } from '../../lib/domain/call/types.js';
import { openCallStore } from '../../lib/domain/registration/store.js';
import { reprocess } from '../../lib/domain/reprocess/index.js';
import { asteriskRootProblem, startAsterisk } from '../../rig/sandbox/asterisk.js';
import { sipp, startSipp } from '../../rig/sandbox/sipp.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const problem = asteriskRootProblem();
if (problem) {
  // npm test builds the root first (pretest): a missing root is a failure, never a skip.
  t.fail(`real Asterisk unavailable: ${problem}`);
} else {
  t.test('a call made while the connector was down is recovered from the CDR file', async (t) => {
    const logger = pino({ level: 'silent' });
    const ast = await startAsterisk({ dialTimeout: 5 });
    t.teardown(() => ast.stop());
    mkdirSync(path.join(ast.hostDir, 'log', 'cdr-custom'), { recursive: true });
    copyFileSync(path.join(REPO, 'dialplan', 'cdr_custom.conf.sample'), path.join(ast.hostDir, 'etc', 'cdr_custom.conf'));
    t.match(await ast.cli('module load cdr_custom.so'), /Loaded cdr_custom\.so/);

    const started = Date.now();
    const phone = await sipp({ scenario: 'uas-answer', localIp: ast.phones['101']!, localPort: ast.phonePort, durationMs: 300, timeoutMs: 20000 });
    const trunk = await startSipp({
      scenario: 'uac', localIp: ast.trunkIp, localPort: ast.trunkPort, remote: `${ast.sipHost}:${ast.sipPort}`,
      service: '201', durationMs: 1000, keys: { caller_num: '79991234567', caller_name: 'Иван Петров' }, timeoutMs: 20000,
    });
    const [caller] = await Promise.all([trunk.done, phone.done]);
    t.equal(caller.finalStatus, 200, 'the call was answered');

    const source = path.join(ast.hostDir, 'log', 'cdr-custom', 'kommo-cdr.csv');
    for (let i = 0; i < 50 && !existsSync(source); i++) await new Promise((r) => setTimeout(r, 100));
    t.ok(existsSync(source), 'Asterisk wrote kommo-cdr.csv');

    const dataDir = await mkdtemp(path.join(tmpdir(), 'ka-reproc-e2e-'));
    t.teardown(() => rm(dataDir, { recursive: true, force: true }));
    const store = await openCallStore({ dataDir, logger });
    t.teardown(() => store.close());
    const submitted: CallFull[] = [];
    const registrar = { submit: async (c: CallFull) => void (submitted.push(c), await store.put(c)) };
    const pbx = { extensions: { '101': 5001 }, trunks: ['trunk'], extension_pattern: '^[0-9]{2,5}$' };

    const s1 = await reprocess({ from: started - 60_000, to: Date.now() + 60_000, source, registrar, store, pbx, logger });
    t.match(s1, { found: 1, submitted: 1, unparseable: 0 });
    const call = submitted[0]!;
    t.equal(call.channel.type, 'incoming');
    t.same(call.channel.from, { number: '79991234567', name: 'Иван Петров' });
    t.equal(call.result, 200);
    const conv = Object.values(call.conversations)[0];
    t.equal(conv?.user?.id, 5001);
    t.equal(conv?.channel.was_answered, true);
    t.ok((await store.get(call.channel.id))?.status === 'pending', 'stored in the journal');

    const s2 = await reprocess({ from: started - 60_000, to: Date.now() + 60_000, source, registrar, store, pbx, logger });
    t.match(s2, { found: 1, submitted: 0, already: { pending: 1 } });
    t.equal(submitted.length, 1, 'never submitted twice');
  });
}
