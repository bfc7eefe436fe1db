import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { ENV_BINDINGS, configReference, defaults, renderConfigReference } from '../../lib/platform/config/index.js';

const DOC = fileURLToPath(new URL('../../docs/config-reference.md', import.meta.url));
const README = fileURLToPath(new URL('../../README.md', import.meta.url));
const START = '<!-- config-reference:start -->';
const END = '<!-- config-reference:end -->';

/** The README carries the same table (without the doc's title), between markers. */
function readmeSection(): string {
  const body = renderConfigReference().replace(/^# Configuration reference\n+/, '');
  return `${START}\n${body.trimEnd()}\n${END}`;
}

// Regenerate with: KA_WRITE_DOCS=1 npx tap --disable-coverage test/config/reference.test.ts
if (process.env['KA_WRITE_DOCS'] === '1') {
  writeFileSync(DOC, renderConfigReference());
  const readme = readFileSync(README, 'utf8');
  const a = readme.indexOf(START);
  const b = readme.indexOf(END);
  if (a !== -1 && b > a) writeFileSync(README, readme.slice(0, a) + readmeSection() + readme.slice(b + END.length));
}

const reference = configReference();
const keys = new Set(reference.map((e) => e.key));

t.test('docs/config-reference.md is generated from the schema and up to date', async (t) => {
  const doc = readFileSync(DOC, 'utf8');
  for (const { key } of reference) t.ok(doc.includes(`| \`${key}\` |`), `${key} is documented`);
  t.equal(doc, renderConfigReference(), 'regenerate: KA_WRITE_DOCS=1 npx tap --disable-coverage test/config/reference.test.ts');
});

t.test('README.md carries the same configuration reference', async (t) => {
  const readme = readFileSync(README, 'utf8');
  const a = readme.indexOf(START);
  const b = readme.indexOf(END);
  t.ok(a !== -1 && b > a, 'README has the config-reference markers');
  t.equal(readme.slice(a, b + END.length), readmeSection(), 'regenerate: KA_WRITE_DOCS=1 npx tap --disable-coverage test/config/reference.test.ts');
});

t.test('every default has a schema key', async (t) => {
  const walk = (value: unknown, path: string[]): void => {
    if (typeof value === 'object' && value !== null && !Array.isArray(value) && path.join('.') !== 'customizations.timeouts') {
      for (const [k, v] of Object.entries(value)) walk(v, [...path, k]);
      return;
    }
    t.ok(keys.has(path.join('.')), `${path.join('.')} is in the schema`);
  };
  walk(defaults, []);
});

t.test('every env variable is in the reference', async (t) => {
  for (const binding of ENV_BINDINGS) {
    for (const key of binding.keys) t.equal(reference.find((e) => e.key === key)?.env, binding.name, `${key} ← ${binding.name}`);
  }
});

t.test('entries are complete', async (t) => {
  for (const e of reference) {
    t.ok(e.description.length > 3, `${e.key} has a description`);
    t.ok(e.default.length > 0, `${e.key} has a default column`);
  }
  t.match(reference.find((e) => e.key === 'kommo.base_url'), { default: '(required)', type: 'string (http(s) URL)' });
  t.match(reference.find((e) => e.key === 'agi.port'), { default: '4573', type: 'integer 1–65535' });
  t.match(reference.find((e) => e.key === 'ami.secret'), { default: '(none)', env: 'AMI_SECRET', secret: true });
  t.ok(keys.has('phone.rewrite_rules[].match'));
});
