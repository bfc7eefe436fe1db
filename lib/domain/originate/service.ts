/**
 * Click-to-call (README, "HTTP endpoints"): a Kommo user (or the CLI, with an extension)
 * asks to call a client; the employee's phone rings first, then the client
 * is dialled by the bundled `[kommo-originate]` context.
 *
 *   const c2c = createClickToCall({ config, ami, hooks, normalizePhone, logger });
 *   await c2c.clickToCall({ userId: 5001, phone: '+7 999 123-45-67', requestData });            // HTTP: queued
 *   await c2c.clickToCall({ extension: '101', phone: '79991234567' }, { wait: true });          // CLI: final
 *
 * Steps: who calls (extension ← `pbx.extensions` reversed) → the client's
 * number (validated, normalised) → defaults → hook 6 → AMI `Originate`
 * (`Async`, our own `ChannelId`/`OtherChannelId`, variables for the bridge)
 * → `OriginateResponse` paired by the ActionID the adapter gave the action.
 *
 * When does the answer come? Asterisk sends `OriginateResponse` only when the
 * employee answers (Success, reason 4) or the first leg fails (busy, no
 * answer after `Timeout`, unavailable). An HTTP request must not hang that
 * long, so by default `clickToCall` resolves as soon as Asterisk accepted
 * the action (`state: 'queued'`); the final outcome is then logged and given
 * to `onResult`. With `wait: true` (the CLI) it resolves with the final
 * outcome (`answered` or `failed` with the reason).
 */
import type { Logger } from 'pino';
import type { AmiClient } from '../../protocol/ami/client.js';
import { isAmiError } from '../../protocol/ami/errors.js';
import { field, type AmiEvent } from '../../protocol/ami/events.js';
import type { HookRunner } from '../../adapters/hooks/loader.js';
import type { OriginateParams } from '../../adapters/hooks/types.js';
import { OriginateError } from './errors.js';
import {
  buildOriginateAction,
  formatCallerId,
  newChannelIds,
  paramsProblem,
  failureText,
  reasonText,
  resolveCaller,
  validateClientNumber,
  type ChannelIds,
} from './params.js';

/** Settings of click-to-call (suggested config section `originate`; every key optional). */
export interface OriginateSettings {
  /** Technology of the employee's phone: the first leg is `<tech>/<extension>`. Default `PJSIP`. */
  channel_tech: string;
  /** Dialplan context that dials the client. Default `kommo-originate` (bundled). */
  context: string;
  /** How long the employee's phone rings, ms (Originate `Timeout`). Default 30 000. */
  ring_timeout_ms: number;
  /** How long to wait for `OriginateResponse` after Asterisk accepted the action. Default ring + 15 000. */
  response_timeout_ms: number;
  /** Display name of the CallerID shown on the employee's phone (number = the client's). Default `Kommo`. */
  caller_id_name: string;
}

export const ORIGINATE_DEFAULTS: Readonly<Omit<OriginateSettings, 'response_timeout_ms'>> = Object.freeze({
  channel_tech: 'PJSIP',
  context: 'kommo-originate',
  ring_timeout_ms: 30_000,
  caller_id_name: 'Kommo',
});

/** The slice of the frozen config click-to-call reads. */
export interface ClickToCallConfig {
  readonly pbx: { readonly extensions: Readonly<Record<string, number>> };
  readonly originate?: Readonly<Partial<OriginateSettings>>;
}

export type ClickToCallAmi = Pick<AmiClient, 'action' | 'on' | 'off' | 'isConnected'>;
export type ClickToCallHooks = Pick<HookRunner, 'run'>;

export interface ClickToCallDeps {
  config: ClickToCallConfig;
  ami: ClickToCallAmi;
  hooks: ClickToCallHooks;
  /** `normalizeClientPhone` with the configured rewrite rules (digits, or null for "no number"). */
  normalizePhone: (raw: string) => string | null;
  logger: Logger;
  now?: () => number;
  random?: () => number;
}

export interface ClickToCallRequest {
  /** The Kommo user who clicked (widget). */
  userId?: number;
  /** The employee's extension (CLI `--from`); wins over `userId` for the phone to ring. */
  extension?: string;
  /** The client's number, as Kommo shows it. */
  phone: string;
  /** The widget's request, handed read-only to hook 6. */
  requestData?: Record<string, unknown>;
}

