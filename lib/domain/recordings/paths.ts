/** Path containment after `realpath`: the only check that also defeats symlinks. */
import { realpath } from 'node:fs/promises';
import { isAbsolute, relative, resolve, sep } from 'node:path';

/** Is `child` (already real) inside `root` (already real)? `root` itself is not "inside". */
export function isInside(root: string, child: string): boolean {
  const rel = relative(root, child);
  return rel !== '' && !rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel);
}

/** The real paths of the roots that exist (missing roots are skipped). */
export async function realRoots(roots: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  for (const root of roots) {
    try {
      out.push(await realpath(resolve(root)));
    } catch {
      // a root that does not exist holds nothing
    }
  }
  return out;
}

/**
 * The real path of `file` when it exists and lies inside one of `roots` (after
 * resolving every symlink on both sides), else `undefined`.
 */
export async function realPathInside(file: string, roots: readonly string[]): Promise<string | undefined> {
  if (!isAbsolute(file) || file.includes('\0')) return undefined;
  let real: string;
  try {
    real = await realpath(file);
  } catch {
    return undefined;
  }
  const reals = await realRoots(roots);
  return reals.some((root) => isInside(root, real)) ? real : undefined;
}
