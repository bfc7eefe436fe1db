/**
 * The call model of customizations/README.md (`call_full`), as handed to every customization.
 * Field names are snake_case on purpose: they are the customizations' contract.
 */
export type CallStage = 'conversation_requested' | 'conversation_accepted' | 'conversation_ended' | 'call_ended';

export type ChannelType = 'incoming' | 'outgoing' | 'local' | 'unknown';
export type ChannelState = 'ringing' | 'talking' | 'ended' | 'processed';

/** `YYYY-MM-DD HH:MM:SS`; `0001-01-01 00:00:00` when it has not happened. */
export type CallTime = string;
export const NO_TIME: CallTime = '0001-01-01 00:00:00';

export interface NumberObject {
  /** Digits as Asterisk gave them (after rewriting for client numbers). */
  number: string;
  /** Display name, when known. */
  name: string;
}

export interface ChannelObject {
  id: string;
  name: string;
  is_primary: boolean;
  type: ChannelType;
  state: ChannelState;
  from: NumberObject;
  to: NumberObject;
  trunk: NumberObject;
  start_time: CallTime;
  answer_time: CallTime;
  end_time: CallTime;
  was_answered: boolean;
  extra: Record<string, unknown>;
}

export interface KommoUserRef {
  id: number;
  name?: string;
  extension?: string;
}

export interface Conversation {
  channel: ChannelObject;
  is_parked: boolean;
  user: KommoUserRef | null;
}

export interface KommoEntityRef {
  id: number;
  type: 'contacts' | 'companies';
  name?: string;
  responsible_user_id?: number;
  [field: string]: unknown;
}

export interface KommoLeadRef {
  id: number;
  name?: string;
  responsible_user_id?: number;
  [field: string]: unknown;
}

export interface CallFull {
  active_conversation_id: string;
  channel: ChannelObject;
  conversations: Record<string, Conversation>;
  entity: KommoEntityRef | null;
  deal: KommoLeadRef | null;
  is_ivr: boolean;
  record: string;
  /** SIP-style result: 200 answered, 486 busy, 480 no answer, 404 bad number, 487 cancelled … */
  result: number;
  /**
   * The Asterisk server the call happened on (`ami[].name`; `pbx` unless configured).
   * Set by the bridge on every call; absent only in calls journalled before 0.2.
   */
  pbx?: string;
}
