/**
 * The Kommo widget's upload archive: the files of `widget/` (manifest.json at the
 * archive root), checked against what Kommo's developer documentation asks of a
 * widget (widget/README.md lists the facts and their sources), then zipped with
 * lib/platform/zip.ts. Every problem is reported at once (`WIDGET_INVALID`), like
 * the configuration.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { KaError } from '../lib/platform/errors.js';
import { createZip } from '../lib/platform/zip.js';

export class WidgetPackageError extends KaError {
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super('WIDGET_INVALID', `the widget folder has problems:\n  - ${problems.join('\n  - ')}`);
    this.problems = problems;
  }
}

export interface WidgetFile {
  /** Path inside the archive, `/`-separated. */
  name: string;
  data: Buffer;
}

/** Logos Kommo requires in images/, with their sizes in pixels (width × height). */
export const WIDGET_IMAGES: Readonly<Record<string, readonly [number, number]>> = {
  'logo_min.png': [84, 84],
  'logo_medium.png': [240, 84],
  'logo_main.png': [400, 272],
  'logo_small.png': [108, 108],
  'logo.png': [130, 100],
};
/** "The size of each file should not exceed 300 KB." */
export const MAX_IMAGE_BYTES = 300 * 1024;
export const SETTING_TYPES = ['text', 'pass', 'users', 'users_lp', 'custom'] as const;
/** Files of the folder that are not part of the upload. */
const LEFT_OUT = new Set(['README.md']);

