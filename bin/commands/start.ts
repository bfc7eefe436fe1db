import { buildCore, loadConfigOrExit, onShutdown, startAgi, startBridge, startHttp } from '../compose.js';
import { exitOnStartError } from './bridge.js';
import { configPath, type Command } from './types.js';

const command: Command = {
  command: 'start',
  describe: 'run everything in one process: FastAGI server, AMI bridge and HTTP server (one Kommo client)',
  handler: async (argv) => {
    const startedAt = new Date();
    const core = buildCore(loadConfigOrExit(configPath(argv)));
    const bridge = await startBridge(core).catch(exitOnStartError);
    const agi = await startAgi(core);
    const http = await startHttp(core, { bridge, agi, startedAt });
    onShutdown(core.logger, async () => {
      // Stop taking new work first (HTTP, AGI), then drain the bridge, then the shared clients.
      await Promise.allSettled([http?.close(), agi.close()]);
      await bridge.close();
      await core.hooks.close();
      await core.kommo.close();
    });
  },
};
export default command;
