#!/usr/bin/env node
/**
 * kommo-asterisk — the command line. Each command loads and validates the
 * configuration once, builds what it needs in ./compose.ts and runs.
 */
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { DEFAULT_CONFIG_PATH } from '../lib/config/index.js';
import { buildCore, loadConfigOrExit, onShutdown, startAgi } from './compose.js';
import { redact } from '../lib/log.js';

interface GlobalArgs {
  config?: string;
}

async function main(): Promise<void> {
  await yargs(hideBin(process.argv))
    .scriptName('kommo-asterisk')
    .usage('$0 <command> [options]')
    .option('config', {
      alias: 'c',
      type: 'string',
      describe: `configuration file (default ${DEFAULT_CONFIG_PATH}, or env KA_CONFIG)`,
    })
    .command(
      'agi',
      'run the FastAGI server (autodistribution)',
      () => {},
      async (argv: GlobalArgs) => {
        const config = loadConfigOrExit(configPath(argv));
        const core = buildCore(config);
        const agi = await startAgi(core);
        onShutdown(core.logger, async () => {
          await agi.close();
          await core.hooks.close();
          await core.kommo.close();
        });
      },
    )
    .command(
      'config',
      'validate the configuration and print it with secrets hidden',
      () => {},
      (argv: GlobalArgs) => {
        const config = loadConfigOrExit(configPath(argv));
        process.stdout.write(`${JSON.stringify(redact(config), null, 2)}\n`);
      },
    )
    .command(
      'simulator',
      'run the strict Kommo API simulator (for tests and the sandbox)',
      (y) =>
        y
          .option('port', { type: 'number', default: 8090 })
          .option('host', { type: 'string', default: '127.0.0.1' })
          .option('token', { type: 'string', default: 'sandbox-long-lived-token', describe: 'long-lived token the simulator accepts' }),
      async (argv) => {
        const { startSimulator } = await import('../lib/simulator/index.js');
        const sim = await startSimulator({ host: argv.host, port: argv.port, longLivedToken: argv.token });
        process.stdout.write(`Kommo simulator listening on ${sim.url} (inspection API: ${sim.url}/__sim/state)\n`);
        const stop = async () => {
          await sim.close();
          process.exit(0);
        };
        process.on('SIGTERM', () => void stop());
        process.on('SIGINT', () => void stop());
      },
    )
    .demandCommand(1, 'name a command; --help lists them')
    .strict()
    .help()
    .parseAsync();
}

function configPath(argv: GlobalArgs): string | undefined {
  return argv.config ?? process.env.KA_CONFIG ?? undefined;
}

main().catch((err: unknown) => {
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`kommo-asterisk: ${message}\n`);
  process.exit(1);
});
