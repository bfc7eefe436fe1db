export { ReprocessError, type ReprocessErrorCode } from './errors.js';
export { reprocess, formatSummary, DEFAULT_CDR_SOURCE, type ReprocessOptions, type ReprocessSummary } from './reprocess.js';
export { callFromRows, callRecFromRows, groupByLinkedid, dispositionStatus, type CdrCall, type BuildOptions } from './calls.js';
export { parseCdrLine, parseCdrText, splitCsv, clidName, CDR_COLUMNS, CDR_FORMAT, type CdrRow, type BadLine, type ParsedLine } from './csv.js';
