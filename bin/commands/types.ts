import type { CommandModule } from 'yargs';

/** Options every command accepts. */
export interface GlobalArgs {
  config?: string;
}

// Each command file default-exports one of these; bin/kommo-asterisk.ts lists them.
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- yargs' own generics do not compose across files
export type Command = CommandModule<any, any>;

export function configPath(argv: object): string | undefined {
  const config = (argv as GlobalArgs).config;
  return typeof config === 'string' ? config : process.env.KA_CONFIG;
}
