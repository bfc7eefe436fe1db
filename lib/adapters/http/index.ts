/** The connector's HTTP server: click-to-call, status, metrics and recording links. */
export { createHttpServer, DEFAULT_CORS_ORIGINS, type HttpServer, type HttpServerOptions } from './server.js';
export { HttpError, HTTP_ERROR_STATUS, type HttpErrorCode } from './errors.js';
export { authenticate, safeEqual, type AuthContext, type AuthKind } from './auth.js';
export { verifyWidgetToken, signHs256, JwtError, JWT_ERROR_CODES, type JwtErrorCode, type WidgetClaims, type VerifyOptions } from './jwt.js';
export { clickToCallStatus, type ClickToCall, type ClickToCallRequest, type ClickToCallResult } from './click-to-call.js';
export {
  overallStatus,
  uptimeSeconds,
  DEFAULT_THRESHOLDS,
  type AppStatus,
  type ComponentError,
  type OverallStatus,
  type StatusSnapshot,
  type StatusThresholds,
} from './status.js';
export { renderMetrics, METRICS_CONTENT_TYPE } from './metrics.js';
export { parseRange, type RangeResult } from './range.js';
export { recordingContentType, type LinkResolver, type OpenFile } from './recordings-route.js';
