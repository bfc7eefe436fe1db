// process_record_file_path — which file the call record links to.
// Activate: copy to process_record_file_path.mjs. Time limit: 10 s by default.
//
// Links an mp3 instead of the wav: uses <name>.mp3 when it exists already (e.g. made
// by MixMonitor's post-command), else converts with `lame` (run directly, no shell)
// and tells the connector not to convert again. If anything fails, the original path
// is returned and the connector does its own conversion.

import { execFile } from 'node:child_process';
import { access } from 'node:fs/promises';

const exists = (file) => access(file).then(() => true, () => false);

function lame(from, to) {
  return new Promise((resolve) => {
    execFile('lame', ['--quiet', '-b', '64', from, to], { timeout: 8000 }, (err) => resolve(!err));
  });
}

export default async function processRecordFilePath({ path }) {
  if (!path.endsWith('.wav')) return { state: 'success', data: { path } };
  const mp3 = `${path.slice(0, -'.wav'.length)}.mp3`;
  if (await exists(mp3)) return { state: 'success', data: { path: mp3, convert_to_mp3: false } };
  if ((await exists(path)) && (await lame(path, mp3))) {
    return { state: 'success', data: { path: mp3, convert_to_mp3: false } };
  }
  return { state: 'success', data: { path } };
}
