/**
 * The layers of ARCHITECTURE.md, enforced: every relative import in the product (agi/,
 * lib/), the test rig (rig/), the CLI (bin/) and the benchmarks (bench/) goes in an
 * allowed direction. A new import against them fails here, naming the file and the line.
 */
import t from 'tap';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

type Layer = 'platform' | 'protocol' | 'outbound' | 'model' | 'domain' | 'inbound' | 'rig' | 'bin' | 'bench';

/** Longest prefix first. */
const LAYERS: Array<[string, Layer]> = [
  ['lib/platform/', 'platform'],
  ['lib/protocol/', 'protocol'],
  ['agi/', 'protocol'],
  ['lib/adapters/kommo/', 'outbound'],
  ['lib/adapters/hooks/', 'outbound'],
  ['lib/adapters/http/', 'inbound'],
  ['lib/domain/call/', 'model'],
  ['lib/domain/', 'domain'],
  ['rig/', 'rig'],
  ['bin/', 'bin'],
  ['bench/', 'bench'],
];

/** What each layer may import (besides itself). */
const ALLOWED: Record<Layer, readonly Layer[]> = {
  platform: [],
  protocol: ['platform'],
  model: ['platform'],
  outbound: ['platform', 'protocol', 'model'],
  domain: ['platform', 'protocol', 'model', 'outbound'],
  inbound: ['platform', 'protocol', 'model', 'outbound', 'domain'],
  rig: ['platform'],
  bin: ['platform', 'protocol', 'model', 'outbound', 'domain', 'inbound', 'rig'],
  bench: ['platform', 'protocol', 'model', 'outbound', 'domain', 'inbound', 'rig', 'bin'],
};

export function layerOf(file: string): Layer | undefined {
  return LAYERS.find(([prefix]) => file.startsWith(prefix))?.[1];
}

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(path.join(ROOT, dir))) {
    const rel = path.posix.join(dir, name);
    if (statSync(path.join(ROOT, rel)).isDirectory()) out.push(...sources(rel));
    else if (/\.(ts|mts|mjs)$/.test(name) && !name.endsWith('.d.ts')) out.push(rel);
  }
  return out;
}

const IMPORT = /(?:^|[\s;])(?:import|export)\b[^'"]*?\bfrom\s*['"](\.{1,2}\/[^'"]+)['"]|\bimport\s*\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)/g;

export function violations(files: ReadonlyArray<{ file: string; text: string }>): string[] {
  const out: string[] = [];
  for (const { file, text } of files) {
    const from = layerOf(file);
    if (!from) continue;
    const lines = text.split('\n');
    lines.forEach((line, i) => {
      for (const m of line.matchAll(IMPORT)) {
        const spec = m[1] ?? m[2];
        if (!spec) continue;
        const target = path.posix.normalize(path.posix.join(path.posix.dirname(file), spec));
        const to = layerOf(target);
        if (!to || to === from || ALLOWED[from].includes(to)) continue;
        out.push(`${file}:${i + 1}: ${from} must not import ${to} (${target})`);
      }
    });
  }
  return out;
}

t.test('every import goes in an allowed direction (ARCHITECTURE.md)', async (t) => {
  const files = ['agi', 'lib', 'rig', 'bin', 'bench'].flatMap(sources).map((file) => ({ file, text: readFileSync(path.join(ROOT, file), 'utf8') }));
  t.ok(files.length > 150, `${files.length} source files read`);
  t.same(violations(files), [], 'no import against the layers');
  const unknown = files.filter((f) => !layerOf(f.file)).map((f) => f.file);
  t.same(unknown, [], 'every source file belongs to a layer');
});

t.test('the checker itself finds what it must', async (t) => {
  const bad = violations([
    { file: 'lib/platform/config/validate.ts', text: "import { HOOK_NAMES } from '../../adapters/hooks/types.js';" },
    { file: 'agi/server.ts', text: "import type { Autodistribution } from '../lib/domain/autodistribution/service.js';" },
    { file: 'lib/adapters/kommo/client.ts', text: "const x = await import('../../domain/registration/index.js');" },
    { file: 'lib/domain/bridge/bridge.ts', text: "export * from '../../../rig/simulator/index.js';" },
    { file: 'lib/domain/bridge/ok.ts', text: "import { delay } from '../../platform/backoff.js';\nimport type { CallFull } from '../call/types.js';" },
  ]);
  t.same(bad, [
    'lib/platform/config/validate.ts:1: platform must not import outbound (lib/adapters/hooks/types.js)',
    'agi/server.ts:1: protocol must not import domain (lib/domain/autodistribution/service.js)',
    'lib/adapters/kommo/client.ts:1: outbound must not import domain (lib/domain/registration/index.js)',
    'lib/domain/bridge/bridge.ts:1: domain must not import rig (rig/simulator/index.js)',
  ]);
});
