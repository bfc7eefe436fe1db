#!/usr/bin/env node
/**
 * kommo-asterisk — the command line. Each command (bin/commands/*.ts) loads
 * and validates the configuration once, builds what it needs through
 * bin/compose.ts, the one composition root, and runs.
 */
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { DEFAULT_CONFIG_PATH } from '../lib/platform/config/index.js';
import { commands } from './commands/index.js';

async function main(): Promise<void> {
  await yargs(hideBin(process.argv))
    .scriptName('kommo-asterisk')
    .usage('$0 <command> [options]')
    .option('config', {
      alias: 'c',
      type: 'string',
      describe: `configuration file (default ${DEFAULT_CONFIG_PATH}, or env KA_CONFIG)`,
    })
    .command(commands)
    .demandCommand(1, 'name a command; --help lists them')
    .strict()
    .help()
    .parseAsync();
}

main().catch((err: unknown) => {
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`kommo-asterisk: ${message}\n`);
  process.exit(1);
});
