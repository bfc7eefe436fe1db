import type { ArgumentsCamelCase, Argv } from 'yargs';
import type { Command } from './types.js';

const command: Command = {
  command: 'sandbox',
  describe: 'run the whole product on this machine: a real Asterisk, the Kommo simulator, the connector, a few real calls; print what landed in Kommo (as root)',
  builder: (y: Argv) => y.option('stay', { type: 'boolean', default: false, describe: 'keep everything running afterwards (Ctrl-C stops)' }),
  handler: async (raw) => {
    const argv = raw as ArgumentsCamelCase<{ stay: boolean }>;
    const { runSandbox } = await import('../sandbox.js');
    const code = await runSandbox({ stay: argv.stay, out: process.stdout });
    process.exit(code);
  },
};
export default command;
