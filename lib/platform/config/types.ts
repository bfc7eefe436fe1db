/**
 * The shape of the one JSON configuration file. Keys are snake_case, like
 * Kommo's API and the hooks' data. Every key is documented in README.md
 * ("Configuration reference"); defaults live in ./defaults.ts only.
 * Secrets may also come from environment variables (see ./env.ts).
 */
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export interface RewriteRule {
  /** A JavaScript regular expression matched against the digits-only number. */
  match: string;
  /** Replacement, `$1` style back references allowed. */
  replace: string;
}

export interface KommoOAuthConfig {
  client_id: string;
  client_secret: string;
  redirect_uri: string;
  /** Seed refresh token (used once, when token_file does not exist yet). */
  refresh_token?: string;
  /** Where the rotated token pair is persisted (atomically). Default `<data_dir>/kommo-tokens.json`. */
  token_file?: string;
}

export interface KommoConfig {
  /** https://<subdomain>.kommo.com — or the simulator's URL. */
  base_url: string;
  /** Long-lived token (private integrations). Env: KOMMO_LONG_LIVED_TOKEN. */
  long_lived_token?: string;
  oauth?: KommoOAuthConfig;
  rate_limit_per_second: number;
  /** Slots of the rate limit that registration never takes, kept for autodistribution look-ups. */
  realtime_reserve: number;
  request_timeout_ms: number;
  connect_timeout_ms: number;
  /** max_attempts counts attempts Kommo answered (429/5xx); max_elapsed_ms bounds retries of requests that got no answer. */
  retry: { max_attempts: number; base_delay_ms: number; max_delay_ms: number; max_elapsed_ms: number };
  /** enum_code used when the connector writes a phone value. */
  phone_enum: string;
  /** `source` of call records; also the default tag on created contacts/leads. */
  source: string;
  tag: string;
}

export interface PhoneConfig {
  rewrite_rules: RewriteRule[];
  /** Numbers with at most this many digits are internal extensions, never clients. */
  internal_max_digits: number;
  /** How many trailing digits Kommo matches on (10). */
  match_digits: number;
}

export interface PbxConfig {
  /** extension → Kommo user id. */
  extensions: Record<string, number>;
  /** PJSIP/SIP endpoint names that are trunks (the part after `PJSIP/` and before `-`). */
  trunks: string[];
  /** Regular expression an endpoint name must match to count as an employee extension. */
  extension_pattern: string;
  /** Kommo user used when nobody else is responsible (missed calls). */
  default_user_id?: number;
}

export interface AmiConfig {
  /**
   * The server's name: in `call_full.pbx`, in every per-call log line, in status and
   * metrics, and (with several servers) in journal ids. Default `pbx`; required and
   * unique in a list of servers.
   */
  name: string;
  host: string;
  port: number;
  username: string;
  /** Env: AMI_SECRET. */
  secret: string;
  action_timeout_ms: number;
  reconnect_min_ms: number;
  reconnect_max_ms: number;
  max_queued_actions: number;
  /** Extensions on this server: click-to-call for them goes here (several servers only). */
  extensions: string[];
}

export interface AgiConfig {
  host: string;
  port: number;
  /** Hard budget for one autodistribution answer, from connection to reply. */
  budget_ms: number;
  command_timeout_ms: number;
  header_timeout_ms: number;
  max_connections: number;
  cache_ttl_seconds: number;
  negative_cache_ttl_seconds: number;
  cache_max_entries: number;
  /** Max characters of the CallerID name (20, never more). */
  callerid_name_max: number;
  /** Also look the caller up among companies, in parallel with contacts. */
  search_companies: boolean;
  /** Addresses and CIDR blocks that may connect. */
  allow_from: string[];
}

export interface ListsConfig {
  extensions: string[];
  trunks: string[];
  numbers: string[];
}

/** A per-number rule (registration.rules): first match wins; absent criteria match anything. */
export interface RegistrationRule {
  /** Dialled numbers (DIDs) of incoming calls, digits. */
  dids?: string[];
  /** Trunk endpoint names (or trunk numbers) the call went through. */
  trunks?: string[];
  calls?: Array<'incoming_answered' | 'incoming_missed' | 'outgoing'>;
  client?: 'known' | 'unknown';
  /** false: the call is not registered. */
  register?: boolean;
  /** What an unknown client gets: a lead with the contact, an incoming lead, or the contact only. */
  create?: 'lead' | 'incoming_lead' | 'contact';
  pipeline_id?: number;
  status_id?: number;
  /** Tag on what is created (instead of kommo.tag). */
  tag?: string;
}

