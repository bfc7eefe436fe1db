/** The admin panel under /admin (README, "Admin panel"). */
export { createAdminPanel, type AdminPanel, type AdminPanelOptions } from './panel.js';
export type { AdminDeps, HookInfo, KommoUserInfo, TokenInfo } from './deps.js';
export { hashAdminPassword, isAdminHash, passwordChecker } from './password.js';
export { createSessionStore, SESSION_COOKIE, type SessionStore } from './session.js';
export { createLoginThrottle, type LoginThrottle } from './throttle.js';
export { esc, html } from './html.js';