export type OriginateState = 'queued' | 'answered' | 'failed';

export interface OriginateOutcome {
  /** queued: Asterisk accepted the action; answered: the employee answered and the client is being dialled; failed: the first leg failed. */
  state: OriginateState;
  /** True unless the first leg failed. */
  placed: boolean;
  /** From `OriginateResponse` (absent while queued). */
  response?: 'Success' | 'Failure';
  reason?: number;
  reasonText?: string;
  /** The channel Asterisk reported in `OriginateResponse`. */
  channel?: string;
  /** Q.850 cause of the employee's channel when the first leg failed (17 busy, 19 no answer …). */
  hangupCause?: number;
  actionId: string;
  /** The originated channel's uniqueid — also the call's linkedid. */
  channelId: string;
  otherChannelId: string;
  /** The employee's extension and Kommo user. */
  extension: string;
  userId?: number;
  /** The client's number (digits, after normalisation; before hook 6). */
  number: string;
  /** What was sent (after hook 6). */
  params: OriginateParams;
  hookApplied: boolean;
}

export interface ClickToCallOptions {
  /** Wait for `OriginateResponse` (CLI). Default false: resolve once Asterisk accepted the action. */
  wait?: boolean;
  signal?: AbortSignal;
  /** Called once with the final outcome (or the error), also when not waiting. Must not throw. */
  onResult?: (outcome: OriginateOutcome | OriginateError) => void;
}

export interface ClickToCall {
  clickToCall(req: ClickToCallRequest, opts?: ClickToCallOptions): Promise<OriginateOutcome>;
  settings(): Readonly<OriginateSettings>;
}

/** Buffered `OriginateResponse` events awaiting their action id (bounded). */
const MAX_BUFFERED = 64;
/** After a Failure, how long to wait for our channel's hangup cause when it has not come yet. */
const CAUSE_GRACE_MS = 500;

function waitForCause(leg: { cause: number; onCause: (() => void) | undefined }, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      leg.onCause = undefined;
      resolve();
    }
    leg.onCause = done;
  });
}

export function originateSettings(config: ClickToCallConfig): OriginateSettings {
  const o = config.originate ?? {};
  const ring = o.ring_timeout_ms ?? ORIGINATE_DEFAULTS.ring_timeout_ms;
  return {
    channel_tech: o.channel_tech ?? ORIGINATE_DEFAULTS.channel_tech,
    context: o.context ?? ORIGINATE_DEFAULTS.context,
    ring_timeout_ms: ring,
    response_timeout_ms: o.response_timeout_ms ?? ring + 15_000,
    caller_id_name: o.caller_id_name ?? ORIGINATE_DEFAULTS.caller_id_name,
  };
}

function mapAmiError(err: unknown, ids: ChannelIds): OriginateError {
  const ctx = { cause: err, channelId: ids.channelId };
  if (isAmiError(err)) {
    switch (err.code) {
      case 'AMI_NOT_CONNECTED':
      case 'AMI_CLOSED':
      case 'AMI_CONNECT_FAILED':
      case 'AMI_LOGIN_FAILED':
      case 'AMI_QUEUE_FULL':
        return new OriginateError('ORIGINATE_AMI_DOWN', `AMI is not available: ${err.message}`, ctx);
      case 'AMI_TIMEOUT':
        return new OriginateError('ORIGINATE_TIMEOUT', 'Asterisk did not accept the Originate in time', ctx);
      case 'AMI_CONNECTION_LOST':
        return new OriginateError(
          'ORIGINATE_FAILED',
          'the AMI link dropped before Asterisk answered: the call may or may not have been placed',
          { ...ctx, maybePlaced: true },
        );
      case 'AMI_ACTION_FAILED': {
        const response = (err as { response?: Record<string, unknown> }).response;
        const msg = typeof response?.['message'] === 'string' ? response['message'] : err.message;
        return new OriginateError('ORIGINATE_FAILED', `Asterisk refused the Originate: ${msg}`, ctx);
      }
      default:
        return new OriginateError('ORIGINATE_FAILED', `Originate not sent: ${err.message}`, ctx);
    }
  }
  return new OriginateError('ORIGINATE_FAILED', `Originate failed: ${err instanceof Error ? err.message : String(err)}`, ctx);
}

