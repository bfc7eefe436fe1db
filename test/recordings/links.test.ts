import t from 'tap';
import { mkdirSync, symlinkSync, writeFileSync, rmSync, realpathSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RecordingError } from '../../lib/domain/recordings/errors.js';
import { createRecordingLinks, deriveLinkKey, openToken, sealToken, TOKEN_SEGMENT } from '../../lib/domain/recordings/links.js';

const SECRET = 'http-secret-0123456789abcdef';

function setup(t: { teardown(fn: () => unknown): void }) {
  const base = realpathSync(mkdtempSync(join(tmpdir(), 'ka-links-')));
  t.teardown(() => rmSync(base, { recursive: true, force: true }));
  const dir = join(base, 'monitor');
  const outside = join(base, 'outside');
  mkdirSync(join(dir, '2025', '06'), { recursive: true });
  mkdirSync(outside);
  const file = join(dir, '2025', '06', 'in-79991234567-101.mp3');
  writeFileSync(file, 'ID3 audio');
  const secretFile = join(outside, 'secret.txt');
  writeFileSync(secretFile, 'TOP SECRET');
  let nowMs = Date.parse('2025-06-01T12:00:00Z');
  const links = createRecordingLinks({ secret: SECRET, publicUrl: 'https://pbx.example.com:8088/', roots: [dir], ttlDays: 90, now: () => nowMs });
  return { base, dir, outside, file, secretFile, links, advance: (ms: number) => (nowMs += ms) };
}

async function code(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
    return undefined;
  } catch (err) {
    return err instanceof RecordingError ? err.code : `other: ${String(err)}`;
  }
}

t.test('a link round-trips and reveals no path', async (t) => {
  const { links, file } = setup(t);
  const url = await links.makeLink(file);
  t.match(url, /^https:\/\/pbx\.example\.com:8088\/recordings\/[A-Za-z0-9_-]+\.mp3$/);
  for (const part of ['monitor', '2025', 'in-79991234567', '79991234567', '101', 'tmp']) t.notMatch(url, part);
  const token = /\/recordings\/([A-Za-z0-9_-]+)\.mp3$/.exec(url)?.[1] ?? '';
  t.ok(TOKEN_SEGMENT.test(`${token}.mp3`));
  t.equal(await links.resolveLink(token), file);
  t.not(await links.makeToken(file), await links.makeToken(file), 'random IV: two links for one file differ');
  t.notMatch(Buffer.from(token, 'base64url').toString('latin1'), 'monitor', 'the path is encrypted, not encoded');
});

t.test('forged, altered, foreign-key and revoked tokens → LINK_INVALID', async (t) => {
  const { links, file, dir } = setup(t);
  const token = await links.makeToken(file);
  const raw = Buffer.from(token, 'base64url');
  raw[20] = (raw[20] ?? 0) ^ 1;
  t.equal(await code(links.resolveLink(raw.toString('base64url'))), 'LINK_INVALID', 'one bit flipped');
  t.equal(await code(links.resolveLink(token.slice(0, -2))), 'LINK_INVALID', 'truncated');
  t.equal(await code(links.resolveLink('A'.repeat(80))), 'LINK_INVALID', 'made up');
  t.equal(await code(links.resolveLink('../../etc/passwd')), 'LINK_INVALID');
  t.equal(await code(links.resolveLink('%2e%2e%2fetc%2fpasswd')), 'LINK_INVALID');
  const other = createRecordingLinks({ secret: 'another-secret-0123456789', publicUrl: 'http://x', roots: [dir], ttlDays: 1 });
  t.equal(await code(other.resolveLink(token)), 'LINK_INVALID', 'rotating http.secret revokes links');
  t.equal(await code(Promise.resolve().then(() => createRecordingLinks({ secret: 'short', publicUrl: 'http://x', roots: [dir], ttlDays: 1 }))), 'LINK_NO_KEY');
});

t.test('expired → LINK_EXPIRED', async (t) => {
  const { links, file, advance } = setup(t);
  const token = await links.makeToken(file);
  advance(89 * 86_400_000);
  t.equal(await links.resolveLink(token), file);
  advance(2 * 86_400_000);
  t.equal(await code(links.resolveLink(token)), 'LINK_EXPIRED');
});

t.test('paths outside the roots are neither linked nor resolved', async (t) => {
  const { links, dir, secretFile, outside } = setup(t);
  t.equal(await code(links.makeLink(secretFile)), 'LINK_OUTSIDE_ROOT', 'absolute path outside');
  t.equal(await code(links.makeLink(join(dir, '..', 'outside', 'secret.txt'))), 'LINK_OUTSIDE_ROOT', '.. traversal');
  t.equal(await code(links.makeLink('outside/secret.txt')), 'LINK_OUTSIDE_ROOT', 'relative');
  t.equal(await code(links.makeLink(join(dir, 'missing.wav'))), 'LINK_OUTSIDE_ROOT', 'missing');
  t.equal(await code(links.makeLink(dir)), 'LINK_OUTSIDE_ROOT', 'the root itself');
  symlinkSync(secretFile, join(dir, 'link.mp3'));
  t.equal(await code(links.makeLink(join(dir, 'link.mp3'))), 'LINK_OUTSIDE_ROOT', 'symlink pointing outside');
  symlinkSync(outside, join(dir, 'subdir'));
  t.equal(await code(links.makeLink(join(dir, 'subdir', 'secret.txt'))), 'LINK_OUTSIDE_ROOT', 'symlinked directory');

  // Tokens sealed with the right key (as if the path had been linked once) are still checked.
  const key = deriveLinkKey(SECRET);
  const exp = Math.floor(Date.parse('2025-06-02T00:00:00Z') / 1000);
  t.equal(await code(links.resolveLink(sealToken(key, secretFile, exp))), 'LINK_NOT_FOUND', 'absolute path outside');
  t.equal(await code(links.resolveLink(sealToken(key, join(dir, '..', 'outside', 'secret.txt'), exp))), 'LINK_NOT_FOUND', 'unnormalized ..');
  t.equal(await code(links.resolveLink(sealToken(key, join(dir, '%2e%2e', 'outside', 'secret.txt'), exp))), 'LINK_NOT_FOUND', 'encoded ..');
  t.equal(await code(links.resolveLink(sealToken(key, 'outside/secret.txt', exp))), 'LINK_NOT_FOUND', 'relative');
  t.equal(await code(links.resolveLink(sealToken(key, join(dir, 'link.mp3'), exp))), 'LINK_NOT_FOUND', 'symlink out');
  t.equal(await code(links.resolveLink(sealToken(key, join(dir, 'gone.mp3'), exp))), 'LINK_NOT_FOUND', 'unknown file');
});

t.test('a file replaced by a symlink after linking is refused', async (t) => {
  const { links, dir, secretFile } = setup(t);
  const f = join(dir, 'later.mp3');
  writeFileSync(f, 'ID3');
  const token = await links.makeToken(f);
  rmSync(f);
  symlinkSync(secretFile, f);
  t.equal(await code(links.resolveLink(token)), 'LINK_NOT_FOUND');
});

t.test('openToken/sealToken', async (t) => {
  const key = deriveLinkKey(SECRET);
  t.same(openToken(key, sealToken(key, '/a/b.wav', 123)), { exp: 123, path: '/a/b.wav' });
  t.equal(openToken(key, 'not base64!'), undefined);
  t.equal(openToken(key, ''), undefined);
});
