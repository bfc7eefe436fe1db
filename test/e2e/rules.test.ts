// End-to-end (issue 12, part 3): per-number rules from the config, on the real Asterisk
// with SIPp and the strict Kommo simulator. DID 201: unknown callers become an incoming
// lead in the support pipeline; DID 202: a lead in sales, tagged; missed calls on the
// ring group's DID 202 are not registered at all.
import t from 'tap';
import { asteriskRootProblem } from '../../rig/sandbox/asterisk.js';
import { SEED_IDS } from '../../rig/simulator/index.js';
import { callsFor, contactsWith, placeCall, startRig, waitFor, waitRegistered, type Rig } from '../bridge/e2e-rig.js';

const problem = asteriskRootProblem();

if (problem) {
  t.fail(`real Asterisk unavailable: ${problem}`);
} else {
  let rig: Rig;
  t.before(async () => {
    rig = await startRig({
      config: {
        registration: {
          rules: [
            { dids: ['201'], client: 'unknown', create: 'incoming_lead', pipeline_id: SEED_IDS.pipelines.support },
            { dids: ['202'], calls: ['incoming_missed'], register: false },
            { dids: ['202'], create: 'lead', pipeline_id: SEED_IDS.pipelines.sales, status_id: SEED_IDS.statuses.salesNew, tag: 'line-202' },
          ],
        },
      },
    });
  });
  t.teardown(() => rig?.close());

  t.test('DID 201, unknown caller → an incoming lead in the support pipeline', async (t) => {
    const phone = '79995554001';
    await placeCall(rig, { from: 'trunk', service: '201', caller: phone, durationMs: 1500, uas: [{ at: '101', scenario: 'uas-answer', durationMs: 500 }] });
    const mine = () => [...rig.sim.state.unsorted.values()].filter((u) => String(u.metadata['phone'] ?? '').endsWith(phone.slice(-10)));
    await waitFor('the incoming lead', () => mine().length > 0 || undefined);
    await rig.bridge!.registrar.idle();
    const unsorted = mine();
    t.equal(unsorted.length, 1, 'one incoming lead');
    t.equal(unsorted[0]?.pipeline_id, SEED_IDS.pipelines.support, 'in the rule\'s pipeline');
  });

  t.test('DID 202, answered, unknown caller → contact + lead in sales, tagged line-202', async (t) => {
    const phone = '79995554002';
    await placeCall(rig, {
      from: 'trunk', service: '202', caller: phone, durationMs: 1500,
      uas: [{ at: '102', scenario: 'uas-answer', durationMs: 500 }, { at: '103', scenario: 'uas-noanswer' }],
    });
    await waitRegistered(rig, phone);
    const contacts = contactsWith(rig.sim, phone);
    t.equal(contacts.length, 1, 'a contact');
    const contact = rig.sim.state.contacts.get(contacts[0]!.id)!;
    t.same(contact.tags.map((x) => x.name), ['line-202'], 'tagged by the rule');
    const leads = [...rig.sim.state.leads.values()].filter((l) => l.contact_ids.includes(contact.id));
    t.equal(leads.length, 1, 'a lead (registration.create_lead is false: the rule made it)');
    t.match(leads[0], { pipeline_id: SEED_IDS.pipelines.sales, status_id: SEED_IDS.statuses.salesNew });
    t.same(leads[0]?.tags.map((x) => x.name), ['line-202']);
  });

  t.test('DID 202, missed → not registered', async (t) => {
    const phone = '79995554003';
    const before = rig.bridge!.bridge.stats().submitted_total;
    await placeCall(rig, {
      from: 'trunk', service: '202', caller: phone, scenario: 'uac-cancel', durationMs: 1500,
      uas: [{ at: '102', scenario: 'uas-noanswer' }, { at: '103', scenario: 'uas-noanswer' }],
    });
    const deadline = Date.now() + 15_000;
    while (rig.bridge!.bridge.stats().submitted_total === before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    await new Promise((r) => setTimeout(r, 1500));
    t.equal(rig.bridge!.bridge.stats().submitted_total, before + 1, 'the call ended and was stored');
    t.equal(callsFor(rig.sim, phone).length, 0, 'no call record');
    t.equal(contactsWith(rig.sim, phone).length, 0, 'no contact');
    t.match(rig.bridge!.registrar.stats(), { failed: 0, pending: 0 });
  });
}
