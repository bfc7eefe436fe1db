import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Argv, ArgumentsCamelCase } from 'yargs';
import { packageRoot } from '../../rig/sandbox/repo.js';
import { buildWidgetArchive, WidgetPackageError } from '../widget-package.js';
import type { Command } from './types.js';

const command: Command = {
  command: 'widget',
  describe: 'check the Kommo widget (widget/) and write its upload archive',
  builder: (y: Argv) =>
    y
      .option('out', { type: 'string', default: 'dist/widget.zip', describe: 'archive to write' })
      .option('dir', { type: 'string', describe: 'widget folder (default: the package\'s widget/)' }),
  handler: (raw) => {
    const argv = raw as ArgumentsCamelCase<{ out: string; dir?: string }>;
    const dir = argv.dir ?? path.join(packageRoot(), 'widget');
    try {
      const { zip, files } = buildWidgetArchive(dir);
      mkdirSync(path.dirname(path.resolve(argv.out)), { recursive: true });
      writeFileSync(argv.out, zip);
      process.stdout.write(`wrote ${argv.out}: ${files.length} files, ${zip.length} bytes\n${files.map((f) => `  ${f}\n`).join('')}`);
      process.stdout.write('Upload it in Kommo: Settings → Integrations → your private integration → Upload widget archive.\n');
    } catch (err) {
      if (err instanceof WidgetPackageError) {
        process.stderr.write(`kommo-asterisk: ${err.message}\n`);
        process.exit(2);
      }
      throw err;
    }
  },
};
export default command;
