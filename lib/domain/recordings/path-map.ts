/**
 * Recording paths as Asterisk names them (MIXMONITOR_FILENAME) are not always
 * the connector's paths: Asterisk may run in a chroot or a container, or write
 * to a share the connector mounts elsewhere. `recordings.asterisk_dir` names
 * the directory as Asterisk sees it; a path under it is moved under
 * `recordings.dir`. Any other path is returned unchanged (and later refused
 * when it is outside `recordings.dir`).
 */
import path from 'node:path';

export function mapAsteriskPath(file: string, asteriskDir: string | undefined, dir: string): string {
  if (!asteriskDir) return file;
  const from = path.posix.normalize(asteriskDir).replace(/\/+$/, '');
  const normalized = path.posix.normalize(file);
  if (normalized !== from && !normalized.startsWith(`${from}/`)) return file;
  const rest = normalized.slice(from.length).replace(/^\/+/, '');
  // `rest` cannot climb out: normalize() removed every `..` that could be resolved, and
  // a leading `..` would not have started with `${from}/`.
  return path.join(dir, rest);
}
