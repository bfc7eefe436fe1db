/**
 * The one configuration schema, the validator that reports every problem at
 * once, and the reference table generated from it (docs/config-reference.md).
 * Defaults are not here: they live in ./defaults.ts only.
 */
import { HOOK_NAMES, type HookName } from '../hook-names.js';
import { compileRewriteRule } from '../phone.js';
import { defaults } from './defaults.js';
import { AMI_NAME_EXPECT, AMI_NAME_PATTERN, amiSecretEnvName } from './ami.js';
import { AMBIGUOUS_AMI_SECRET, envVarFor } from './env.js';
import type {
  AgiConfig, AmiConfig, Config, CustomizationsConfig, HttpConfig, KommoConfig, KommoOAuthConfig, NotificationsConfig,
  ListsConfig, OriginateConfig, RegistrationRule, PbxConfig, PhoneConfig, RecordingsConfig, RegistrationConfig, ReprocessConfig, RewriteRule,
} from './types.js';

/** The 13 customization hooks — one list, in lib/platform/hook-names.ts. */
export { HOOK_NAMES, type HookName };

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

// ─── schema language ────────────────────────────────────────────────────────

interface Common {
  description: string;
  example?: unknown;
  /** Never echoed in messages, redacted in logs. */
  secret?: boolean;
  /** May be absent (it has no default). */
  optional?: boolean;
  /** Shown in the reference instead of the default from defaults.ts. */
  defaultText?: string;
}
type StringFormat = 'url' | 'base_url' | 'regex';
export type SchemaNode =
  | (Common & { kind: 'string'; minLength?: number; format?: StringFormat; pattern?: RegExp; expect?: string; enum?: readonly string[] })
  | (Common & { kind: 'integer'; min: number; max: number; enum?: readonly number[]; expect?: string })
  | (Common & { kind: 'boolean' })
  | (Common & { kind: 'object'; fields: Record<string, SchemaNode> })
  | (Common & { kind: 'array'; items: SchemaNode })
  | (Common & { kind: 'map'; keyDoc: string; checkKey: (key: string) => string | undefined; values: SchemaNode })
  /**
   * One object, or a non-empty list of such objects. List items get `itemDefaults`
   * (the object's defaults but those each item must set).
   */
  | (Common & { kind: 'oneOrList'; item: SchemaNode; itemDefaults: () => Record<string, unknown> });

type Opts<N> = Partial<Omit<N, 'kind' | 'description'>>;
type Of<K extends SchemaNode['kind']> = Extract<SchemaNode, { kind: K }>;

const str = (description: string, o: Opts<Of<'string'>> = {}): SchemaNode => ({ kind: 'string', description, minLength: 1, ...o });
const int = (min: number, max: number, description: string, o: Opts<Of<'integer'>> = {}): SchemaNode =>
  ({ ...o, kind: 'integer', description, min, max });
const bool = (description: string, o: Opts<Of<'boolean'>> = {}): SchemaNode => ({ ...o, kind: 'boolean', description });
const list = (items: SchemaNode, description: string, o: Opts<Of<'array'>> = {}): SchemaNode =>
  ({ ...o, kind: 'array', description, items });
/** An object whose fields are exactly the keys of T (checked by the compiler). */
function obj<T>(description: string, fields: { [K in keyof T]-?: SchemaNode }, o: Partial<Common> = {}): SchemaNode {
  return { ...o, kind: 'object', description, fields: fields as Record<string, SchemaNode> };
}

const MAX_ID = Number.MAX_SAFE_INTEGER;
const ms = (min: number, max: number, description: string): SchemaNode => int(min, max, `${description} (milliseconds)`);
const userId = (description: string, o: Partial<Common> = {}): SchemaNode =>
  int(1, MAX_ID, description, { expect: 'a Kommo user id (positive integer)', ...o });
const positiveId = (description: string, o: Partial<Common> = {}): SchemaNode =>
  int(1, MAX_ID, description, { expect: 'a positive integer id', ...o });
const port = (description: string): SchemaNode => int(1, 65535, description);
const digits = (description: string): SchemaNode =>
  str(description, { pattern: /^[0-9]{1,20}$/, expect: 'digits only (1–20)' });
const trunkName = (description: string): SchemaNode =>
  str(description, { pattern: /^[^\s/]+$/, expect: 'an endpoint name (no spaces or "/")' });

const lists = (what: string, description: string): SchemaNode => obj<ListsConfig>(description, {
  extensions: list(digits('extension'), `Extensions whose calls are ${what}ed.`, { example: ['104'] }),
  trunks: list(trunkName('trunk'), `Trunks whose calls are ${what}ed.`, { example: ['trunk'] }),
  numbers: list(digits('number'), `Client numbers (digits, after rewriting) whose calls are ${what}ed.`, { example: ['79990000000'] }),
});

