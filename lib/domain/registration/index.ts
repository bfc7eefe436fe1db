/**
 * Call registration (README, "Which calls are registered, and how"): the journal, the pipeline and the registrar.
 * Built by bin/ (the composition root) with the shared Kommo client and hook runner.
 */
export { callKeyOf, openCallStore, recordIdOf, DEFAULT_RETENTION_MS } from './store.js';
export type { CallStore, StoreOptions, PutOptions } from './store.js';
export { createRegistrar } from './worker.js';
export type { Registrar, RegistrarOptions, RegistrarStats } from './worker.js';
export { runPipeline, recordingCandidates, DEFAULT_RECORDING_TIMEOUT_MS } from './pipeline.js';
export type { PipelineOutcome, PipelineDeps, PipelineRun } from './pipeline.js';
export { shouldRegister, registrationVerdict, builtInVerdict } from './filter.js';
export type { FilterVerdict, FilterDeps } from './filter.js';
export { ContactCache } from './contact-cache.js';
export type { CachedContact, ContactCacheOptions } from './contact-cache.js';
export { classifyFailure } from './retry-schedule.js';
export { callStatusOf, kommoDirection, CALL_STATUS } from './call-facts.js';
export { RegistrationError, RegistrationStoppedError } from './errors.js';
export type { CallRecord, RecordStatus, StepResults, StoreStats, RecordError, CreateKind } from './types.js';
export type { RegistrationKommo, RegistrationHooks, RegistrationSettings, RecordingLinker, RecordingCandidateRef } from './deps.js';
