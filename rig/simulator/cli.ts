/**
 * The `kommo-asterisk simulator` subcommand: start a simulator, print where it listens
 * and how to authenticate. The caller (bin/) owns signals and the process.
 */
import type { KommoSimulator } from './index.js';
import type { SimulatorOptions } from './types.js';

export interface SimulatorCliOptions {
  host?: string;
  port?: number;
  token?: string;
  rateLimit?: number;
  latency?: number;
  unsortedDuplicates?: 'reject' | 'tag';
}

export interface CliOutput {
  write(text: string): unknown;
}

/** Parse `--port 8090 --host 0.0.0.0 --token T --rate-limit 7 --latency 50 --unsorted-duplicates reject`. */
export function parseSimulatorArgs(argv: readonly string[]): SimulatorCliOptions {
  const out: SimulatorCliOptions = {};
  const problems: string[] = [];
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i] ?? '';
    const [flag, inline] = arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    const value = (): string => {
      const v = inline ?? argv[++i];
      if (v === undefined) problems.push(`${flag} needs a value`);
      return v ?? '';
    };
    const int = (v: string): number => {
      if (!/^\d+$/.test(v)) problems.push(`${flag} must be a non-negative integer, got "${v}"`);
      return Number(v);
    };
    switch (flag) {
      case '--host': out.host = value(); break;
      case '--port': out.port = int(value()); break;
      case '--token': out.token = value(); break;
      case '--rate-limit': out.rateLimit = int(value()); break;
      case '--latency': out.latency = int(value()); break;
      case '--unsorted-duplicates': {
        const v = value();
        if (v === 'reject' || v === 'tag') out.unsortedDuplicates = v;
        else problems.push(`--unsorted-duplicates must be reject or tag, got "${v}"`);
        break;
      }
      default: problems.push(`unknown option ${arg}`);
    }
  }
  if (problems.length > 0) throw new Error(`simulator options are invalid:\n  - ${problems.join('\n  - ')}`);
  return out;
}

/** Start the simulator and print its URL, token and OAuth settings. Resolves once listening. */
export async function runSimulatorCli(cli: SimulatorCliOptions, out: CliOutput = process.stdout): Promise<KommoSimulator> {
  const { startSimulator } = await import('./index.js');
  const opts: SimulatorOptions = {
    host: cli.host ?? '127.0.0.1',
    port: cli.port ?? 8090,
    ...(cli.token !== undefined ? { longLivedToken: cli.token } : {}),
    ...(cli.rateLimit !== undefined ? { rateLimitPerSecond: cli.rateLimit } : {}),
    ...(cli.latency !== undefined ? { latencyMs: cli.latency } : {}),
    ...(cli.unsortedDuplicates !== undefined ? { unsortedDuplicates: cli.unsortedDuplicates } : {}),
  };
  const sim = await startSimulator(opts);
  out.write([
    `Kommo simulator listening on ${sim.url}`,
    `  long-lived token: ${sim.longLivedToken}`,
    `  oauth: client_id=${sim.oauth.clientId} client_secret=${sim.oauth.clientSecret} redirect_uri=${sim.oauth.redirectUri}`,
    `  oauth: refresh_token=${sim.currentRefreshToken() ?? ''} code=${sim.oauth.authorizationCode}`,
    `  inspect: ${sim.url}/__sim/state  ${sim.url}/__sim/requests  ${sim.url}/__sim/counters  (POST /__sim/faults, /__sim/reset, /__sim/seed)`,
    '',
  ].join('\n'));
  return sim;
}
