import type { ArgumentsCamelCase, Argv } from 'yargs';
import { buildCore, buildRegistration, loadConfigOrExit } from '../compose.js';
import { formatSummary, reprocess } from '../../lib/domain/reprocess/index.js';
import { amiServers } from '../../lib/platform/config/index.js';
import { configPath, type Command } from './types.js';

interface Args {
  from: string;
  to: string;
  source?: string;
  dryRun: boolean;
  force: boolean;
  server?: string;
}

function parseTime(value: string, name: string): Date {
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) throw new Error(`--${name}: not a date/time: "${value}" (use e.g. 2026-11-24T08:00)`);
  return d;
}

const command: Command = {
  command: 'reprocess',
  describe: 'register the calls of a period from Asterisk\'s CDR file (calls that ended while the connector was down); never duplicates',
  builder: (y: Argv) =>
    y
      .option('from', { type: 'string', demandOption: true, describe: 'start of the period (ISO date/time)' })
      .option('to', { type: 'string', demandOption: true, describe: 'end of the period (ISO date/time, exclusive)' })
      .option('source', { type: 'string', describe: 'the cdr_custom CSV file (default reprocess.source)' })
      .option('dry-run', { type: 'boolean', default: false, describe: 'list what would be registered, register nothing' })
      .option('server', { type: 'string', describe: 'the Asterisk server (ami[].name) the CDR file comes from; required when ami lists several' })
      .option('force', { type: 'boolean', default: false, describe: 'allow a period older than the journal retention (duplicates possible)' }),
  handler: async (raw) => {
    const argv = raw as ArgumentsCamelCase<Args>;
    const from = parseTime(argv.from, 'from');
    const to = parseTime(argv.to, 'to');
    const config = loadConfigOrExit(configPath(argv));
    const names = amiServers(config).map((x) => x.name);
    if (argv.server !== undefined && !names.includes(argv.server)) throw new Error(`--server: no AMI server named "${argv.server}" (servers: ${names.join(', ')})`);
    if (argv.server === undefined && names.length > 1) throw new Error(`--server is required with several AMI servers (${names.join(', ')}): each server's CDR file is re-processed on its own`);
    const server = argv.server ?? names[0]!;
    const core = buildCore(config);
    const { store, registrar } = await buildRegistration(core);
    const summary = await reprocess({
      from,
      to,
      source: argv.source ?? core.config.reprocess.source,
      registrar,
      store,
      pbx: core.config.pbx,
      server,
      logger: core.logger,
      dryRun: argv.dryRun,
      force: argv.force,
    });
    process.stdout.write(`${formatSummary(summary)}\n`);
    if (!argv.dryRun && summary.submitted > 0) {
      registrar.start();
      await registrar.idle();
    }
    await registrar.close();
    await core.hooks.close();
    await core.kommo.close();
    process.exit(summary.errors > 0 ? 1 : 0);
  },
};
export default command;
