import type { Argv, ArgumentsCamelCase } from 'yargs';
import type { Command } from './types.js';

const command: Command = {
  command: 'simulator',
  describe: 'run the strict Kommo API simulator (for tests and the sandbox)',
  builder: (y: Argv) =>
    y
      .option('port', { type: 'number', default: 8090 })
      .option('host', { type: 'string', default: '127.0.0.1' })
      .option('token', { type: 'string', describe: 'long-lived token the simulator accepts (random when omitted)' })
      .option('rate-limit', { type: 'number', default: 7, describe: 'requests per second before 429' })
      .option('latency', { type: 'number', default: 0, describe: 'milliseconds added to every answer' }),
  handler: async (raw) => {
    const argv = raw as ArgumentsCamelCase<{ port: number; host: string; token?: string; 'rate-limit': number; latency: number }>;
    const { runSimulatorCli, parseSimulatorArgs } = await import('../../rig/simulator/index.js');
    const args = ['--port', String(argv.port), '--host', argv.host, '--rate-limit', String(argv['rate-limit']), '--latency', String(argv.latency)];
    if (argv.token) args.push('--token', argv.token);
    const sim = await runSimulatorCli(parseSimulatorArgs(args));
    const stop = () => void sim.close().then(() => process.exit(0));
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  },
};
export default command;