/** Every file under `dir` but README.md and dot-files, sorted by archive name. */
export function readWidgetDir(dir: string): WidgetFile[] {
  const out: WidgetFile[] = [];
  const walk = (abs: string, rel: string): void => {
    for (const name of readdirSync(abs).sort()) {
      if (name.startsWith('.')) continue;
      const full = path.join(abs, name);
      const inner = rel ? `${rel}/${name}` : name;
      if (statSync(full).isDirectory()) walk(full, inner);
      else if (!(rel === '' && LEFT_OUT.has(name))) out.push({ name: inner, data: readFileSync(full) });
    }
  };
  walk(dir, '');
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** Width and height of a PNG (from its IHDR chunk), or null when `data` is not a PNG. */
export function pngSize(data: Buffer): { width: number; height: number } | null {
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  if (data.length < 24 || !data.subarray(0, 8).equals(signature) || data.toString('ascii', 12, 16) !== 'IHDR') return null;
  return { width: data.readUInt32BE(16), height: data.readUInt32BE(20) };
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

function parseJson(file: WidgetFile, problems: string[]): unknown {
  try {
    return JSON.parse(file.data.toString('utf8')) as unknown;
  } catch (err) {
    problems.push(`${file.name}: not valid JSON (${(err as Error).message})`);
    return undefined;
  }
}

/** `a.b.c` looked up in a localization object. */
function lookup(lang: unknown, key: string): unknown {
  return key.split('.').reduce<unknown>((node, part) => (isObject(node) ? node[part] : undefined), lang);
}

function leafKeys(node: unknown, prefix = ''): string[] {
  if (!isObject(node)) return [prefix];
  return Object.entries(node).flatMap(([k, v]) => leafKeys(v, prefix ? `${prefix}.${k}` : k));
}

/** Everything Kommo would refuse or show broken, one line each; empty when the widget is fine. */
export function widgetProblems(files: readonly WidgetFile[]): string[] {
  const problems: string[] = [];
  const byName = new Map(files.map((f) => [f.name, f]));
  const manifestFile = byName.get('manifest.json');
  if (!manifestFile) return ['manifest.json: missing (it must be at the root of the widget folder)'];
  const manifest = parseJson(manifestFile, problems);
  if (!isObject(manifest)) return problems.length ? problems : ['manifest.json: must be a JSON object'];

  const widget = isObject(manifest.widget) ? manifest.widget : undefined;
  if (!widget) problems.push('manifest.json: "widget" must be an object');
  const textKeys: string[] = [];
  for (const field of ['name', 'description', 'short_description'] as const) {
    const v = widget?.[field];
    if (typeof v !== 'string' || v === '') problems.push(`manifest.json: widget.${field} must be a localization key (a non-empty string)`);
    else textKeys.push(v);
  }
  if (typeof widget?.version !== 'string' || !/^\d+\.\d+\.\d+$/.test(widget.version)) problems.push('manifest.json: widget.version must look like 1.0.0');
  if (widget && widget.interface_version !== 2) problems.push('manifest.json: widget.interface_version must be 2');
  if (widget && typeof widget.init_once !== 'boolean') problems.push('manifest.json: widget.init_once must be true or false');
  if (widget && typeof widget.installation !== 'boolean') problems.push('manifest.json: widget.installation must be true or false');
  const locales = Array.isArray(widget?.locale) ? (widget.locale as unknown[]) : [];
  if (locales.length === 0 || !locales.every((l) => typeof l === 'string' && /^[a-z]{2}$/.test(l))) {
    problems.push('manifest.json: widget.locale must list language codes such as "en"');
  }
  const locations = manifest.locations;
  if (!Array.isArray(locations) || locations.length === 0 || !locations.every((l) => typeof l === 'string' && /^[a-z_]+(-[01])?$/.test(l))) {
    problems.push('manifest.json: locations must list areas such as "ccard-1"');
  }
  if (manifest.settings !== undefined) {
    if (!isObject(manifest.settings)) problems.push('manifest.json: settings must be an object');
    else {
      for (const [key, setting] of Object.entries(manifest.settings)) {
        if (!isObject(setting)) {
          problems.push(`manifest.json: settings.${key} must be an object`);
          continue;
        }
        if (typeof setting.name !== 'string' || setting.name === '') problems.push(`manifest.json: settings.${key}.name must be a localization key`);
        else textKeys.push(setting.name);
        if (!(SETTING_TYPES as readonly unknown[]).includes(setting.type)) problems.push(`manifest.json: settings.${key}.type must be one of ${SETTING_TYPES.join(', ')}`);
        if (typeof setting.required !== 'boolean') problems.push(`manifest.json: settings.${key}.required must be true or false`);
      }
    }
  }

  // Localization: every locale has a file, every key the manifest names, and the same keys as the first locale.
  let reference: { locale: string; keys: Set<string> } | undefined;
  for (const locale of locales.filter((l): l is string => typeof l === 'string')) {
    const file = byName.get(`i18n/${locale}.json`);
    if (!file) {
      problems.push(`i18n/${locale}.json: missing (widget.locale lists "${locale}")`);
      continue;
    }
    const lang = parseJson(file, problems);
    if (lang === undefined) continue;
    for (const key of textKeys) {
      const v = lookup(lang, key);
      if (typeof v !== 'string' || v.trim() === '') problems.push(`i18n/${locale}.json: "${key}" must be a non-empty text`);
    }
    const keys = new Set(leafKeys(lang));
    if (!reference) reference = { locale, keys };
    else {
      const missing = [...reference.keys].filter((k) => !keys.has(k));
      const extra = [...keys].filter((k) => !reference!.keys.has(k));
      if (missing.length) problems.push(`i18n/${locale}.json: lacks ${missing.join(', ')} (present in i18n/${reference.locale}.json)`);
      if (extra.length) problems.push(`i18n/${locale}.json: has ${extra.join(', ')}, which i18n/${reference.locale}.json lacks`);
    }
  }

  const script = byName.get('script.js');
  if (!script) problems.push('script.js: missing');
  else if (!/\bdefine\s*\(/.test(script.data.toString('utf8'))) problems.push('script.js: must be an AMD module (define(...))');

  for (const [image, [width, height]] of Object.entries(WIDGET_IMAGES)) {
    const file = byName.get(`images/${image}`);
    if (!file) {
      problems.push(`images/${image}: missing (${width}×${height} PNG)`);
      continue;
    }
    const size = pngSize(file.data);
    if (!size) problems.push(`images/${image}: not a PNG`);
    else if (size.width !== width || size.height !== height) problems.push(`images/${image}: is ${size.width}×${size.height}, must be ${width}×${height}`);
    if (file.data.length > MAX_IMAGE_BYTES) problems.push(`images/${image}: ${file.data.length} bytes, at most ${MAX_IMAGE_BYTES}`);
  }
  return problems;
}

export interface WidgetArchive {
  zip: Buffer;
  files: string[];
}

/** Check the widget folder and zip it; throws `WidgetPackageError` listing every problem. */
export function buildWidgetArchive(dir: string): WidgetArchive {
  const files = readWidgetDir(dir);
  const problems = widgetProblems(files);
  if (problems.length) throw new WidgetPackageError(problems);
  return { zip: createZip(files), files: files.map((f) => f.name) };
}
