// Click-to-call with several Asterisk servers: the Originate goes to the server that
// lists the employee's extension (ami[].extensions), else to the first.
import t from 'tap';
import { createClickToCallRouter, serverForExtension, type ClickToCall, type ClickToCallRequest, type OriginateOutcome } from '../../lib/domain/originate/index.js';

function fakeService(name: string, calls: string[]): ClickToCall {
  return {
    async clickToCall(req: ClickToCallRequest) {
      calls.push(`${name}:${req.extension ?? req.userId}`);
      return { state: 'queued', placed: true } as OriginateOutcome;
    },
    settings: () => ({ channel_tech: 'PJSIP', context: name, ring_timeout_ms: 1, response_timeout_ms: 1, caller_id_name: 'K' }),
  };
}

t.test('serverForExtension: the listing server, else the first', async (t) => {
  const targets = [{ name: 'a', extensions: ['101'] }, { name: 'b', extensions: ['201', '202'] }];
  t.equal(serverForExtension(targets, '202').name, 'b');
  t.equal(serverForExtension(targets, '101').name, 'a');
  t.equal(serverForExtension(targets, '999').name, 'a', 'unlisted: the first server');
  t.throws(() => serverForExtension([], '101'));
});

t.test('the router sends each request to its extension\'s server; caller errors are the service\'s', async (t) => {
  const calls: string[] = [];
  const router = createClickToCallRouter(
    [
      { name: 'east', extensions: ['101'], service: fakeService('east', calls) },
      { name: 'west', extensions: ['102'], service: fakeService('west', calls) },
    ],
    { '101': 5001, '102': 5002, '103': 5003 },
  );
  await router.clickToCall({ userId: 5002, phone: '79990001122' });
  await router.clickToCall({ extension: '101', phone: '79990001122' });
  await router.clickToCall({ userId: 5003, phone: '79990001122' });
  t.same(calls, ['west:5002', 'east:101', 'east:5003'], 'by Kommo user (its extension), by extension, unlisted → first');
  t.equal(router.route({ userId: 5002 }).name, 'west');
  await t.rejects(router.clickToCall({ userId: 9999, phone: '79990001122' }), { code: 'ORIGINATE_UNKNOWN_USER' });
  await t.rejects(router.clickToCall({ phone: '79990001122' }), { code: 'ORIGINATE_NO_EXTENSION' });
  t.same(calls.length, 3, 'nothing sent for a caller that cannot be resolved');
  t.equal(router.settings().context, 'east');
  t.throws(() => createClickToCallRouter([], {}));
});

t.test('one server: everything goes there, without asking who calls first', async (t) => {
  const calls: string[] = [];
  const router = createClickToCallRouter([{ name: 'pbx', extensions: [], service: fakeService('pbx', calls) }], { '101': 5001 });
  await router.clickToCall({ userId: 5001, phone: '79990001122' });
  t.same(calls, ['pbx:5001']);
});
