/**
 * Which file implements which hook: the directory listing, classified.
 *
 * A hook is active when its directory holds, in this order of preference:
 *   <hook>.mjs, <hook>.js, <hook>.cjs  — a JavaScript module
 *   <hook>.mts, <hook>.ts              — a TypeScript module (compiled at load)
 *   <hook>, <hook>.<ext>               — any other regular file with an exec bit
 * Never active: dot files, names ending in `~`, and names with a disabling part such as
 * `.example.`, `.sample.`, `.disabled`, `.bak`, `.orig`, `.off` (so
 * `need_registration.example.mjs` is documentation, not a hook).
 */
import { readdirSync, statSync, type Dirent, type Stats } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { HOOK_NAMES, type HookName } from './types.js';

export type HookKind = 'module' | 'typescript' | 'executable';

export interface HookFile {
  hook: HookName;
  /** Absolute (or dir-relative, as `dir` was given) path of the file. */
  file: string;
  /** File name inside the directory. */
  name: string;
  kind: HookKind;
}

/** Something an administrator should know about the directory (logged once per name). */
export interface ScanNote {
  name: string;
  reason: 'unknown_name' | 'not_executable' | 'shadowed';
  /** For `shadowed`: the file used instead. */
  usedInstead?: string;
}

export interface ScanResult {
  /** Active hooks, in hook-number order. */
  files: HookFile[];
  notes: ScanNote[];
  /** Set when the directory could not be listed (ENOENT: no hooks at all). */
  error?: NodeJS.ErrnoException;
}

const MODULE_EXTS: ReadonlyArray<readonly [string, HookKind]> = [
  ['mjs', 'module'],
  ['js', 'module'],
  ['cjs', 'module'],
  ['mts', 'typescript'],
  ['ts', 'typescript'],
];

const DISABLING_PARTS = new Set(['example', 'examples', 'sample', 'disabled', 'off', 'bak', 'orig', 'old', 'tmp', 'swp']);

interface Candidate {
  hook: HookName;
  name: string;
  /** Module kind, or undefined when it would have to be an executable. */
  moduleKind?: HookKind;
  /** Preference: lower wins. */
  rank: number;
}

/** Which hook a file name is for, or why it is not one. Pure. */
export function classifyName(name: string): Candidate | 'ignored' | 'unknown' {
  if (name.startsWith('.') || name.endsWith('~')) return 'ignored';
  const hook = HOOK_NAMES.find((h) => name === h || name.startsWith(`${h}.`));
  if (hook === undefined) return 'unknown';
  const rest = name.slice(hook.length + 1);
  if (rest === '') return { hook, name, rank: 10 };
  const parts = rest.toLowerCase().split('.');
  if (parts.some((p) => DISABLING_PARTS.has(p))) return 'ignored';
  const moduleIndex = MODULE_EXTS.findIndex(([ext]) => ext === rest);
  const entry = MODULE_EXTS[moduleIndex];
  if (entry) return { hook, name, moduleKind: entry[1], rank: moduleIndex };
  return { hook, name, rank: 11 };
}

function isExecutableFile(st: Stats | undefined): boolean {
  return st !== undefined && st.isFile() && (st.mode & 0o111) !== 0;
}

interface Entry {
  name: string;
  isFileLike: boolean;
}

function toEntries(dirents: Dirent[]): Entry[] {
  return dirents.map((d) => ({ name: d.name, isFileLike: d.isFile() || d.isSymbolicLink() }));
}

/** Candidates grouped per hook, plus notes about unknown names. */
function candidates(entries: Entry[]): { byHook: Map<HookName, Candidate[]>; notes: ScanNote[] } {
  const byHook = new Map<HookName, Candidate[]>();
  const notes: ScanNote[] = [];
  for (const entry of entries) {
    const c = classifyName(entry.name);
    if (c === 'ignored') continue;
    if (c === 'unknown') {
      if (entry.isFileLike && !/^readme/i.test(entry.name)) notes.push({ name: entry.name, reason: 'unknown_name' });
      continue;
    }
    if (!entry.isFileLike) continue;
    const list = byHook.get(c.hook) ?? [];
    list.push(c);
    byHook.set(c.hook, list);
  }
  return { byHook, notes };
}

/** Pick the winner per hook; the stat function tells whether executables really are. */
function select(
  dir: string,
  byHook: Map<HookName, Candidate[]>,
  notes: ScanNote[],
  stats: Map<string, Stats | undefined>,
): HookFile[] {
  const files: HookFile[] = [];
  for (const hook of HOOK_NAMES) {
    const list = (byHook.get(hook) ?? []).slice().sort((a, b) => a.rank - b.rank || a.name.localeCompare(b.name));
    const usable = list.filter((c) => {
      if (c.moduleKind) return true;
      const ok = isExecutableFile(stats.get(c.name));
      if (!ok) notes.push({ name: c.name, reason: 'not_executable' });
      return ok;
    });
    const winner = usable[0];
    if (!winner) continue;
    for (const other of usable.slice(1)) notes.push({ name: other.name, reason: 'shadowed', usedInstead: winner.name });
    files.push({ hook, name: winner.name, file: join(dir, winner.name), kind: winner.moduleKind ?? 'executable' });
  }
  return files;
}

function needsStat(byHook: Map<HookName, Candidate[]>): string[] {
  const names: string[] = [];
  for (const list of byHook.values()) for (const c of list) if (!c.moduleKind) names.push(c.name);
  return names;
}

/** Synchronous listing, used once when the runner is created. */
export function scanDirSync(dir: string): ScanResult {
  let dirents: Dirent[];
  try {
    dirents = readdirSync(dir, { withFileTypes: true });
  } catch (err) {
    return { files: [], notes: [], error: err as NodeJS.ErrnoException };
  }
  const { byHook, notes } = candidates(toEntries(dirents));
  const stats = new Map<string, Stats | undefined>();
  for (const name of needsStat(byHook)) {
    try {
      stats.set(name, statSync(join(dir, name)));
    } catch {
      stats.set(name, undefined); // vanished or dangling link: not a hook
    }
  }
  return { files: select(dir, byHook, notes, stats), notes };
}

/** Asynchronous listing, used for the periodic rescans. */
export async function scanDir(dir: string): Promise<ScanResult> {
  let dirents: Dirent[];
  try {
    dirents = await readdir(dir, { withFileTypes: true });
  } catch (err) {
    return { files: [], notes: [], error: err as NodeJS.ErrnoException };
  }
  const { byHook, notes } = candidates(toEntries(dirents));
  const names = needsStat(byHook);
  const results = await Promise.all(names.map((name) => stat(join(dir, name)).catch(() => undefined)));
  const stats = new Map<string, Stats | undefined>(names.map((name, i) => [name, results[i]]));
  return { files: select(dir, byHook, notes, stats), notes };
}
