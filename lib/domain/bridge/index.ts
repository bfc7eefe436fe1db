/** The AMI bridge: AMI events → call tracker → registration (README, "Which calls are registered, and how"). Built by bin/. */
export { createBridge, withRecordingCandidates } from './bridge.js';
export type { Bridge, BridgeAmi, BridgeNotifier, BridgeOptions, BridgeRegistrar, BridgeStats } from './bridge.js';