export const schema: SchemaNode = obj<Config>('The configuration file', {
  data_dir: str('Directory for the durable call queue, idempotency records and OAuth tokens.', { example: '/var/lib/kommo-asterisk' }),
  log: obj<Config['log']>('Logging', {
    level: str('Log level (pino).', { enum: LOG_LEVELS }),
  }),
  kommo: obj<KommoConfig>('Kommo account and API client', {
    base_url: str('Account URL, `https://<subdomain>.kommo.com`, or the simulator\'s URL. Any path is rejected; a trailing slash is dropped.', {
      format: 'base_url', example: 'https://example.kommo.com',
    }),
    long_lived_token: str('Long-lived token of a private integration. Set this or `kommo.oauth`, not both.', {
      secret: true, optional: true, pattern: /^\S+$/, expect: 'a token without whitespace',
    }),
    oauth: obj<KommoOAuthConfig>('OAuth 2.0 of a public integration (instead of a long-lived token).', {
      client_id: str('Integration id.'),
      client_secret: str('Integration secret key.', { secret: true }),
      redirect_uri: str('Redirect URI registered for the integration.', { format: 'url', example: 'https://pbx.example.com/oauth' }),
      refresh_token: str('Seed refresh token, used once when `token_file` does not exist yet.', {
        secret: true, optional: true, pattern: /^\S+$/, expect: 'a token without whitespace',
      }),
      token_file: str('Where the rotated token pair is kept (written atomically).', {
        optional: true, defaultText: '`<data_dir>/kommo-tokens.json`',
      }),
    }, { optional: true }),
    rate_limit_per_second: int(1, 100, 'Requests per second to Kommo. Kommo allows 7; more only makes sense against the simulator.'),
    realtime_reserve: int(0, 99, 'Requests per second of the rate limit that registration never uses, kept for real-time work: incoming-call popups and autodistribution look-ups (someone is waiting). Real-time requests are always served before registration, but with 0 one may wait for the next free slot during a registration backlog (up to about a second). 1 (the default) keeps a popup from waiting (measured p99 25 ms instead of 718 ms during a 300-call backlog; registration gets 6 of 7 requests per second); 2 also spares an uncached autodistribution caller (contacts and companies at once) the wait, registration then gets 5 of 7. Less than `rate_limit_per_second`.'),
    request_timeout_ms: ms(100, 120_000, 'Deadline of one Kommo request'),
    connect_timeout_ms: ms(100, 60_000, 'TCP/TLS connect deadline'),
    retry: obj<KommoConfig['retry']>('Retries of one request on 429/5xx/network errors', {
      max_attempts: int(1, 20, 'Attempts per request that Kommo answered (429/5xx), the first included.'),
      base_delay_ms: ms(10, 60_000, 'First backoff delay'),
      max_delay_ms: ms(100, 3_600_000, 'Backoff cap'),
      max_elapsed_ms: ms(1_000, 3_600_000, 'Total retry budget of one request that got no answer (connection refused, DNS); must outlast the Kommo outages one request should ride out'),
    }),
    phone_enum: str('enum_code of phone values the connector writes.', { enum: ['WORK', 'WORKDD', 'MOB', 'FAX', 'HOME', 'OTHER'] }),
    source: str('`source` of call records.'),
    tag: str('Tag put on contacts and leads the connector creates.'),
  }),
  phone: obj<PhoneConfig>('Phone numbers', {
    rewrite_rules: list(obj<RewriteRule>('rule', {
      match: str('JavaScript regular expression; the rule applies only when it matches the whole digits-only number.', {
        format: 'regex', example: '^8(\\d{10})$',
      }),
      replace: str('Replacement: digits and `$1`-style references only.', { minLength: 0, example: '7$1' }),
    }), 'Automatic number rewriting, run on the digits-only number before the `process_client_phone` hook. Rules run in order, each on the result of the previous one.', {
      example: [{ match: '^8(\\d{10})$', replace: '7$1' }],
    }),
    internal_max_digits: int(1, 10, 'Numbers with at most this many digits are internal extensions, never clients.'),
    match_digits: int(6, 15, 'Trailing digits compared when matching numbers (Kommo uses 10).'),
  }),
  pbx: obj<PbxConfig>('The PBX', {
    extensions: {
      kind: 'map', keyDoc: '<extension>', description: 'Extension → Kommo user id.', example: { 101: 5001, 102: 5002 },
      checkKey: (key) => (/^[0-9]+$/.test(key) ? undefined : 'an extension must be digits only'),
      values: userId('Kommo user id of the employee at this extension.'),
    },
    trunks: list(trunkName('trunk'), 'PJSIP/SIP endpoint names that are trunks (the part after `PJSIP/` and before the last `-`).', {
      example: ['trunk'],
    }),
    extension_pattern: str('Regular expression an endpoint name must match to count as an employee extension.', { format: 'regex' }),
    default_user_id: userId('Kommo user responsible when nobody else is (missed calls).', { optional: true, example: 5001 }),
  }),
  ami: {
    kind: 'oneOrList',
    description: 'Asterisk Manager Interface: one server (an object), or several sharing this Kommo account (a non-empty list of objects with the keys below, each with its own unique `name`; keys left out take the defaults below). With several servers, journal ids and Kommo `uniq`s are `<name>.<linkedid>`, so equal linkedids of two servers never collide; one server keeps plain linkedids.',
    example: [{ name: 'branch-a', host: '10.0.0.5', extensions: ['101', '102'] }, { name: 'branch-b', host: '10.0.1.5', extensions: ['201'] }],
    itemDefaults: () => {
      const { name: _name, ...rest } = defaults.ami;
      return structuredClone(rest) as Record<string, unknown>;
    },
    item: obj<AmiConfig>('Asterisk Manager Interface', {
      name: str('The server\'s name: in `call_full.pbx`, every per-call log line, status and metrics (label `server`), and, with several servers, in journal ids. Required in a list; names are unique.', {
        pattern: AMI_NAME_PATTERN, expect: AMI_NAME_EXPECT, example: 'branch-a',
      }),
      host: str('AMI host.'),
      port: port('AMI port.'),
      username: str('AMI user (manager.conf).'),
      secret: str('AMI password. With several servers, env `AMI_SECRET_<NAME>` (the name upper-cased, `-` as `_`) sets one server\'s; `AMI_SECRET` then is an error.', { secret: true, minLength: 0 }),
      action_timeout_ms: ms(100, 120_000, 'Deadline of one AMI action'),
      reconnect_min_ms: ms(10, 600_000, 'First reconnect delay'),
      reconnect_max_ms: ms(100, 3_600_000, 'Reconnect delay cap'),
      max_queued_actions: int(1, 100_000, 'Actions queued while disconnected or waiting; more are refused.'),
      extensions: list(digits('extension'), 'Extensions registered on this server: click-to-call for them is originated here. A click-to-call for an extension no server lists goes to the first server.', { example: ['101', '102'] }),
    }),
  },
  agi: obj<AgiConfig>('FastAGI autodistribution server', {
    host: str('Listen address.'),
    port: port('Listen port.'),
    budget_ms: ms(100, 30_000, 'Hard budget of one autodistribution answer, from connection to reply'),
    command_timeout_ms: ms(50, 30_000, 'Deadline of one AGI command'),
    header_timeout_ms: ms(100, 60_000, 'Deadline for the AGI variables block'),
    max_connections: int(1, 100_000, 'Concurrent AGI connections.'),
    cache_ttl_seconds: int(0, 86_400, 'How long a found caller is cached (0 = no cache).'),
    negative_cache_ttl_seconds: int(0, 86_400, 'How long "not found" is cached (0 = no cache).'),
    cache_max_entries: int(0, 10_000_000, 'Cache size (0 = no cache).'),
    callerid_name_max: int(1, 20, 'Max characters of the CallerID name (never more than 20).'),
    search_companies: bool('Also search companies by the caller\'s number, in parallel with contacts: one more Kommo request per uncached caller, but an unknown caller costs one round trip instead of two.'),
    allow_from: list(
      str('address or CIDR block', { pattern: /^(?:\d{1,3}(?:\.\d{1,3}){3}|[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*)(?:\/\d{1,3})?$/, expect: 'an IP address or CIDR block (10.0.0.5, 10.0.0.0/24, ::1)' }),
      'Addresses allowed to connect to the FastAGI port: your Asterisk servers. Others are refused (counted, logged once per 10 s). Default: this machine only.',
      { example: ['127.0.0.0/8', '::1', '10.0.0.5'] },
    ),
  }),
  registration: obj<RegistrationConfig>('Registering calls in Kommo', {
    register_internal: bool('Register calls between two extensions as well.'),
    create_contact: bool('Create a contact for an unknown number.'),
    create_lead: bool('Create a lead with the new contact.'),
    lead_pipeline_id: positiveId('Pipeline of created leads (Kommo\'s main pipeline when unset).', { optional: true, example: 7_654_321 }),
    lead_status_id: positiveId('Status of created leads (the pipeline\'s first when unset).', { optional: true, example: 61_234_567 }),
    use_unsorted: bool('Create an incoming lead (leads/unsorted/sip) instead of contact + lead.'),
    tasks: obj<RegistrationConfig['tasks']>('Call-back tasks for missed calls', {
      enabled: bool('Create a call-back task for a missed incoming or unanswered outgoing call.'),
      deadline_minutes: int(1, 525_600, 'Task due time, minutes after the call.'),
      task_type_id: positiveId('Kommo task type (1 call, 2 meeting, 3 email).'),
      auto_complete: bool('When the client of a missed call is reached (an answered call, either direction), complete the open call-back task with "Reached on <date> by <user>" (through hook 8, `action: "complete"`); and while one is open, a new missed call creates no second one.'),
      auto_complete_window_hours: int(1, 168, 'Only call-back tasks created this many hours before the call count for auto_complete. At most 168 (the journal keeps done calls 7 days, and the connector asks Kommo for open call-back tasks only when its journal holds one for the client).'),
    }),
    rules: list(obj<RegistrationRule>('rule', {
      dids: list(digits('A DID.'), 'Dialled numbers (DIDs) of incoming calls; the rule matches when the call came in on one of them.', { optional: true }),
      trunks: list(trunkName('A trunk.'), 'Trunk endpoint names (or trunk numbers); the rule matches when the call went through one of them.', { optional: true }),
      calls: list(str('A call type.', { enum: ['incoming_answered', 'incoming_missed', 'outgoing'] }), 'Call types the rule matches: `incoming_answered`, `incoming_missed`, `outgoing`.', { optional: true }),
      client: str('`known` (a contact or company has the number) or `unknown`.', { enum: ['known', 'unknown'], optional: true }),
      register: bool('`false`: the call is not registered (an unknown client\'s rule is applied after the contact search: nothing is created).', { optional: true }),
      create: str('What an unknown client gets: `lead` (contact + lead), `incoming_lead` (leads/unsorted/sip), `contact` (contact only).', { enum: ['lead', 'incoming_lead', 'contact'], optional: true }),
      pipeline_id: positiveId('Pipeline of the created lead or incoming lead.', { optional: true }),
      status_id: positiveId('Status of the created lead.', { optional: true }),
      tag: str('Tag on the created contact and lead (instead of `kommo.tag`).', { optional: true }),
    }), 'Per-number rules, first match wins, applied before the hooks (hooks get the bodies they shape). Criteria left out match anything.', {
      example: [{ dids: ['74951234567'], calls: ['incoming_answered', 'incoming_missed'], client: 'unknown', create: 'incoming_lead', pipeline_id: 7654321, tag: 'moscow-line' }, { trunks: ['fax-trunk'], register: false }],
    }),
    blacklist: lists('blacklist', 'Calls matching any of these lists are not registered.'),
    whitelist: lists('whitelist', 'When any of these lists is non-empty, only calls matching one of them are registered.'),
    retry_base_ms: ms(100, 3_600_000, 'First delay before retrying a call Kommo could not take'),
    retry_max_ms: ms(1000, 86_400_000, 'Retry delay cap'),
    max_attempts: int(0, 1_000_000, 'Attempts for transient failures before a call is marked failed (0 = forever).'),
    batch: obj<RegistrationConfig['batch']>('Batching during a backlog', {
      enabled: bool('Creates of one kind (call records, contacts, leads, tasks) made while a request of that kind waits for a rate-limit slot leave together, as one Kommo request; a lone create leaves at once. Off: one request per create, and `concurrency` is 4.'),
      max_items: int(1, 250, 'Most items in one batched request (Kommo takes 250). An answer lost after sending costs each of its items a look-up before it is sent again.'),
      linger_ms: ms(0, 10_000, 'During a backlog (requests waiting for a rate-limit slot), each kind of create sends at most one request per this long, so that batches are fuller and the searches keep the slots; without a backlog nothing waits'),
      concurrency: int(1, 1000, 'Calls registered at the same time when batching is on, so that a backlog has many calls at the same step.'),
    }),
  }),
  http: obj<HttpConfig>('HTTP server: click-to-call, recording links, status', {
    enabled: bool('Run the HTTP server.'),
    host: str('Listen address.'),
    port: port('Listen port.'),
    public_url: str('Public base URL used in recording links (a trailing slash is dropped).', { format: 'url', example: 'https://pbx.example.com:8088' }),
    secret: str('Shared secret of the connector\'s own endpoints; required (16+ characters) when `http.enabled`.', { secret: true, minLength: 0 }),
    widget_secret: str('Kommo integration secret, to verify the widget\'s X-Auth-Token JWTs.', { secret: true, optional: true }),
    account_id: positiveId('Kommo account id the widget JWT must carry.', { optional: true, example: 31_234_567 }),
    max_body_bytes: int(256, 10_485_760, 'Largest accepted request body.'),
    request_timeout_ms: ms(1000, 600_000, 'Deadline for a whole request to arrive'),
    cors_origins: list(str('An origin such as `https://*.kommo.com`.'), 'Browser origins allowed to call click-to-call from the Kommo widget (CORS preflight).'),
    // admin panel (lib/adapters/http/admin)
    admin_enabled: bool('Serve the admin panel at `/admin` (same port).'),
    admin_password: str('The admin panel\'s password as an scrypt hash (`kommo-asterisk admin-password` makes one); without it the panel\'s password is `http.secret`.', { secret: true, optional: true }),
  }),
  recordings: obj<RecordingsConfig>('Call recordings', {
    enabled: bool('Put recording links in call records.'),
    dir: str('Directory MixMonitor writes into, as the connector sees it.'),
    convert_to_mp3: bool('Convert wav to mp3 (Kommo\'s player plays only mp3).'),
    mp3_bitrate: int(8, 320, 'mp3 bitrate, kbit/s.', {
      enum: [8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320],
    }),
    max_concurrent_conversions: int(1, 64, 'Conversions running at once.'),
    conversion_timeout_ms: ms(1000, 3_600_000, 'Deadline of one conversion'),
    link_ttl_days: int(1, 3650, 'How long a recording link stays valid, days.'),
    wait_closed_ms: ms(0, 600_000, 'How long to wait for MixMonitor to close the file'),
    asterisk_dir: str('The recordings directory as Asterisk names it in MIXMONITOR_FILENAME, when it differs from `recordings.dir` (Asterisk in a chroot or container, or on another host writing to a share).', { optional: true }),
    mp3_dir: str('Directory for the mp3 files (default: next to the wav); links may point into it.', { optional: true }),
    lame_path: str('The lame binary used for wav → mp3 (Debian package `lame`).'),
  }),
  originate: obj<OriginateConfig>('Click-to-call (AMI Originate)', {
    channel_tech: str('Technology of the employee\'s phone: the first leg is `<tech>/<extension>`.', { enum: ['PJSIP', 'SIP', 'IAX2', 'Local'] }),
    context: str('Dialplan context that dials the client once the employee answered (bundled: `kommo-originate`).'),
    ring_timeout_ms: ms(1000, 600_000, 'How long the employee\'s phone rings'),
    response_timeout_ms: int(1000, 900_000, 'How long the CLI waits for the OriginateResponse (milliseconds; default ring time + 15 s)', { optional: true }),
    caller_id_name: str('CallerID name shown on the employee\'s phone; the number shown is the client\'s.'),
  }),
  reprocess: obj<ReprocessConfig>('Re-processing calls from Asterisk\'s own records', {
    source: str('The cdr_custom CSV file Asterisk writes (see dialplan/cdr_custom.conf.sample).'),
  }),
  notifications: obj<NotificationsConfig>('Incoming-call popups in Kommo (`POST /api/v2/events`)', {
    enabled: bool('While an inbound call rings mapped extensions (`pbx.extensions`), show Kommo\'s call popup to their users. The request goes before registrations in the rate limiter, is never retried once the phone stopped ringing, and never delays anything else. Filtered by the `registration` lists and hook 1 (`need_registration`, stage `conversation_requested`).'),
    batch_ms: ms(0, 1000, 'Rings of one call that start within this window (a ring group, a ring-all queue) go out as one request naming every ringing user'),
    max_in_flight: int(1, 10_000, 'Notifications under way at once; one more is dropped and counted, never queued.'),
    timeout_ms: ms(1000, 600_000, 'The longest one notification is tried (429/5xx/network retries), even while its phone still rings'),
  }),
  customizations: obj<CustomizationsConfig>('Customizations (the 13 hooks)', {
    dir: str('Directory of hook files; a hook is on when its file exists.'),
    timeout_ms: ms(10, 600_000, 'Default time limit of a hook'),
    timeouts: {
      kind: 'map', keyDoc: '<hook>', description: `Per-hook time limits (milliseconds); keys are hook names: ${HOOK_NAMES.map((h) => `\`${h}\``).join(', ')}.`, example: { process_record_file_path: 10000 },
      checkKey: (key) => ((HOOK_NAMES as readonly string[]).includes(key) ? undefined : `unknown hook "${key}"; hooks are: ${HOOK_NAMES.join(', ')}`),
      values: ms(10, 600_000, 'Time limit of this hook'),
    },
    workers: int(1, 64, 'Worker threads that run JavaScript/TypeScript hooks, so that a hook that spins or blocks never stops the connector: at its time limit a worker that does not give its thread back is terminated and replaced. Hooks that wait on I/O share a worker; size it for hooks that burn CPU at once.'),
    worker_memory_mb: int(16, 4096, 'Heap limit of one hook worker thread (MiB); a hook that exceeds it loses its worker, not the connector.'),
  }),
});

// ─── validation ─────────────────────────────────────────────────────────────

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A value as shown in a message; secrets and token-looking strings are never shown. */
export function describeValue(value: unknown, secret = false): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string') {
    if (value === '') return 'an empty string';
    if (secret || /^eyJ[\w-]{8,}\./.test(value) || /^Bearer\s/i.test(value)) return 'a string (value hidden)';
    return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
  }
  if (secret) return `a ${typeof value}`;
  return String(value);
}

function regexError(pattern: string): string | undefined {
  try {
    new RegExp(pattern);
    return undefined;
  } catch (err) {
    const message = (err as Error).message;
    return message.slice(message.lastIndexOf(': ') + 2);
  }
}

function checkString(node: Of<'string'>, v: string, path: string): string | undefined {
  const got = `, got ${describeValue(v, node.secret)}`;
  if (node.enum && !node.enum.includes(v)) return `${path}: must be one of ${node.enum.map((e) => `"${e}"`).join(', ')}${got}`;
  if (v.length < (node.minLength ?? 0)) return v === '' ? `${path}: must not be empty` : `${path}: must be at least ${node.minLength} characters`;
  if (node.pattern && !node.pattern.test(v)) return `${path}: must be ${node.expect ?? `a string matching ${node.pattern}`}${got}`;
  if (node.format === 'regex') {
    const reason = regexError(v);
    if (reason) return `${path}: must be a valid regular expression (${reason})${got}`;
  }
  if (node.format === 'url' || node.format === 'base_url') {
    let url: URL | undefined;
    try { url = new URL(v); } catch { /* reported below */ }
    if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:') || !url.hostname) return `${path}: must be an http(s) URL${got}`;
    if (node.format === 'base_url' && (url.pathname !== '/' || url.search || url.hash || url.username)) {
      return `${path}: must be the account's base URL without a path, e.g. "${url.origin}"${got}`;
    }
  }
  return undefined;
}

function levenshtein(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min((prev[j] ?? 0) + 1, (cur[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length] ?? 0;
}

/** Every object key path of the schema, for "did you mean" across sections. */
function allObjectKeys(node: SchemaNode, prefix = '', out: string[] = []): string[] {
  if (node.kind === 'oneOrList') return allObjectKeys(node.item, prefix, out);
  if (node.kind === 'object') {
    for (const [k, child] of Object.entries(node.fields)) {
      const path = prefix ? `${prefix}.${k}` : k;
      out.push(path);
      allObjectKeys(child, path, out);
    }
  }
  return out;
}

function suggest(key: string, siblings: string[], prefix: string): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(key.length / 3)) + 1;
  for (const s of siblings) {
    const d = levenshtein(key.toLowerCase(), s);
    if (d < bestDistance) { best = prefix ? `${prefix}.${s}` : s; bestDistance = d; }
  }
  return best ?? allObjectKeys(schema).find((p) => p.endsWith(`.${key}`) || p === key);
}

const join = (path: string, key: string): string => (path ? `${path}.${key}` : key);

interface Ctx {
  problems: string[];
  origins: ReadonlyMap<string, string>;
  /** Paths that failed, so cross-checks do not pile on. */
  bad: Set<string>;
}

/**
 * Check `value` against `node`, pushing one-line problems. Returns the
 * normalised value (unknown keys and `null` optionals dropped, URLs tidied).
 */
function check(node: SchemaNode, value: unknown, path: string, ctx: Ctx): unknown {
  const { problems, origins } = ctx;
  const from = origins.get(path);
  const fail = (msg: string): undefined => {
    problems.push(from ? `${msg} (from env ${from})` : msg);
    ctx.bad.add(path);
    return undefined;
  };
  const got = `, got ${describeValue(value, node.secret)}`;
  switch (node.kind) {
    case 'string': {
      if (typeof value !== 'string') return fail(`${path}: must be ${node.enum ? `one of ${node.enum.map((e) => `"${e}"`).join(', ')}` : 'a string'}${got}`);
      const msg = checkString(node, value, path);
      if (msg) return fail(msg);
      if (node.format === 'base_url') return new URL(value).origin;
      if (node.format === 'url') return value.replace(/\/+$/, '');
      return value;
    }
    case 'integer': {
      const range = node.max === MAX_ID ? `an integer ≥ ${node.min}` : `an integer between ${node.min} and ${node.max}`;
      if (typeof value !== 'number' || !Number.isInteger(value) || value < node.min || value > node.max) {
        return fail(`${path}: must be ${node.expect ?? range}${got}`);
      }
      if (node.enum && !node.enum.includes(value)) return fail(`${path}: must be one of ${node.enum.join(', ')}${got}`);
      return value;
    }
    case 'boolean':
      return typeof value === 'boolean' ? value : fail(`${path}: must be true or false${got}`);
    case 'array': {
      if (!Array.isArray(value)) return fail(`${path}: must be an array${got}`);
      return value.map((item, i) => check(node.items, item, `${path}[${i}]`, ctx));
    }
    case 'map': {
      if (!isObj(value)) return fail(`${path}: must be an object${got}`);
      const out: Obj = {};
      for (const [k, v] of Object.entries(value)) {
        const keyProblem = node.checkKey(k);
        if (keyProblem) fail(`${path}[${JSON.stringify(k)}]: ${keyProblem}`);
        else out[k] = check(node.values, v, `${path}[${JSON.stringify(k)}]`, ctx);
      }
      return out;
    }
    case 'oneOrList': {
      if (!Array.isArray(value)) return check(node.item, value, path, ctx);
      if (value.length === 0) return fail(`${path}: must be an object or a non-empty list of objects, got an empty list`);
      return value.map((item, i) => {
        const at = `${path}[${i}]`;
        if (!isObj(item)) return check(node.item, item, at, ctx);
        const checked = check(node.item, { ...node.itemDefaults(), ...item }, at, ctx);
        return checked === undefined ? item : checked;
      });
    }
    case 'object': {
      if (!isObj(value)) return fail(`${path || 'config'}: must be an object${got}`);
      const out: Obj = {};
      for (const [k, child] of Object.entries(node.fields)) {
        const v = value[k];
        if (v === undefined || (v === null && child.optional)) {
          if (!child.optional) fail(`${join(path, k)}: is required${child.example !== undefined ? `, e.g. ${JSON.stringify(child.example)}` : ''}`);
          continue;
        }
        const checked = check(child, v, join(path, k), ctx);
        out[k] = checked === undefined ? v : checked; // keep a bad value so cross-checks see it is set
      }
      for (const k of Object.keys(value)) {
        if (k in node.fields || k.startsWith('//')) continue; // "//…" keys are comments
        const hint = suggest(k, Object.keys(node.fields), path);
        fail(`unknown key "${join(path, k)}"${hint ? ` (did you mean "${hint}"?)` : ''}`);
      }
      return out;
    }
  }
}

/** One server or several: reconnect delays in order, a secret each, unique names, an extension on one server only. */
function amiChecks(ami: unknown, problems: string[], bad: ReadonlySet<string>, amiRequired: boolean): void {
  const list = Array.isArray(ami);
  const servers = (list ? ami : [ami]).map((s: unknown, i) => ({ s: isObj(s) ? s : {}, at: list ? `ami[${i}]` : 'ami' }));
  const names = new Map<string, string>();
  const owners = new Map<string, string>();
  for (const { s, at } of servers) {
    const lo = s['reconnect_min_ms'];
    const hi = s['reconnect_max_ms'];
    if (typeof lo === 'number' && typeof hi === 'number' && lo > hi && !bad.has(`${at}.reconnect_min_ms`) && !bad.has(`${at}.reconnect_max_ms`)) {
      problems.push(`${at}.reconnect_min_ms: must not exceed ${at}.reconnect_max_ms (${hi}), got ${lo}`);
    }
    const name = s['name'];
    if (amiRequired && s['secret'] === '') {
      problems.push(list && servers.length > 1 && typeof name === 'string'
        ? `${at}.secret: is required: set ${at}.secret (or env ${amiSecretEnvName(name)})`
        : `${at}.secret: is required: set ${at}.secret (or env AMI_SECRET)`);
    }
    if (typeof name !== 'string' || bad.has(`${at}.name`)) continue;
    // Names that differ only by "-" and "_" share one AMI_SECRET_<NAME> variable: duplicates too.
    const key = amiSecretEnvName(name);
    const first = names.get(key);
    if (first !== undefined) problems.push(`${at}.name: "${name}" is already the name of ${first}; server names must be unique`);
    else names.set(key, at);
    const exts = s['extensions'];
    if (!Array.isArray(exts)) continue;
    for (const ext of exts) {
      if (typeof ext !== 'string') continue;
      const owner = owners.get(ext);
      if (owner !== undefined && owner !== at) problems.push(`${at}.extensions: extension "${ext}" is already listed on ${owner}; click-to-call needs one server per extension`);
      else owners.set(ext, at);
    }
  }
}

/** Rules that involve more than one key; run on the normalised value. */
function crossChecks(c: Obj, problems: string[], bad: ReadonlySet<string>, amiRequired: boolean): void {
  const section = (k: string): Obj => (isObj(c[k]) ? c[k] : {});
  const kommo = section('kommo');
  const hasToken = typeof kommo['long_lived_token'] === 'string' && kommo['long_lived_token'] !== '';
  if (!hasToken && kommo['oauth'] === undefined) {
    problems.push('kommo: a token is required: set kommo.long_lived_token (or env KOMMO_LONG_LIVED_TOKEN) or kommo.oauth');
  } else if (hasToken && kommo['oauth'] !== undefined) {
    problems.push('kommo: set either kommo.long_lived_token (or env KOMMO_LONG_LIVED_TOKEN) or kommo.oauth, not both');
  }
  const ordered = (sec: string, obj: Obj, lo: string, hi: string): void => {
    const a = obj[lo];
    const b = obj[hi];
    if (bad.has(`${sec}.${lo}`) || bad.has(`${sec}.${hi}`)) return;
    if (typeof a === 'number' && typeof b === 'number' && a > b) problems.push(`${sec}.${lo}: must not exceed ${sec}.${hi} (${b}), got ${a}`);
  };
  ordered('kommo.retry', isObj(kommo['retry']) ? kommo['retry'] : {}, 'base_delay_ms', 'max_delay_ms');
  const reserve = kommo['realtime_reserve'];
  const rate = kommo['rate_limit_per_second'];
  if (typeof reserve === 'number' && typeof rate === 'number' && !bad.has('kommo.realtime_reserve') && !bad.has('kommo.rate_limit_per_second') && reserve >= rate) {
    problems.push(`kommo.realtime_reserve: must be less than kommo.rate_limit_per_second (${rate}), got ${reserve}: registration needs at least one request per second`);
  }
  amiChecks(c['ami'], problems, bad, amiRequired);
  ordered('registration', section('registration'), 'retry_base_ms', 'retry_max_ms');
  ordered('agi', section('agi'), 'command_timeout_ms', 'budget_ms');

  const http = section('http');
  if (typeof http['secret'] === 'string' && http['secret'] !== '' && http['secret'].length < 16) {
    problems.push('http.secret: must be at least 16 characters');
  } else if (http['enabled'] === true && http['secret'] === '') {
    problems.push('http.secret: is required when http.enabled is true: set http.secret (or env KA_HTTP_SECRET), at least 16 characters');
  }
  const adminHash = http['admin_password'];
  if (typeof adminHash === 'string' && adminHash !== '' && !/^scrypt\$\d{4,7}\$\d{1,2}\$\d{1,2}\$[A-Za-z0-9+/]{16,}={0,2}\$[A-Za-z0-9+/]{43,}={0,2}$/.test(adminHash)) {
    problems.push('http.admin_password: must be an scrypt hash made by `kommo-asterisk admin-password` (never the password itself)');
  }

  const rules = section('phone')['rewrite_rules'];
  if (Array.isArray(rules)) {
    rules.forEach((rule: unknown, i) => {
      if (!isObj(rule) || typeof rule['match'] !== 'string' || typeof rule['replace'] !== 'string') return;
      let groups = 0;
      try {
        groups = (new RegExp(`${compileRewriteRule(rule as unknown as RewriteRule).regex.source}|`).exec('')?.length ?? 1) - 1;
      } catch { return; /* reported by the schema */ }
      const replace = rule['replace'];
      if (!/^(?:[0-9]|\$[1-9][0-9]?)*$/.test(replace)) {
        problems.push(`phone.rewrite_rules[${i}].replace: may contain only digits and $1-style references, got ${JSON.stringify(replace)}`);
      } else {
        for (const m of replace.matchAll(/\$([1-9][0-9]?)/g)) {
          if (Number(m[1]) > groups) problems.push(`phone.rewrite_rules[${i}].replace: refers to $${m[1]} but the match has ${groups} group(s)`);
        }
      }
    });
  }

  const pbx = section('pbx');
  const maxDigits = section('phone')['internal_max_digits'];
  let extPattern: RegExp | undefined;
  try { if (typeof pbx['extension_pattern'] === 'string') extPattern = new RegExp(pbx['extension_pattern']); } catch { /* reported */ }
  for (const ext of Object.keys(isObj(pbx['extensions']) ? pbx['extensions'] : {})) {
    if (!/^[0-9]+$/.test(ext)) continue;
    if (typeof maxDigits === 'number' && !bad.has('phone.internal_max_digits') && ext.length > maxDigits) {
      problems.push(`pbx.extensions["${ext}"]: has more than phone.internal_max_digits (${maxDigits}) digits, so it would be taken for a client's number`);
    } else if (extPattern && !extPattern.test(ext)) {
      problems.push(`pbx.extensions["${ext}"]: does not match pbx.extension_pattern ${JSON.stringify(pbx['extension_pattern'])}`);
    }
  }
}

/**
 * Validate a merged configuration object. Returns the normalised config and
 * every problem found (an empty list means valid). `origins` maps config keys
 * to the environment variable that set them, for the messages.
 */
export function validateConfig(raw: unknown, origins: ReadonlyMap<string, string> = new Map(), opts: { amiRequired?: boolean } = {}): { config: Config; problems: string[] } {
  const ctx: Ctx = { problems: [], origins, bad: new Set() };
  const config = check(schema, raw, '', ctx);
  if (isObj(config)) crossChecks(config, ctx.problems, ctx.bad, opts.amiRequired !== false);
  if (origins.get(AMBIGUOUS_AMI_SECRET)) {
    ctx.problems.push('ami: env AMI_SECRET is set but ami lists several servers: set each server\'s password in ami[].secret or env AMI_SECRET_<NAME> (e.g. AMI_SECRET_BRANCH_A), and unset AMI_SECRET');
  }
  const { problems } = ctx;
  return { config: config as Config, problems };
}

// ─── reference ──────────────────────────────────────────────────────────────

export interface ConfigReferenceEntry {
  key: string;
  type: string;
  /** Rendered default: JSON, `(required)`, `(none)` or a phrase. */
  default: string;
  description: string;
  env?: string;
  example?: string;
  secret?: boolean;
}

function typeOf(node: SchemaNode): string {
  switch (node.kind) {
    case 'string':
      if (node.enum) return node.enum.map((e) => `"${e}"`).join(' | ');
      if (node.format === 'url' || node.format === 'base_url') return 'string (http(s) URL)';
      if (node.format === 'regex') return 'string (regex)';
      return node.expect ? `string (${node.expect.replace(/^an? /, '')})` : 'string';
    case 'integer':
      if (node.enum) return `integer, one of ${node.enum.join(', ')}`;
      if (node.expect) return node.expect.replace(/^an? /, '');
      return node.max === MAX_ID ? `integer ≥ ${node.min}` : `integer ${node.min}–${node.max}`;
    case 'boolean': return 'boolean';
    case 'object': return 'object';
    case 'array': return node.items.kind === 'object' ? 'array of objects' : `array of ${typeOf(node.items)}`;
    case 'map': return `object: \`${node.keyDoc}\` → ${typeOf(node.values)}`;
    case 'oneOrList': return 'object, or a non-empty array of objects';
  }
}

function defaultAt(path: string[]): unknown {
  let cur: unknown = defaults;
  for (const p of path) cur = isObj(cur) ? cur[p] : undefined;
  return cur;
}

function defaultText(node: SchemaNode, dflt: unknown, inDefaults: boolean): string {
  if (node.defaultText) return node.defaultText;
  if (node.kind === 'object' || node.kind === 'oneOrList') return node.optional ? '(none)' : '(section)';
  if (node.secret && dflt === '') return '(none)';
  if (dflt !== undefined) return JSON.stringify(dflt);
  return node.optional || !inDefaults ? '(none)' : '(required)';
}

/** The configuration reference, one entry per key, generated from the schema. */
export function configReference(): ConfigReferenceEntry[] {
  const out: ConfigReferenceEntry[] = [];
  const walk = (node: SchemaNode, path: string[], inDefaults: boolean): void => {
    const key = path.join('.').replace(/\.\[\]/g, '[]');
    if (path.length > 0) {
      const dflt = inDefaults ? defaultAt(path) : undefined;
      const env = envVarFor(key);
      out.push({
        key,
        type: typeOf(node),
        default: defaultText(node, dflt, inDefaults),
        description: node.description,
        ...(env ? { env } : {}),
        ...(node.example !== undefined ? { example: JSON.stringify(node.example) } : {}),
        ...(node.secret ? { secret: true } : {}),
      });
    }
    if (node.kind === 'object') for (const [k, child] of Object.entries(node.fields)) walk(child, [...path, k], inDefaults);
    // The keys of one server are listed once, as `ami.<key>`; a list's items have the same keys.
    if (node.kind === 'oneOrList' && node.item.kind === 'object') for (const [k, child] of Object.entries(node.item.fields)) walk(child, [...path, k], inDefaults);
    if (node.kind === 'array' && node.items.kind === 'object') walk(node.items, [...path, '[]'], false);
    if (node.kind === 'map' && node.values.kind === 'object') walk(node.values, [...path, node.keyDoc], false);
  };
  walk(schema, [], true);
  return out.filter((e) => !e.key.endsWith('[]'));
}

/** docs/config-reference.md, generated from `configReference()`. */
export function renderConfigReference(): string {
  const cell = (s: string | undefined): string => (s ? s.replace(/\|/g, '\\|') : '');
  const code = (s: string | undefined): string => (s ? `\`${s}\`` : '');
  const lines = [
    '# Configuration reference',
    '',
    '<!-- Generated from the schema in lib/platform/config/validate.ts; do not edit by hand.',
    '     Regenerate: KA_WRITE_DOCS=1 npx tap --disable-coverage test/config/reference.test.ts -->',
    '',
    'One JSON file (default `/etc/kommo-asterisk/config.json`). Every key below is checked at start;',
    'all problems are reported together. Keys with a default may be left out. Environment variables',
    'win over the file; an empty variable counts as unset. Secrets are never logged. Keys starting',
    'with `//` are comments and are ignored.',
    '',
    '| key | type | default | env | example | meaning |',
    '|---|---|---|---|---|---|',
  ];
  for (const e of configReference()) {
    const dflt = e.default.startsWith('(') || e.default.startsWith('`') ? e.default : code(e.default);
    lines.push(`| \`${e.key}\` | ${cell(e.type)} | ${cell(dflt)} | ${code(e.env)} | ${cell(code(e.example))} | ${cell(e.description)}${e.secret ? ' **Secret.**' : ''} |`);
  }
  return `${lines.join('\n')}\n`;
}
