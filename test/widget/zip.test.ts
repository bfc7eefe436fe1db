import t from 'tap';
import { randomBytes } from 'node:crypto';
import { createZip, zipNameProblem, ZipError } from '../../lib/platform/zip.js';
import { readZip } from './zip-reader.js';

t.test('entries come back byte for byte, deflated when it helps, stored when not', async (t) => {
  const text = Buffer.from('manifest '.repeat(500));
  const noise = randomBytes(4096); // does not compress: stored
  const zip = createZip([
    { name: 'manifest.json', data: text },
    { name: 'images/noise.png', data: noise },
    { name: 'i18n/ru.json', data: Buffer.from('{"имя":"Звонок"}') },
    { name: 'empty.txt', data: new Uint8Array(0) },
    { name: 'Звонок/файл.txt', data: Buffer.from('utf-8 name') },
  ]);
  const entries = readZip(zip);
  t.same(entries.map((e) => e.name), ['manifest.json', 'images/noise.png', 'i18n/ru.json', 'empty.txt', 'Звонок/файл.txt'], 'order kept, UTF-8 names');
  t.equal(entries[0]!.method, 8, 'text is deflated');
  t.ok(entries[0]!.compressedSize < text.length / 10);
  t.equal(entries[1]!.method, 0, 'random bytes are stored');
  t.equal(entries[3]!.size, 0);
  t.ok(entries[0]!.data.equals(text));
  t.ok(entries[1]!.data.equals(noise));
  t.equal(entries[2]!.data.toString(), '{"имя":"Звонок"}');
  t.ok(entries.every((e) => (e.flags & 0x0800) !== 0), 'UTF-8 flag on every entry');
  t.equal(entries[0]!.externalAttributes >>> 16, 0o100644, 'a regular file, rw-r--r--');
  t.equal(entries[0]!.dosDate, (0 << 9) | (1 << 5) | 1, '1980-01-01 by default');
});

t.test('deterministic: same input, same bytes; deflate can be turned off; a date is kept', async (t) => {
  const files = [{ name: 'a.txt', data: Buffer.from('aaaa'.repeat(100)) }];
  t.ok(createZip(files).equals(createZip(files)));
  const stored = readZip(createZip(files, { deflate: false }));
  t.equal(stored[0]!.method, 0);
  const dated = readZip(createZip(files, { date: new Date(2026, 11, 3, 14, 5, 8) }))[0]!;
  t.equal(dated.dosDate, ((2026 - 1980) << 9) | (12 << 5) | 3);
  t.equal(dated.dosTime, (14 << 11) | (5 << 5) | 4);
  t.equal(readZip(createZip([])).length, 0, 'an empty archive is valid');
});

t.test('names that could escape the folder or confuse an unzipper are refused', async (t) => {
  for (const bad of ['', '/etc/passwd', '../x', 'a/../../x', 'a/./b', 'a//b', 'a\\b', 'C:/x', 'dir/', 'a\nb', 'a\u0000b']) {
    t.ok(zipNameProblem(bad), `${JSON.stringify(bad)}: ${zipNameProblem(bad)}`);
    t.throws(() => createZip([{ name: bad, data: Buffer.alloc(1) }]), { code: 'ZIP_BAD_NAME' });
  }
  t.equal(zipNameProblem('images/logo.png'), null);
  t.equal(zipNameProblem('a..b/c.d'), null, 'dots inside a segment are fine');
  const err = (() => {
    try {
      createZip([{ name: 'a', data: Buffer.alloc(1) }, { name: 'a', data: Buffer.alloc(2) }]);
    } catch (e) {
      return e;
    }
    return undefined;
  })();
  t.ok(err instanceof ZipError);
  t.match(err, { code: 'ZIP_BAD_NAME', entry: 'a', message: /appears twice/ });
});

t.test('more entries than the format counts without ZIP64 is refused before any work', async (t) => {
  const many = Array.from({ length: 65_536 }, (_, i) => ({ name: `f${i}`, data: new Uint8Array(0) }));
  t.throws(() => createZip(many), { code: 'ZIP_TOO_LARGE', message: /65,535/ });
  t.equal(readZip(createZip(many.slice(0, 300))).length, 300, 'a few hundred are fine');
});
