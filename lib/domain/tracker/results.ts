/**
 * SIP-style results from Asterisk's DIALSTATUS and Q.850 hangup causes
 * (Asterisk's app_dial and hangup-cause documentation): 200 answered, 486 busy, 480 no answer, 487 cancelled,
 * 404 bad number, 503 congestion/unavailable, 603 rejected.
 */
export const RESULT = {
  ANSWERED: 200,
  NOT_FOUND: 404,
  NO_ANSWER: 480,
  BUSY: 486,
  CANCELLED: 487,
  UNAVAILABLE: 503,
  DECLINED: 603,
} as const;

export function dialStatusResult(status: string): number | undefined {
  switch (status.toUpperCase()) {
    case 'ANSWER':
      return RESULT.ANSWERED;
    case 'BUSY':
      return RESULT.BUSY;
    case 'NOANSWER':
      return RESULT.NO_ANSWER;
    case 'CANCEL':
      return RESULT.CANCELLED;
    case 'CONGESTION':
    case 'CHANUNAVAIL':
      return RESULT.UNAVAILABLE;
    default:
      // ABORT, CONTINUE, GOTO, '' say nothing about the far end
      return undefined;
  }
}

/** Causes that say exactly what happened, whatever DIALSTATUS says. */
export function specificCauseResult(cause: number): number | undefined {
  switch (cause) {
    case 17:
      return RESULT.BUSY;
    case 1: // unallocated number
    case 3: // no route to destination
    case 28: // invalid number format
      return RESULT.NOT_FOUND;
    case 21:
      return RESULT.DECLINED;
    default:
      return undefined;
  }
}

export function causeResult(cause: number): number | undefined {
  const specific = specificCauseResult(cause);
  if (specific !== undefined) return specific;
  switch (cause) {
    case 18:
    case 19:
    case 20:
      return RESULT.NO_ANSWER;
    case 34:
    case 38:
    case 41:
    case 42:
    case 44:
    case 47:
      return RESULT.UNAVAILABLE;
    case 26: // answered elsewhere
    case 127: // interworking: a PJSIP CANCEL
      return RESULT.CANCELLED;
    default:
      return undefined;
  }
}
