// A fake AMI adapter and hook runner for the click-to-call unit tests.
import { EventEmitter } from 'node:events';
import { pino, type Logger } from 'pino';
import { Writable } from 'node:stream';
import { AmiError } from '../../lib/protocol/ami/errors.js';
import type { AmiActionFields } from '../../lib/protocol/ami/encoder.js';
import type { AmiEvent, AmiResponse } from '../../lib/protocol/ami/events.js';
import type { ClickToCallAmi, ClickToCallHooks } from '../../lib/domain/originate/index.js';
import type { HookRun } from '../../lib/adapters/hooks/loader.js';
import { HookError } from '../../lib/adapters/hooks/errors.js';
import type { OriginateParams } from '../../lib/adapters/hooks/types.js';

export interface FakeAmi extends ClickToCallAmi {
  sent: AmiActionFields[];
  connected: boolean;
  /** What the next action does: answer (default), throw, or answer + emit events in the same tick. */
  next: { error?: AmiError; sameTick?: (actionId: string) => AmiEvent[]; hang?: boolean };
  emitEvent(e: AmiEvent): void;
  emitDisconnected(): void;
  listenerCount(): number;
}

export function fakeAmi(): FakeAmi {
  const em = new EventEmitter();
  let seq = 0;
  const ami: FakeAmi = {
    sent: [],
    connected: true,
    next: {},
    isConnected: () => ami.connected,
    on(event: string, listener: (...args: never[]) => void) {
      em.on(event, listener as (...args: unknown[]) => void);
      return ami;
    },
    off(event: string, listener: (...args: never[]) => void) {
      em.off(event, listener as (...args: unknown[]) => void);
      return ami;
    },
    action(fields: AmiActionFields): Promise<AmiResponse> {
      ami.sent.push(fields);
      const next = ami.next;
      ami.next = {};
      if (next.error) return Promise.reject(next.error);
      if (next.hang) return new Promise(() => undefined);
      const actionid = `fake-${++seq}`;
      // Like the package: the events are emitted before the caller's continuation runs.
      if (next.sameTick) for (const e of next.sameTick(actionid)) em.emit('event', e);
      return Promise.resolve({ response: 'Success', actionid, message: 'Originate successfully queued' });
    },
    emitEvent: (e: AmiEvent) => em.emit('event', e),
    emitDisconnected: () => em.emit('disconnected', new Error('gone')),
    listenerCount: () => em.listenerCount('event') + em.listenerCount('disconnected'),
  } as unknown as FakeAmi;
  return ami;
}

export function originateResponse(actionid: string, response: 'Success' | 'Failure', reason: number, uniqueid = ''): AmiEvent {
  return {
    event: 'originateresponse',
    actionid,
    response,
    channel: 'PJSIP/101-00000001',
    context: 'kommo-originate',
    exten: '79991234567',
    reason: String(reason),
    uniqueid: uniqueid || '<null>',
    calleridnum: '79991234567',
    calleridname: 'Kommo',
  };
}

export interface FakeHooks extends ClickToCallHooks {
  inputs: unknown[];
}

/** A hook 6 that changes the defaults with `change` (or fails with `fail`). */
export function fakeHooks(change?: (p: OriginateParams) => Partial<OriginateParams>, fail?: boolean): FakeHooks {
  const hooks: FakeHooks = {
    inputs: [],
    run: (async (_hook: string, input: unknown, defaults: OriginateParams) => {
      hooks.inputs.push(input);
      if (fail) return { data: defaults, applied: false, error: new HookError('HOOK_THREW', 'process_originate_params', 'boom') };
      if (!change) return { data: defaults, applied: false };
      return { data: { ...defaults, ...change(defaults) }, applied: true };
    }) as unknown as ClickToCallHooks['run'],
  };
  return hooks;
}

export function captureLogger(): { logger: Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) lines.push(JSON.parse(line) as Record<string, unknown>);
      cb();
    },
  });
  return { logger: pino({ level: 'debug' }, stream), lines };
}

export type { HookRun };
