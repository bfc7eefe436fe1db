import { buildCore, buildRegistration, loadConfigOrExit } from '../compose.js';
import { configPath, type Command } from './types.js';

interface Args {
  id?: string;
  wait?: boolean;
}

/**
 * Failed registrations back to pending. The journal has one owner: run this while the
 * bridge is stopped (the bridge picks the records up at its next start), or with
 * `--wait` to register them here and now.
 */
const command: Command = {
  command: 'retry-failed [id]',
  describe: 'queue failed call registrations again (all, or one journal id); --wait registers them now',
  builder: (y) =>
    y
      .positional('id', { type: 'string', describe: 'journal id (the linkedid) of one failed call' })
      .option('wait', { type: 'boolean', default: false, describe: 'register them now and wait until done' }),
  handler: async (argv) => {
    const args = argv as Args;
    const core = buildCore(loadConfigOrExit(configPath(argv)));
    const { registrar } = await buildRegistration(core);
    let code = 0;
    try {
      const ids = await registrar.retryFailed(args.id);
      if (args.id !== undefined && ids.length === 0) {
        process.stderr.write(`kommo-asterisk: no failed registration with id ${args.id}\n`);
        code = 1;
      } else {
        process.stdout.write(`${ids.length} failed registration(s) queued again${ids.length ? `: ${ids.join(', ')}` : ''}\n`);
      }
      if (args.wait && ids.length > 0) {
        await registrar.start();
        await registrar.idle();
        const s = registrar.stats();
        process.stdout.write(`done; pending ${s.pending}, failed ${s.failed}\n`);
        if (s.failed > 0) code = 1;
      }
    } catch (err) {
      process.stderr.write(`kommo-asterisk: ${err instanceof Error ? err.message : String(err)}\n`);
      code = 1;
    } finally {
      await registrar.close();
      await core.hooks.close();
      await core.kommo.close();
    }
    process.exit(code);
  },
};
export default command;