export interface RegistrationConfig {
  register_internal: boolean;
  create_contact: boolean;
  create_lead: boolean;
  lead_pipeline_id?: number;
  lead_status_id?: number;
  /** Create an incoming lead (leads/unsorted/sip) instead of contact + lead. */
  use_unsorted: boolean;
  tasks: {
    enabled: boolean;
    deadline_minutes: number;
    task_type_id: number;
    /** Complete the open call-back task once the client is reached; one open call-back task per client. */
    auto_complete: boolean;
    /** How far back (hours) an open call-back task counts for auto_complete. */
    auto_complete_window_hours: number;
  };
  /** Per-number rules, applied before the hooks (lib/domain/registration/rules.ts). */
  rules: RegistrationRule[];
  blacklist: ListsConfig;
  /** When any whitelist is non-empty, only matching calls are registered. */
  whitelist: ListsConfig;
  retry_base_ms: number;
  retry_max_ms: number;
  /** Attempts for transient failures before a call is marked failed (0 = forever). */
  max_attempts: number;
  /** Grouping creates into one Kommo request during a backlog (issue 10). */
  batch: { enabled: boolean; max_items: number; linger_ms: number; concurrency: number };
}

export interface HttpConfig {
  enabled: boolean;
  host: string;
  port: number;
  /** Public base URL used in recording links, e.g. https://pbx.example.com:8088 */
  public_url: string;
  /** Shared secret for the connector's own endpoints. Env: KA_HTTP_SECRET. */
  secret: string;
  /** Kommo integration's client secret, to verify widget X-Auth-Token JWTs. Env: KOMMO_CLIENT_SECRET. */
  widget_secret?: string;
  /** Kommo account id the widget JWT must carry. */
  account_id?: number;
  max_body_bytes: number;
  /** Deadline for a whole request to arrive. */
  request_timeout_ms: number;
  /** Browser origins allowed to call click-to-call (CORS); `*.` wildcards allowed. */
  cors_origins: string[];
  /** Serve the admin panel at /admin. */
  admin_enabled: boolean;
  /** The admin panel's password, an scrypt hash; absent → `secret`. */
  admin_password?: string;
}

export interface RecordingsConfig {
  enabled: boolean;
  /** Directory MixMonitor writes into (as seen by the connector). */
  dir: string;
  convert_to_mp3: boolean;
  mp3_bitrate: number;
  max_concurrent_conversions: number;
  conversion_timeout_ms: number;
  /** How long a recording link stays valid. */
  link_ttl_days: number;
  /** Wait for the file to be closed for at most this long. */
  wait_closed_ms: number;
  /** The same directory as Asterisk names it, when that differs (chroot, container, another host's mount). */
  asterisk_dir?: string;
  /** Where mp3 files go (default: next to the wav). */
  mp3_dir?: string;
  /** The lame binary (default /usr/bin/lame, Debian's). */
  lame_path: string;
}

export interface OriginateConfig {
  /** Technology of the employee's phone: the first leg is `<tech>/<extension>`. */
  channel_tech: string;
  /** Dialplan context that dials the client (bundled: kommo-originate). */
  context: string;
  /** How long the employee's phone rings (Originate Timeout). */
  ring_timeout_ms: number;
  /** How long to wait for OriginateResponse after Asterisk accepted the action (default ring + 15 s). */
  response_timeout_ms?: number;
  /** CallerID name shown on the employee's phone (the number is the client's). */
  caller_id_name: string;
}

export interface ReprocessConfig {
  /** The cdr_custom CSV file Asterisk writes (dialplan/cdr_custom.conf.sample). */
  source: string;
}

export interface NotificationsConfig {
  /** Show the Kommo popup (POST /api/v2/events) to the employees whose phones ring on an inbound call. */
  enabled: boolean;
  /** Rings of one call within this window go out as one request (a ring group: one request, several users). */
  batch_ms: number;
  /** Notifications in flight at once; more are dropped (counted), never queued behind. */
  max_in_flight: number;
  /** The longest one notification is tried, even while its phone still rings. */
  timeout_ms: number;
}

export interface CustomizationsConfig {
  dir: string;
  timeout_ms: number;
  /** Per-hook overrides, e.g. { "process_record_file_path": 10000 }. */
  timeouts: Record<string, number>;
  /** Worker threads that run module hooks. */
  workers: number;
  /** Heap limit of one worker thread, MiB. */
  worker_memory_mb: number;
}

export interface Config {
  data_dir: string;
  log: { level: LogLevel };
  kommo: KommoConfig;
  phone: PhoneConfig;
  pbx: PbxConfig;
  /** One Asterisk server, or several (a non-empty list with unique names): ./ami.ts `amiServers()`. */
  ami: AmiConfig | AmiConfig[];
  agi: AgiConfig;
  registration: RegistrationConfig;
  http: HttpConfig;
  recordings: RecordingsConfig;
  originate: OriginateConfig;
  reprocess: ReprocessConfig;
  notifications: NotificationsConfig;
  customizations: CustomizationsConfig;
}

/** Deeply read-only view handed to the rest of the program after validation. */
export type DeepReadonly<T> = T extends (infer U)[]
  ? readonly DeepReadonly<U>[]
  : T extends object
    ? { readonly [K in keyof T]: DeepReadonly<T[K]> }
    : T;

export type FrozenConfig = DeepReadonly<Config>;
