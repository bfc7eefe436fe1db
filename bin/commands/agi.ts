import { buildCore, loadConfigOrExit, onShutdown, startAgi } from '../compose.js';
import { configPath, type Command } from './types.js';

const command: Command = {
  command: 'agi',
  describe: 'run the FastAGI server (autodistribution)',
  handler: async (argv) => {
    // The FastAGI server never connects to AMI: no ami.secret needed.
    const core = buildCore(loadConfigOrExit(configPath(argv), { amiRequired: false }));
    const agi = await startAgi(core);
    onShutdown(core.logger, async () => {
      await agi.close();
      await core.hooks.close();
      await core.kommo.close();
    });
  },
};
export default command;
