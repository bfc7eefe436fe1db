// The widget folder as shipped passes every check Kommo's docs imply, its archive reads
// back with manifest.json at the root, and a broken widget is refused with every problem
// listed. The `widget` CLI verb writes the archive (the compiled CLI, as `npm run widget`).
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, cpSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buildWidgetArchive, pngSize, readWidgetDir, WIDGET_IMAGES, widgetProblems, WidgetPackageError } from '../../bin/widget-package.js';
import { packageRoot } from '../../rig/sandbox/repo.js';
import { readZip } from './zip-reader.js';

const ROOT = packageRoot();
const WIDGET = path.join(ROOT, 'widget');

function copyWidget(t: { teardown(fn: () => void): void }): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'ka-widget-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  cpSync(WIDGET, dir, { recursive: true });
  return dir;
}

t.test('the shipped widget passes every check', async (t) => {
  t.same(widgetProblems(readWidgetDir(WIDGET)), []);
});

t.test('the archive: manifest.json at the root, every file byte for byte, no README', async (t) => {
  const { zip, files } = buildWidgetArchive(WIDGET);
  const entries = readZip(zip);
  t.same(entries.map((e) => e.name), files);
  t.ok(entries.some((e) => e.name === 'manifest.json'), 'manifest.json at the archive root');
  t.notOk(entries.some((e) => e.name.includes('README')), 'the folder README is not uploaded');
  for (const name of ['script.js', 'i18n/en.json', 'i18n/ru.json', 'i18n/es.json', 'i18n/pt.json', ...Object.keys(WIDGET_IMAGES).map((i) => `images/${i}`)]) {
    const entry = entries.find((e) => e.name === name);
    t.ok(entry, `${name} is in the archive`);
    t.ok(entry?.data.equals(readFileSync(path.join(WIDGET, name))), `${name} is unchanged`);
  }
  const manifest = JSON.parse(entries.find((e) => e.name === 'manifest.json')!.data.toString());
  t.equal(manifest.widget.interface_version, 2);
  t.same(manifest.widget.locale, ['en', 'ru', 'es', 'pt']);
  t.equal(manifest.settings.connector_url.type, 'text');
});

t.test('logos have the sizes Kommo asks for', async (t) => {
  for (const [name, [w, h]] of Object.entries(WIDGET_IMAGES)) {
    t.same(pngSize(readFileSync(path.join(WIDGET, 'images', name))), { width: w, height: h }, name);
  }
  t.equal(pngSize(Buffer.from('not a png at all, not a png at all')), null);
});

t.test('every message key script.js uses exists in every language', async (t) => {
  const script = readFileSync(path.join(WIDGET, 'script.js'), 'utf8');
  const used = new Set<string>([...script.matchAll(/\bt\('([a-z_]+)'/g)].map((m) => m[1]!));
  for (const m of script.matchAll(/\b[A-Z_]+:\s*'([a-z_]+)'/g)) used.add(m[1]!); // CODE_MESSAGES values
  for (const m of script.matchAll(/return '([a-z_]+)';/g)) used.add(m[1]!); // keyForStatus
  t.ok(used.size >= 12, `${used.size} keys used`);
  for (const locale of ['en', 'ru', 'es', 'pt']) {
    const lang = JSON.parse(readFileSync(path.join(WIDGET, 'i18n', `${locale}.json`), 'utf8'));
    const missing = [...used].filter((k) => typeof lang.messages[k] !== 'string' || lang.messages[k] === '');
    t.same(missing, [], `${locale}: every message present`);
  }
});

t.test('a broken widget is refused with every problem at once', async (t) => {
  const dir = copyWidget(t);
  const manifest = JSON.parse(readFileSync(path.join(dir, 'manifest.json'), 'utf8'));
  manifest.widget.interface_version = 1;
  manifest.widget.locale.push('de');
  manifest.settings.connector_url.type = 'url';
  manifest.locations = [];
  writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify(manifest));
  const es = JSON.parse(readFileSync(path.join(dir, 'i18n', 'es.json'), 'utf8'));
  delete es.messages.calling;
  es.settings.connector_url = '';
  writeFileSync(path.join(dir, 'i18n', 'es.json'), JSON.stringify(es));
  writeFileSync(path.join(dir, 'images', 'logo_min.png'), readFileSync(path.join(dir, 'images', 'logo_small.png')));
  rmSync(path.join(dir, 'images', 'logo.png'));
  writeFileSync(path.join(dir, 'script.js'), 'console.log(1)');
  const err = t.throws(() => buildWidgetArchive(dir)) as unknown as WidgetPackageError;
  t.ok(err instanceof WidgetPackageError);
  t.equal(err.code, 'WIDGET_INVALID');
  const expected = [
    /widget\.interface_version must be 2/,
    /locations must list areas/,
    /settings\.connector_url\.type must be one of/,
    /i18n\/de\.json: missing/,
    /i18n\/es\.json: "settings\.connector_url" must be a non-empty text/,
    /i18n\/es\.json: lacks messages\.calling/,
    /script\.js: must be an AMD module/,
    /images\/logo_min\.png: is 108×108, must be 84×84/,
    /images\/logo\.png: missing/,
  ];
  for (const re of expected) t.ok(err.problems.some((p) => re.test(p)), `reported: ${re}`);
  t.equal(err.problems.length, expected.length, err.problems.join('\n'));
});

t.test('no manifest, or a manifest that is not JSON', async (t) => {
  t.same(widgetProblems([]), ['manifest.json: missing (it must be at the root of the widget folder)']);
  t.match(widgetProblems([{ name: 'manifest.json', data: Buffer.from('{') }]), [/manifest\.json: not valid JSON/]);
  t.same(widgetProblems([{ name: 'manifest.json', data: Buffer.from('[]') }]), ['manifest.json: must be a JSON object']);
});

t.test('the widget CLI verb writes the archive; a broken folder exits 2 with the list', async (t) => {
  const cli = path.join(ROOT, 'dist', 'bin', 'kommo-asterisk.js');
  t.ok(existsSync(cli), 'the compiled CLI exists (npm test builds first)');
  const out = mkdtempSync(path.join(tmpdir(), 'ka-widget-out-'));
  t.teardown(() => rmSync(out, { recursive: true, force: true }));
  const target = path.join(out, 'nested', 'widget.zip');
  const ok = spawnSync(process.execPath, [cli, 'widget', '--out', target], { encoding: 'utf8' });
  t.equal(ok.status, 0, ok.stderr);
  t.match(ok.stdout, /wrote .*widget\.zip: 11 files/);
  t.ok(readZip(readFileSync(target)).some((e) => e.name === 'manifest.json'));

  const broken = copyWidget(t);
  rmSync(path.join(broken, 'manifest.json'));
  mkdirSync(path.join(broken, 'extra'));
  const bad = spawnSync(process.execPath, [cli, 'widget', '--dir', broken, '--out', path.join(out, 'x.zip')], { encoding: 'utf8' });
  t.equal(bad.status, 2);
  t.match(bad.stderr, /WIDGET|manifest\.json: missing/);
  t.notOk(existsSync(path.join(out, 'x.zip')), 'nothing written');
});
