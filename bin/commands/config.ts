import { loadConfigOrExit } from '../compose.js';
import { redact } from '../../lib/platform/log.js';
import { configPath, type Command } from './types.js';

const command: Command = {
  command: 'config',
  describe: 'validate the configuration and print it with secrets hidden',
  handler: (argv) => {
    const config = loadConfigOrExit(configPath(argv));
    process.stdout.write(`${JSON.stringify(redact(config), null, 2)}\n`);
  },
};
export default command;
