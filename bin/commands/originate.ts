import type { ArgumentsCamelCase, Argv } from 'yargs';
import { buildCore, loadConfigOrExit } from '../compose.js';
import { createAmiClient } from '../../lib/protocol/ami/index.js';
import { createClickToCall, OriginateError, serverForExtension } from '../../lib/domain/originate/index.js';
import { amiServers } from '../../lib/platform/config/index.js';
import { configPath, type Command } from './types.js';

interface Args {
  from: string;
  to: string;
}

const command: Command = {
  command: 'originate',
  describe: 'click-to-call from the command line: ring extension --from, then dial --to',
  builder: (y: Argv) =>
    y
      .option('from', { type: 'string', demandOption: true, describe: 'the employee\'s extension, e.g. 101' })
      .option('to', { type: 'string', demandOption: true, describe: 'the client\'s number, e.g. +7 999 123-45-67' }),
  handler: async (raw) => {
    const argv = raw as ArgumentsCamelCase<Args>;
    const core = buildCore(loadConfigOrExit(configPath(argv)));
    // The server that lists the extension (ami[].extensions), else the first.
    const server = serverForExtension(amiServers(core.config), String(argv.from).trim());
    const ami = createAmiClient(server, { logger: core.logger.child({ pbx: server.name }) });
    let code = 1;
    try {
      await ami.connect();
      const service = createClickToCall({ config: core.config, ami, hooks: core.hooks, normalizePhone: core.normalizePhone, logger: core.logger });
      const outcome = await service.clickToCall({ extension: String(argv.from), phone: String(argv.to) }, { wait: true });
      const o = outcome as unknown as Record<string, unknown>;
      process.stdout.write(`${String(o.response ?? o.state)}: ${String(o.reasonText ?? '')} (channel ${String(o.channelId ?? '?')})\n`);
      code = o.state === 'answered' ? 0 : 1;
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      const tag = err instanceof OriginateError ? err.code : ((err as { code?: string }).code ?? 'ERROR');
      process.stdout.write(`Failure: ${tag}: ${message}\n`);
    } finally {
      await ami.close().catch(() => undefined);
      await core.hooks.close();
      await core.kommo.close();
    }
    process.exit(code);
  },
};
export default command;
