import { buildCore, loadConfigOrExit, onShutdown, PhoneFieldMissingError, startBridge } from '../compose.js';
import { configPath, type Command } from './types.js';

/** Print why the bridge cannot run and exit non-zero (the PHONE field is missing: 3). */
export function exitOnStartError(err: unknown): never {
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`kommo-asterisk: ${message}\n`);
  process.exit(err instanceof PhoneFieldMissingError ? err.exitCode : 1);
}

const command: Command = {
  command: 'bridge',
  describe: 'run the AMI bridge: follow every call and register it in Kommo after hangup',
  handler: async (argv) => {
    const core = buildCore(loadConfigOrExit(configPath(argv)));
    const runtime = await startBridge(core).catch(exitOnStartError);
    onShutdown(core.logger, async () => {
      await runtime.close();
      await core.hooks.close();
      await core.kommo.close();
    });
  },
};
export default command;
