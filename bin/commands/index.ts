import type { Command } from './types.js';
import agi from './agi.js';
import bridge from './bridge.js';
import config from './config.js';
import retryFailed from './retry-failed.js';
import simulator from './simulator.js';
import start from './start.js';

/** Every CLI command, in the order `--help` lists them. Add new ones here. */
export const commands: Command[] = [start, agi, bridge, retryFailed, config, simulator];
