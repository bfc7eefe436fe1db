export { reduce, resync, initialState, trackedCalls } from './reducer.js';
export { olderLinkedid, linkedidKey, type LinkedidKey } from './linkedid.js';
export {
  createTrackerContext,
  createClassifier,
  withNow,
  parseChannel,
  formatLocalTime,
  formatUtcTime,
  type TrackerContext,
  type Classifier,
  type ClassificationConfig,
  type EndpointKind,
} from './classify.js';
export { projectCall, clickToCallOf, KOMMO_VARS, type ClickToCall } from './project.js';
export { newChannel } from './channel.js';
export { RESULT, dialStatusResult, causeResult } from './results.js';
export {
  callDirection,
  clientNumber,
  employeeConversation,
  lastConversationDuration,
  isMissed,
  isInternal,
  type CallDirection,
} from '../call/facts.js';
export type { TrackerState, TrackerEffect, StageEffect, MergeEffect, ReduceResult, CallRec, ChanRec } from './types.js';
