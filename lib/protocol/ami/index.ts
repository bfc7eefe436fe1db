export { createAmiClient } from './client.js';
export type { AmiClient, AmiClientDeps, AmiClientEvents, AmiListResult, ActionOptions } from './client.js';
export { AmiError, isAmiError, type AmiErrorCode } from './errors.js';
export { validateActionFields, encodeAction, type AmiActionFields, type AmiFieldValue } from './encoder.js';
export { AmiParser, parseAmiStream, buildMessage, type RawAmiMessage, type RawAmiValue } from './parser.js';
export {
  normalizeMessage,
  normalizeEvent,
  eventTimeMs,
  field,
  isEvent,
  type AmiEvent,
  type AmiMessage,
  type AmiResponse,
  type AmiValue,
  type AmiEventMap,
  type AmiEventName,
  type AmiEventOf,
  type KnownAmiEvent,
  type ChannelSnapshot,
} from './events.js';
