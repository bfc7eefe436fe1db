/**
 * Click-to-call with several Asterisk servers (README, "Several Asterisk servers"):
 * the Originate goes to the server that lists the employee's extension in
 * `ami[].extensions`; an extension no server lists goes to the first server
 * (with one server, always there). One click-to-call service per server, each on
 * its own AMI client; the router only chooses.
 */
import { resolveCaller } from './params.js';
import type { ClickToCall, ClickToCallOptions, ClickToCallRequest, OriginateOutcome } from './service.js';

export interface ClickToCallTarget {
  /** The server's name (`ami[].name`). */
  name: string;
  /** Extensions that live on this server (`ami[].extensions`). */
  extensions: readonly string[];
  service: ClickToCall;
}

/** Which server an extension's Originate goes to: the one listing it, else the first. */
export function serverForExtension<T extends { extensions: readonly string[] }>(targets: readonly T[], extension: string): T {
  if (targets.length === 0) throw new Error('click-to-call needs at least one AMI server');
  return targets.find((t) => t.extensions.includes(extension)) ?? targets[0]!;
}

export interface ClickToCallRouter extends ClickToCall {
  /** The server a request would go to (throws the caller errors of `resolveCaller`). */
  route(req: Pick<ClickToCallRequest, 'userId' | 'extension'>): ClickToCallTarget;
}

export function createClickToCallRouter(targets: readonly ClickToCallTarget[], pbxExtensions: Readonly<Record<string, number>>): ClickToCallRouter {
  if (targets.length === 0) throw new Error('click-to-call needs at least one AMI server');
  const route = (req: Pick<ClickToCallRequest, 'userId' | 'extension'>): ClickToCallTarget =>
    targets.length === 1 ? targets[0]! : serverForExtension(targets, resolveCaller(req, pbxExtensions).extension);
  return {
    route,
    clickToCall(req: ClickToCallRequest, opts?: ClickToCallOptions): Promise<OriginateOutcome> {
      let target: ClickToCallTarget;
      try {
        target = route(req);
      } catch (err) {
        return Promise.reject(err); // as the service itself does for a caller it cannot resolve
      }
      return target.service.clickToCall(req, opts);
    },
    settings: () => targets[0]!.service.settings(),
  };
}
