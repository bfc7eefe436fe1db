import { buildCore, loadConfigOrExit } from '../compose.js';
import { createAmiClient } from '../../lib/protocol/ami/index.js';
import { exitCodeFor, formatChecks, runChecks } from '../../lib/domain/check/index.js';
import { createLogger } from '../../lib/platform/log.js';
import { DEFAULT_CONFIG_PATH } from '../../lib/platform/config/index.js';
import { configPath, type Command } from './types.js';

const command: Command = {
  command: 'check',
  describe: 'check the configuration, AMI login, Kommo token, PHONE field, extensions, users and customizations',
  handler: async (argv) => {
    const path = configPath(argv);
    const config = loadConfigOrExit(path);
    // Checks print their own one-line verdicts; the components' logs would only repeat them.
    const logger = createLogger({ level: 'fatal', destination: process.stderr });
    const core = buildCore(config, logger);
    const results = await runChecks({
      config,
      kommo: core.kommo,
      amiFactory: (c) => createAmiClient(c, { logger }),
      hooks: core.hooks,
      logger,
      configSource: path ?? DEFAULT_CONFIG_PATH,
    });
    process.stdout.write(`${formatChecks(results)}\n`);
    await core.hooks.close();
    await core.kommo.close();
    process.exit(exitCodeFor(results));
  },
};
export default command;
