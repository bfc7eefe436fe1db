/** Recordings: pick the call's MixMonitor file, run hook 7, convert to mp3, make a signed link. */
export {
  createRecordingProcessor,
  orderCandidates,
  type ProcessInput,
  type RecordFileHook,
  type RecordingCandidate,
  type RecordingProcessor,
  type RecordingProcessorOptions,
  type RecordingStats,
} from './processor.js';
export {
  createRecordingLinks,
  deriveLinkKey,
  sealToken,
  openToken,
  TOKEN_SEGMENT,
  type RecordingLinks,
  type RecordingLinksOptions,
} from './links.js';
export { RecordingError, RECORDING_ERROR_CODES, type RecordingErrorCode } from './errors.js';
export { convertToMp3, lameBitrate, looksLikeMp3, type ConvertOptions, type ConvertResult } from './convert.js';
export { parseWavHeader, readWavInfo, makeWav, sineWav, type WavInfo } from './wav.js';
export { waitUntilClosed, type WaitClosedOptions, type WaitClosedResult } from './wait-closed.js';
export { isInside, realPathInside } from './paths.js';
export { Semaphore } from './semaphore.js';
