export {
  createClickToCall,
  originateSettings,
  ORIGINATE_DEFAULTS,
  type ClickToCall,
  type ClickToCallConfig,
  type ClickToCallDeps,
  type ClickToCallRequest,
  type ClickToCallOptions,
  type ClickToCallAmi,
  type ClickToCallHooks,
  type OriginateOutcome,
  type OriginateSettings,
  type OriginateState,
} from './service.js';
export {
  validateClientNumber,
  resolveCaller,
  newChannelIds,
  buildOriginateAction,
  paramsProblem,
  formatCallerId,
  reasonText,
  failureText,
  ORIGINATE_REASONS,
  MIN_NUMBER_DIGITS,
  MAX_NUMBER_DIGITS,
  type ChannelIds,
  type WhoCalls,
} from './params.js';
export { OriginateError, type OriginateErrorCode } from './errors.js';
export { createClickToCallRouter, serverForExtension, type ClickToCallRouter, type ClickToCallTarget } from './router.js';
