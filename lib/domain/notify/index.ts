/** Incoming-call popups in Kommo while a phone rings (README, "The popup while a phone rings"). Built by bin/. */
export { createNotifier } from './notifier.js';
export type { Notifier, NotifierDeps, NotifierOptions, NotifierStats, NotifyHooks, NotifyKommo } from './notifier.js';
export { ringTarget, type RingVerdict } from './who.js';
