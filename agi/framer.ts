/**
 * FastAGI framer: bytes from Asterisk → frames. A push parser with no I/O of its own
 * (no node:net), fed whatever chunks the socket delivers.
 *
 * The stream has two phases:
 *  1. the environment block: `agi_<name>: <value>` lines up to a blank line → one
 *     `env` frame holding the raw lines;
 *  2. replies: one `reply` frame per reply — a single line, or the multi-line
 *     `520-…` block through its `520 …` closing line — and a `hangup` frame for
 *     each `HANGUP` notice. Blank lines between replies are skipped.
 *
 * Lines end in LF (a CR before it is dropped). Lines are decoded as UTF-8 only once
 * complete, so a multi-byte character split across chunks is never torn. Partial
 * lines are kept as a list of Buffer slices and joined once, at the newline.
 *
 * Limits: the whole environment block (`maxHeaderBytes`) and each reply frame
 * (`maxReplyBytes`, partial line included) are bounded; past a limit `push` throws an
 * AgiError and the framer stays failed.
 */
import { AgiError } from './errors.js';

export type AgiFrame =
  | { readonly kind: 'env'; readonly lines: readonly string[] }
  | { readonly kind: 'reply'; readonly lines: readonly string[] }
  | { readonly kind: 'hangup' };

export interface AgiFramerOptions {
  /** Called synchronously, in order, for every complete frame. */
  onFrame: (frame: AgiFrame) => void;
  /** Bound on the environment block, newlines included. Default 16 KiB. */
  maxHeaderBytes?: number;
  /** Bound on one reply (a whole 520 block included). Default 64 KiB. */
  maxReplyBytes?: number;
}

export const DEFAULT_MAX_HEADER_BYTES = 16 * 1024;
export const DEFAULT_MAX_REPLY_BYTES = 64 * 1024;

const LF = 0x0a;
const CR = 0x0d;
const USAGE_END = '520 End of proper usage.';

export type AgiFramerPhase = 'header' | 'replies' | 'failed';

export class AgiFramer {
  readonly #onFrame: (frame: AgiFrame) => void;
  readonly #maxHeaderBytes: number;
  readonly #maxReplyBytes: number;

  #phase: AgiFramerPhase = 'header';
  #failure: AgiError | null = null;
  /** Slices of the current, not yet terminated line. */
  #partial: Buffer[] = [];
  #partialBytes = 0;
  /** Header phase: lines so far and their bytes. */
  #headerLines: string[] = [];
  #headerBytes = 0;
  /** Replies phase: an open `520-` block and its bytes. */
  #usageBlock: string[] | null = null;
  #replyBytes = 0;

  constructor(options: AgiFramerOptions) {
    this.#onFrame = options.onFrame;
    this.#maxHeaderBytes = options.maxHeaderBytes ?? DEFAULT_MAX_HEADER_BYTES;
    this.#maxReplyBytes = options.maxReplyBytes ?? DEFAULT_MAX_REPLY_BYTES;
  }

  get phase(): AgiFramerPhase {
    return this.#phase;
  }

  /** Bytes held for an unfinished line or frame. */
  get bufferedBytes(): number {
    return this.#partialBytes + (this.#phase === 'header' ? this.#headerBytes : this.#replyBytes);
  }

  /** True when nothing is buffered: the stream is at a frame boundary. */
  get idle(): boolean {
    return this.#partialBytes === 0 && this.#headerLines.length === 0 && this.#usageBlock === null;
  }

  /**
   * Feed the next chunk. Frames complete in it are emitted before this returns.
   * Throws an AgiError (AGI_HEADER_TOO_LARGE, AGI_LINE_TOO_LONG) on a broken stream;
   * from then on every push throws the same error.
   */
  push(chunk: Buffer): void {
    if (this.#failure) throw this.#failure;
    let start = 0;
    const length = chunk.length;
    while (start < length) {
      const newline = chunk.indexOf(LF, start);
      if (newline === -1) {
        this.#partial.push(chunk.subarray(start));
        this.#partialBytes += length - start;
        this.#checkLimits(0);
        return;
      }
      let line: Buffer;
      if (this.#partialBytes === 0) {
        line = chunk.subarray(start, newline);
      } else {
        this.#partial.push(chunk.subarray(start, newline));
        line = Buffer.concat(this.#partial, this.#partialBytes + newline - start);
        this.#partial = [];
        this.#partialBytes = 0;
      }
      start = newline + 1;
      this.#checkLimits(line.length + 1);
      this.#line(line);
    }
  }

  #checkLimits(completedLineBytes: number): void {
    if (this.#phase === 'header') {
      const total = this.#headerBytes + this.#partialBytes + completedLineBytes;
      if (total > this.#maxHeaderBytes) {
        this.#fail(
          new AgiError('AGI_HEADER_TOO_LARGE', `AGI environment block exceeds ${this.#maxHeaderBytes} bytes`, {
            limit: this.#maxHeaderBytes,
          }),
        );
      }
      this.#headerBytes += completedLineBytes;
    } else {
      const total = this.#replyBytes + this.#partialBytes + completedLineBytes;
      if (total > this.#maxReplyBytes) {
        this.#fail(
          new AgiError('AGI_LINE_TOO_LONG', `AGI reply exceeds ${this.#maxReplyBytes} bytes`, {
            limit: this.#maxReplyBytes,
          }),
        );
      }
      // Only a 520 block spans lines; a single-line reply resets at its newline.
      if (this.#usageBlock !== null) this.#replyBytes += completedLineBytes;
    }
  }

  #fail(error: AgiError): never {
    this.#phase = 'failed';
    this.#failure = error;
    this.#partial = [];
    this.#partialBytes = 0;
    this.#headerLines = [];
    this.#usageBlock = null;
    throw error;
  }

  #line(bytes: Buffer): void {
    const end = bytes.length > 0 && bytes[bytes.length - 1] === CR ? bytes.length - 1 : bytes.length;
    const line = bytes.toString('utf8', 0, end);

    if (this.#phase === 'header') {
      if (line === '') {
        const lines = this.#headerLines;
        this.#headerLines = [];
        this.#headerBytes = 0;
        this.#phase = 'replies';
        this.#onFrame({ kind: 'env', lines });
      } else {
        this.#headerLines.push(line);
      }
      return;
    }

    if (this.#usageBlock !== null) {
      this.#usageBlock.push(line);
      // The block ends at a "520 " line; some Asterisk paths lose the EOL before the
      // closing text, so also accept a line that merely ends with it.
      if (line.startsWith('520 ') || line.endsWith(USAGE_END)) {
        const lines = this.#usageBlock;
        this.#usageBlock = null;
        this.#replyBytes = 0;
        this.#onFrame({ kind: 'reply', lines });
      }
      return;
    }

    if (line === '') return;
    if (line === 'HANGUP') {
      this.#onFrame({ kind: 'hangup' });
      return;
    }
    if (line.startsWith('520-')) {
      this.#usageBlock = [line];
      this.#replyBytes = bytes.length + 1;
      return;
    }
    this.#onFrame({ kind: 'reply', lines: [line] });
  }
}
