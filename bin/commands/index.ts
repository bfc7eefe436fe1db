import type { Command } from './types.js';
import agi from './agi.js';
import config from './config.js';
import simulator from './simulator.js';

/** Every CLI command, in the order `--help` lists them. Add new ones here. */
export const commands: Command[] = [agi, config, simulator];
