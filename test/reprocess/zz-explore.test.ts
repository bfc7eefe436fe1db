import t from 'tap';
import { copyFileSync, readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { startAsterisk } from '../helpers/asterisk.js';
import { sipp, startSipp } from '../helpers/sipp.js';
t.test('explore', async (t) => {
  const ast = await startAsterisk({ dialTimeout: 3 });
  t.teardown(() => ast.stop());
  (await import('node:fs')).mkdirSync(path.join(ast.hostDir, 'log', 'cdr-custom'), { recursive: true });
  copyFileSync('/tmp/ka-dp/cdr_custom.conf.sample', path.join(ast.hostDir, 'etc', 'cdr_custom.conf'));
  console.log(await ast.cli('module load cdr_custom.so'));
  console.log(await ast.cli('cdr show status'));
  const run = async (did: string, phones: Record<string, 'uas-answer'|'uas-busy'|'uas-noanswer'>) => {
    const ps = [];
    for (const [ext, sc] of Object.entries(phones)) ps.push(await sipp({ scenario: sc, localIp: ast.phones[ext]!, localPort: ast.phonePort, durationMs: 300, timeoutMs: 15000 }));
    const trunk = await startSipp({ scenario: 'uac', localIp: ast.trunkIp, localPort: ast.trunkPort, remote: `${ast.sipHost}:${ast.sipPort}`, service: did, durationMs: 800, keys: { caller_num: '79991234567', caller_name: 'Иван, "Петров"' }, timeoutMs: 15000 });
    await trunk.done; for (const p of ps) { p.kill(); await p.done; }
  };
  await run('201', { '101': 'uas-answer' });
  await run('202', { '102': 'uas-noanswer', '103': 'uas-answer' });
  await run('203', { '102': 'uas-noanswer', '103': 'uas-answer' });
  await run('204', {});
  await run('201', { '101': 'uas-busy' });
  // outbound 101 -> 79990001122
  const far = await sipp({ scenario: 'uas-answer', localIp: ast.trunkIp, localPort: ast.trunkPort, durationMs: 300, timeoutMs: 15000 });
  const out = await startSipp({ scenario: 'uac', localIp: ast.phones['101']!, localPort: ast.phonePort, remote: `${ast.sipHost}:${ast.sipPort}`, service: '79990001122', durationMs: 800, keys: { caller_num: '101', caller_name: 'Alice' }, timeoutMs: 15000 });
  await out.done; far.kill(); await far.done;
  await new Promise((r) => setTimeout(r, 1000));
  const f = path.join(ast.hostDir, 'log', 'cdr-custom', 'kommo-cdr.csv');
  console.log('EXISTS', existsSync(f));
  console.log('CDRFILE\n' + (existsSync(f) ? readFileSync(f, 'utf8') : ''));
});
