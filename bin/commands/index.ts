import type { Command } from './types.js';
import adminPassword from './admin-password.js';
import agi from './agi.js';
import bridge from './bridge.js';
import check from './check.js';
import config from './config.js';
import originate from './originate.js';
import reprocess from './reprocess.js';
import retryFailed from './retry-failed.js';
import sandbox from './sandbox.js';
import simulator from './simulator.js';
import start from './start.js';
import widget from './widget.js';

/** Every CLI command, in the order `--help` lists them. Add new ones here. */
export const commands: Command[] = [start, agi, bridge, originate, check, reprocess, retryFailed, adminPassword, config, simulator, sandbox, widget];