export function createClickToCall(deps: ClickToCallDeps): ClickToCall {
  const { ami, hooks, normalizePhone } = deps;
  const log = deps.logger.child({ component: 'click-to-call' });
  const now = deps.now ?? Date.now;
  const random = deps.random ?? Math.random;
  const settings = originateSettings(deps.config);
  const extensions = deps.config.pbx.extensions;

  async function runHook(
    defaults: OriginateParams,
    requestData: Record<string, unknown>,
    callLog: Logger,
  ): Promise<{ params: OriginateParams; applied: boolean }> {
    const run = await hooks.run('process_originate_params', { ...defaults, request_data: requestData }, defaults, {
      logger: callLog,
    });
    if (!run.applied) return { params: defaults, applied: false };
    const changed: OriginateParams = {
      caller_id: run.data.caller_id,
      channel: run.data.channel,
      context: run.data.context,
      extension: run.data.extension,
      priority: run.data.priority,
    };
    const problem = paramsProblem(changed);
    if (problem) {
      callLog.warn({ hook: 'process_originate_params', problem }, 'hook answer unusable, using the defaults');
      return { params: defaults, applied: false };
    }
    return { params: changed, applied: true };
  }

  async function clickToCall(req: ClickToCallRequest, opts: ClickToCallOptions = {}): Promise<OriginateOutcome> {
    const who = resolveCaller(req, extensions);
    const number = validateClientNumber(req.phone, normalizePhone);
    const ids = newChannelIds(now(), random);
    const callLog = log.child({ channelId: ids.channelId, extension: who.extension, userId: who.userId });

    const defaults: OriginateParams = {
      caller_id: formatCallerId(settings.caller_id_name, number),
      channel: `${settings.channel_tech}/${who.extension}`,
      context: settings.context,
      extension: number,
      priority: 1,
    };
    const { params, applied } = await runHook(defaults, req.requestData ?? {}, callLog);

    if (!ami.isConnected()) {
      throw new OriginateError('ORIGINATE_AMI_DOWN', 'AMI is not connected: click-to-call is unavailable', {
        channelId: ids.channelId,
      });
    }
    const variables: Record<string, string> = {
      KOMMO_CLICK_TO_CALL: '1',
      KOMMO_CLIENT_NUMBER: number,
      KOMMO_CALLER_EXTENSION: who.extension,
    };
    if (who.userId !== undefined) variables['KOMMO_USER_ID'] = String(who.userId);
    const action = buildOriginateAction({ params, ids, ringTimeoutMs: settings.ring_timeout_ms, variables });

    // Listen before sending: the package emits the response and a quick
    // OriginateResponse in the same tick, before our continuation runs.
    const seen: AmiEvent[] = [];
    let deliver: ((e: AmiEvent) => void) | undefined;
    // Our channel's hangup cause says more than OriginateResponse's reason
    // (Asterisk 22 reports a 486 Busy Here as reason 0 with cause 17).
    const leg = { created: false, cause: 0, onCause: undefined as (() => void) | undefined };
    const onEvent = (e: AmiEvent): void => {
      if (e.event === 'originateresponse') {
        if (deliver) deliver(e);
        else if (seen.length < MAX_BUFFERED) seen.push(e);
        return;
      }
      if (field(e, 'uniqueid') !== ids.channelId) return;
      if (e.event === 'newchannel') leg.created = true;
      else if (e.event === 'hanguprequest' || e.event === 'softhanguprequest' || e.event === 'hangup') {
        const cause = Number(field(e, 'cause'));
        if (cause > 0 && !leg.cause) {
          leg.cause = cause;
          leg.onCause?.();
        }
      }
    };
    ami.on('event', onEvent);

    const base = {
      channelId: ids.channelId,
      otherChannelId: ids.otherChannelId,
      extension: who.extension,
      ...(who.userId !== undefined ? { userId: who.userId } : {}),
      number,
      params,
      hookApplied: applied,
    };

    let actionId: string;
    try {
      callLog.info({ channel: params.channel, context: params.context, exten: params.extension, hookApplied: applied }, 'originate');
      // The adapter's deadline (`ami.action_timeout_ms`) bounds the wait for "queued".
      const res = await ami.action(action, opts.signal ? { signal: opts.signal } : {});
      actionId = typeof res.actionid === 'string' ? res.actionid : '';
    } catch (err) {
      ami.off('event', onEvent);
      const mapped = mapAmiError(err, ids);
      callLog.warn({ err: mapped }, 'originate not accepted');
      opts.onResult?.(mapped);
      throw mapped;
    }

    const final = waitForResponse(actionId, ids, seen, (fn) => (deliver = fn), opts.signal).then(
      async (e) => {
        const response = field(e, 'response') === 'Success' ? 'Success' : 'Failure';
        const raw = Number(field(e, 'reason'));
        const reason = Number.isFinite(raw) ? raw : -1;
        if (response === 'Failure' && leg.created && !leg.cause) await waitForCause(leg, CAUSE_GRACE_MS);
        const outcome: OriginateOutcome = {
          ...base,
          actionId,
          state: response === 'Success' ? 'answered' : 'failed',
          placed: response === 'Success',
          response,
          reason,
          reasonText: response === 'Success' ? reasonText(reason) : failureText(reason, leg.cause),
          channel: field(e, 'channel'),
          ...(leg.cause ? { hangupCause: leg.cause } : {}),
        };
        const level = response === 'Success' ? 'info' : 'warn';
        callLog[level]({ actionId, response, reason: outcome.reason, reasonText: outcome.reasonText }, 'originate result');
        return outcome;
      },
      (err: unknown) => {
        const mapped = err instanceof OriginateError ? err : mapAmiError(err, ids);
        callLog.warn({ err: mapped, actionId }, 'originate result unknown');
        throw mapped;
      },
    );
    void final.then(
      (o) => opts.onResult?.(o),
      (e: OriginateError) => opts.onResult?.(e),
    );
    final.catch(() => undefined).finally(() => ami.off('event', onEvent));

    if (opts.wait) return final;
    return { ...base, actionId, state: 'queued', placed: true };
  }

  function waitForResponse(
    actionId: string,
    ids: ChannelIds,
    seen: AmiEvent[],
    setDeliver: (fn: (e: AmiEvent) => void) => void,
    signal: AbortSignal | undefined,
  ): Promise<AmiEvent> {
    const matches = (e: AmiEvent): boolean =>
      (actionId !== '' && field(e, 'actionid') === actionId) || field(e, 'uniqueid') === ids.channelId;
    return new Promise<AmiEvent>((resolve, reject) => {
      const early = seen.find(matches);
      seen.length = 0;
      if (early) {
        resolve(early);
        return;
      }
      let settled = false;
      const done = (fn: () => void): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        ami.off('disconnected', onDown);
        fn();
      };
      const timer = setTimeout(
        () =>
          done(() =>
            reject(
              new OriginateError(
                'ORIGINATE_TIMEOUT',
                `no OriginateResponse within ${settings.response_timeout_ms} ms (the call may still be in progress)`,
                { actionId, channelId: ids.channelId },
              ),
            ),
          ),
        settings.response_timeout_ms,
      );
      // A pending result must not keep a process alive on its own (the AMI socket does).
      timer.unref();
      const onAbort = (): void =>
        done(() => reject(new OriginateError('ORIGINATE_FAILED', 'stopped waiting for the Originate result', { actionId, channelId: ids.channelId, cause: signal?.reason })));
      const onDown = (): void =>
        done(() =>
          reject(
            new OriginateError('ORIGINATE_FAILED', 'the AMI link dropped before the Originate result came (the call may still be in progress)', {
              actionId,
              channelId: ids.channelId,
              maybePlaced: true,
            }),
          ),
        );
      signal?.addEventListener('abort', onAbort, { once: true });
      ami.on('disconnected', onDown);
      setDeliver((e) => {
        if (matches(e)) done(() => resolve(e));
      });
    });
  }

  return { clickToCall, settings: () => settings };
}
