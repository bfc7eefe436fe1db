/** The AMI bridge: AMI events → call tracker → registration (SPEC section 4). Built by bin/. */
export { createBridge, withRecordingCandidates } from './bridge.js';
export type { Bridge, BridgeAmi, BridgeOptions, BridgeRegistrar, BridgeStats } from './bridge.js';
