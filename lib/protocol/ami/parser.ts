/**
 * A pure AMI push parser: bytes in, messages out. No sockets, no clocks.
 *
 * The production AMI connection (./connection.ts) frames with it, and it builds
 * messages the way the `asterisk-manager` package did (which it replaced), so a
 * recorded byte stream replayed through it gives the same objects the live
 * adapter sees:
 *   - lines end in CRLF (a bare LF is accepted); a blank line ends a message;
 *   - the greeting `Asterisk Call Manager/x.y` before any message is skipped;
 *   - keys are trimmed and lowercased; a line is split at its first `": "`
 *     (a line without one becomes a key with an empty value);
 *   - `Variable` / `ChanVariable` lines become an object `{name: value}` split
 *     at the first `=` (prefixed ones such as `DestChanVariable` stay an array,
 *     as in the package; normalisation in ./events.ts turns them into objects);
 *   - a repeated key becomes an array of its values;
 *   - `Response: Follows` (old `Command` output) is collected up to
 *     `--END COMMAND--` into `{response: 'follows', content, actionid}`.
 * Multi-byte UTF-8 split across chunks is handled (a StringDecoder).
 */
import { StringDecoder } from 'node:string_decoder';

export type RawAmiValue = string | string[] | Record<string, string>;
/** One AMI message as the package delivers it: lowercased keys. */
export type RawAmiMessage = Record<string, RawAmiValue>;

export interface AmiParserOptions {
  onMessage: (message: RawAmiMessage) => void;
  /**
   * Longest message (characters) accepted before the parser gives up on the
   * stream; protects memory against a peer that never sends a blank line.
   */
  maxMessageChars?: number;
  onError?: (err: Error) => void;
}

const GREETING = 'Asterisk Call Manager';
const DEFAULT_MAX = 1024 * 1024;

const KEY_CACHE_MAX = 4096;
const keyCache = new Map<string, string>();

/**
 * `  CallerIDNum ` → `calleridnum`, memoised: AMI repeats the same few hundred
 * keys, and this is the parser's hottest line. A pure function; the memo is
 * bounded and holds nothing per connection.
 */
export function lowerKey(raw: string): string {
  let key = keyCache.get(raw);
  if (key === undefined) {
    key = raw.trim().toLowerCase();
    if (keyCache.size < KEY_CACHE_MAX) keyCache.set(raw, key);
  }
  return key;
}

/** Keys whose values are `name=value` pairs (normalised into objects). */
export function isVariableKey(key: string): boolean {
  return key === 'variable' || key.endsWith('chanvariable');
}

/** Build one message from its lines (blank lines already removed). */
export function buildMessage(lines: readonly string[]): RawAmiMessage {
  const msg: RawAmiMessage = {};
  for (const line of lines) {
    if (line.length === 0) continue;
    const sep = line.indexOf(': ');
    const key = lowerKey(sep < 0 ? line : line.slice(0, sep));
    const value = sep < 0 ? '' : line.slice(sep + 2);
    if (key === 'variable' || key === 'chanvariable') {
      let obj = msg[key];
      if (typeof obj !== 'object' || Array.isArray(obj)) {
        obj = {};
        msg[key] = obj;
      }
      const eq = value.indexOf('=');
      if (eq < 0) obj[value] = '';
      else obj[value.slice(0, eq)] = value.slice(eq + 1);
      continue;
    }
    const prev = msg[key];
    if (prev === undefined) msg[key] = value;
    else if (Array.isArray(prev)) prev.push(value);
    else if (typeof prev === 'string') msg[key] = [prev, value];
  }
  return msg;
}

export class AmiParser {
  private readonly decoder = new StringDecoder('utf8');
  private readonly onMessage: (message: RawAmiMessage) => void;
  private readonly onError: ((err: Error) => void) | undefined;
  private readonly maxChars: number;
  private pending = '';
  private lines: string[] = [];
  private chars = 0;
  /** 0 normal, 1 inside a `Response: Follows` block, 2 after its end marker. */
  private follow = 0;
  private failed = false;

  constructor(options: AmiParserOptions) {
    this.onMessage = options.onMessage;
    this.onError = options.onError;
    this.maxChars = options.maxMessageChars ?? DEFAULT_MAX;
  }

  /** Feed a chunk (bytes or an already decoded string). */
  push(chunk: Uint8Array | string): void {
    if (this.failed) return;
    const text = typeof chunk === 'string' ? chunk : this.decoder.write(chunk as Buffer);
    if (text.length === 0) return;
    let buf = this.pending.length ? this.pending + text : text;
    let start = 0;
    for (;;) {
      const nl = buf.indexOf('\n', start);
      if (nl < 0) break;
      const end = nl > start && buf.charCodeAt(nl - 1) === 13 ? nl - 1 : nl;
      this.line(buf.slice(start, end));
      if (this.failed) return;
      start = nl + 1;
    }
    buf = start === 0 ? buf : buf.slice(start);
    if (buf.length + this.chars > this.maxChars) return this.fail();
    this.pending = buf;
  }

  /** The stream ended: a message without its blank line is dropped, as Asterisk never sends one. */
  end(): void {
    this.decoder.end();
    this.pending = '';
    this.lines = [];
    this.chars = 0;
    this.follow = 0;
  }

  private fail(): void {
    this.failed = true;
    this.pending = '';
    this.lines = [];
    this.onError?.(new Error(`AMI message longer than ${this.maxChars} characters`));
  }

  private line(line: string): void {
    const lines = this.lines;
    if (lines.length === 0) {
      if (line.length === 0) return;
      if (line.startsWith(GREETING)) return;
      if (this.follow === 0 && line.slice(0, 9).toLowerCase() === 'response:' && line.toLowerCase().includes('follow')) {
        this.follow = 1;
      }
    }
    if (this.follow === 0) {
      if (line.length === 0) {
        this.lines = [];
        this.chars = 0;
        this.onMessage(buildMessage(lines));
        return;
      }
    } else if (this.follow === 1) {
      if (line === '--END COMMAND--' || line === '--END SMS EVENT--') this.follow = 2;
    } else if (line.length === 0) {
      // End of a `Response: Follows` block: everything but the end marker.
      lines.pop();
      const content = lines.join('\n');
      const m = /actionid: ([^\r\n]+)/i.exec(content);
      const msg: RawAmiMessage = { response: 'follows', content };
      if (m?.[1] !== undefined) msg['actionid'] = m[1];
      this.lines = [];
      this.chars = 0;
      this.follow = 0;
      this.onMessage(msg);
      return;
    }
    this.chars += line.length;
    if (this.chars > this.maxChars) return this.fail();
    lines.push(line);
  }
}

/** Parse a complete buffer or string into messages (a convenience for fixtures and benchmarks). */
export function parseAmiStream(input: Uint8Array | string): RawAmiMessage[] {
  const out: RawAmiMessage[] = [];
  const parser = new AmiParser({ onMessage: (m) => out.push(m) });
  parser.push(input);
  parser.end();
  return out;
}
