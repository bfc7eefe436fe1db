/**
 * The README's error-code table is generated from the code tables in the
 * header comments of every `errors.ts` (one per subsystem). This test fails
 * when the README drifts, or when a code used in a subsystem's union type
 * is missing from its table. Regenerate:
 *   KA_WRITE_DOCS=1 npx tap --disable-coverage test/docs/error-codes.test.ts
 */
import t from 'tap';
import { readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const START = '<!-- error-codes:start -->';
const END = '<!-- error-codes:end -->';

function errorFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) out.push(...errorFiles(full));
    else if (name === 'errors.ts') out.push(full);
  }
  return out;
}

interface Row { code: string; meaning: string }

function tableOf(source: string): Row[] {
  const rows: Row[] = [];
  const header = /^\/\*\*([\s\S]*?)\*\//.exec(source)?.[1] ?? '';
  for (const raw of header.split('\n')) {
    const line = raw.replace(/^\s*\*\s?/, '').trim();
    if (!line.startsWith('|')) continue;
    const cells = line.split('|').slice(1, -1).map((c) => c.trim());
    const code = cells[0] ?? '';
    if (!/^[A-Z][A-Z0-9_]+$/.test(code) || code === 'CODE') continue;
    rows.push({ code, meaning: (cells[cells.length - 1] ?? '').replace(/\s+/g, ' ') });
  }
  return rows;
}

function unionCodes(source: string): string[] {
  const codes = new Set<string>();
  for (const m of source.matchAll(/export type \w*Code\w*\s*=([^;]+);/g)) {
    for (const c of m[1]!.matchAll(/'([A-Z][A-Z0-9_]+)'/g)) codes.add(c[1]!);
  }
  // Codes kept as the keys of a `export const X_ERROR_… = { CODE: … }` table.
  for (const m of source.matchAll(/export const \w*ERROR\w*\s*=\s*\{([\s\S]*?)\}\s*as const/g)) {
    for (const c of m[1]!.matchAll(/^\s*([A-Z][A-Z0-9_]+)\s*:/gm)) codes.add(c[1]!);
  }
  return [...codes];
}

const files = [...errorFiles(path.join(ROOT, 'agi')), ...errorFiles(path.join(ROOT, 'lib'))].sort();
const sections: string[] = [];
const missing: string[] = [];
for (const file of files) {
  const source = readFileSync(file, 'utf8');
  const rows = tableOf(source);
  const listed = new Set(rows.map((r) => r.code));
  for (const code of unionCodes(source)) if (!listed.has(code)) missing.push(`${path.relative(ROOT, file)}: ${code}`);
  if (rows.length === 0) continue;
  sections.push(
    `**${path.relative(ROOT, path.dirname(file))}/**\n\n| code | meaning |\n|---|---|\n` +
      rows.map((r) => `| \`${r.code}\` | ${r.meaning.replace(/\|/g, '\\|')} |`).join('\n'),
  );
}
const generated = `${START}\n${sections.join('\n\n')}\n${END}`;

t.test('every code of a subsystem union type is in its table', async (t) => {
  t.same(missing, [], 'codes without a row in their errors.ts table');
  t.ok(sections.length >= 5, `found ${sections.length} error tables`);
});

t.test('the README error-code section matches the errors.ts tables', async (t) => {
  const readmePath = path.join(ROOT, 'README.md');
  const readme = readFileSync(readmePath, 'utf8');
  const a = readme.indexOf(START);
  const b = readme.indexOf(END);
  t.ok(a !== -1 && b > a, 'README has the error-codes markers');
  const current = readme.slice(a, b + END.length);
  if (process.env.KA_WRITE_DOCS === '1' && current !== generated) {
    writeFileSync(readmePath, readme.slice(0, a) + generated + readme.slice(b + END.length));
    t.pass('README rewritten');
    return;
  }
  t.equal(current, generated, 'regenerate with KA_WRITE_DOCS=1');
});
