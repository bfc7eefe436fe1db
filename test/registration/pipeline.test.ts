// Pipeline unit tests (README, "Which calls are registered, and how") with in-memory fakes of the Kommo client and
// the hook runner: every branch, the bodies sent, and resuming without duplicates.
import t from 'tap';
import { runPipeline } from '../../lib/domain/registration/pipeline.js';
import { ContactCache } from '../../lib/domain/registration/contact-cache.js';
import { defaults } from '../../lib/platform/config/defaults.js';
import { FakeHooks, FakeKommo, entityNotFound, harness, makeCall, newRecord, settings, unreachable } from './helpers.js';

const PHONE = '79991234567';

t.test('known contact: one search, one call, hooks 11/12 with empty updates send nothing', async (t) => {
  const h = harness();
  const c = h.kommo.seedContact({ phones: ['+7 999 123 45 67'], lead_ids: [77] });
  const call = makeCall({ legs: [{ ext: '101', answered: true }] });
  const run = h.run(newRecord(call));
  const out = await runPipeline(h.deps, run);
  t.same(out, { status: 'done' });
  t.equal(h.kommo.count('findContactsByPhone'), 1);
  t.equal(h.kommo.count('createCall'), 1);
  t.equal(h.kommo.count('listTasks'), 1, 'registration.tasks.auto_complete (default on): one look for an open call-back task');
  t.equal(h.kommo.requests.length, 3, 'three Kommo requests for a known contact');
  t.equal(h.kommo.count('createContact'), 0);
  t.equal(h.kommo.count('updateContact'), 0);
  t.equal(h.kommo.count('updateLead'), 0);
  t.equal(h.hooks.ran('process_contact_update_params'), 1);
  t.equal(h.hooks.ran('process_lead_update_params'), 1, 'the contact has a single lead');
  const sent = h.kommo.calls[0]!;
  t.match(sent.body, {
    direction: 'inbound', duration: 55, source: 'kommo-asterisk', phone: PHONE, call_status: 4, call_result: 'Answered',
    responsible_user_id: 5001, created_by: 5001, uniq: call.channel.id,
  });
  t.notOk('link' in sent.body, 'empty recording link is omitted');
  t.equal(sent.body.created_at, Math.floor(new Date(2026, 10, 20, 10, 0, 0).getTime() / 1000));
  t.equal(sent.requestId, `${call.channel.id}:call`);
  t.match(run.record.steps, { contact_id: c.id, contact_created: false, lead_id: 77, call_id: sent.id, task_id: 0, post_registration_done: true });
  t.notOk(run.record.steps.intents, 'no intent left behind');
  t.same(h.hooks.input('post_registration')?.registered, { call_id: sent.id, contact_id: c.id, lead_id: 77, contact_created: false, lead_created: false });
});

t.test('hooks 11 and 12 returning an update send it', async (t) => {
  const hooks = new FakeHooks()
    .on('process_contact_update_params', () => ({ name: 'Renamed' }))
    .on('process_lead_update_params', () => ({ price: 10 }));
  const h = harness({ hooks });
  const c = h.kommo.seedContact({ phones: [PHONE], lead_ids: [77] });
  await runPipeline(h.deps, h.run(newRecord(makeCall())));
  t.same(h.kommo.updates, [
    { kind: 'contact', id: c.id, patch: { name: 'Renamed' } },
    { kind: 'lead', id: 77, patch: { price: 10 } },
  ]);
});

t.test('unknown number: contact created (hook 4 defaults), no lead by default', async (t) => {
  const h = harness();
  const call = makeCall({ legs: [{ ext: '102', answered: true }] });
  const run = h.run(newRecord(call));
  await runPipeline(h.deps, run);
  t.equal(h.kommo.count('createContact'), 1);
  t.equal(h.kommo.count('createLead'), 0);
  const [body, opts] = h.kommo.requests.find((r) => r.method === 'createContact')!.args as [Record<string, unknown>, { requestId: string }];
  t.same(body, {
    name: `Contact ${PHONE}`,
    responsible_user_id: 5002,
    custom_fields_values: [{ field_code: 'PHONE', values: [{ value: PHONE, enum_code: 'WORK' }] }],
    _embedded: { tags: [{ name: 'kommo-asterisk' }] },
  });
  t.equal(opts.requestId, `${call.channel.id}:contact`);
  t.same(h.hooks.input('process_contact_creation_params')?.params.tags, ['kommo-asterisk'], 'the hook sees tags as names');
  t.equal(h.kommo.count('createCall'), 1);
  t.equal(h.hooks.ran('process_contact_update_params'), 0, 'no update hooks for a new contact');
  t.match(run.record.steps, { contact_created: true, task_id: 0 });
});

t.test('unknown number + create_lead: lead with name, pipeline, status and the contact', async (t) => {
  const h = harness({ config: settings({ registration: { create_lead: true, lead_pipeline_id: 7001, lead_status_id: 70011 } }) });
  const call = makeCall({ legs: [{ ext: '101', answered: false }] });
  const run = h.run(newRecord(call));
  await runPipeline(h.deps, run);
  const lead = [...h.kommo.leads.values()][0]!;
  t.same(lead.body, {
    name: `${PHONE} - missed incoming`,
    pipeline_id: 7001,
    status_id: 70011,
    responsible_user_id: 5001,
    _embedded: { contacts: [{ id: run.record.steps.contact_id }], tags: [{ name: 'kommo-asterisk' }] },
  });
  t.match(run.record.steps, { lead_id: lead.id, lead_created: true });
  // Missed → task on the lead.
  t.equal(h.kommo.tasks.length, 1);
  t.match(h.kommo.tasks[0]!.body, { entity_type: 'leads', entity_id: lead.id, task_type_id: 1, is_completed: false });
  t.notOk('task_type' in h.kommo.tasks[0]!.body, 'task_type is sent as task_type_id');
});

t.test('outgoing answered lead name', async (t) => {
  const h = harness({ config: settings({ registration: { create_lead: true } }) });
  await runPipeline(h.deps, h.run(newRecord(makeCall({ direction: 'outgoing', legs: [{ ext: '101', answered: true }] }))));
  t.equal([...h.kommo.leads.values()][0]!.name, `${PHONE} - outgoing`);
  t.equal(h.kommo.calls[0]!.body.direction, 'outbound');
});

t.test('use_unsorted: an incoming lead carries the call; no contact, no calls API', async (t) => {
  const h = harness({ config: settings({ registration: { use_unsorted: true, lead_pipeline_id: 7001 } }) });
  const call = makeCall({ legs: [{ ext: '101', answered: true }], record: 'https://pbx/rec/abc' });
  const run = h.run(newRecord(call));
  await runPipeline(h.deps, run);
  t.equal(h.kommo.count('createUnsortedSip'), 1);
  t.equal(h.kommo.count('createContact'), 0);
  t.equal(h.kommo.count('createCall'), 0);
  const body = h.kommo.unsorted[0]!.body as Record<string, any>;
  t.match(body, {
    source_uid: 'kommo-asterisk', source_name: 'kommo-asterisk', pipeline_id: 7001,
    metadata: { uniq: call.channel.id, duration: 55, phone: PHONE, from: PHONE, link: 'https://pbx/rec/abc', is_call_event_needed: true },
  });
  t.equal(body._embedded.contacts[0].name, `Contact ${PHONE}`);
  t.equal(body._embedded.leads[0].name, `${PHONE} - incoming`);
  t.equal(h.hooks.ran('process_unsorted_creation_params'), 1);
  t.match(run.record.steps, { unsorted_uid: h.kommo.unsorted[0]!.uid, contact_created: true, lead_created: true, call_id: 0 });
});

t.test('create_contact false and unknown number: skipped', async (t) => {
  const h = harness({ config: settings({ registration: { create_contact: false } }) });
  t.same(await runPipeline(h.deps, h.run(newRecord(makeCall()))), { status: 'skipped', reason: 'unknown_client' });
  t.equal(h.kommo.count('createCall'), 0);
});

t.test('tasks: only for missed incoming / unanswered outgoing, only when enabled', async (t) => {
  const cases = [
    { name: 'answered incoming', call: makeCall({ legs: [{ ext: '101', answered: true }] }), tasks: true, want: 0 },
    { name: 'missed incoming', call: makeCall({ legs: [{ ext: '101' }] }), tasks: true, want: 1 },
    { name: 'unanswered outgoing', call: makeCall({ direction: 'outgoing', result: 486, legs: [{ ext: '101' }] }), tasks: true, want: 1 },
    { name: 'missed in IVR', call: makeCall({ legs: [], result: 200, is_ivr: true }), tasks: true, want: 1 },
    { name: 'missed, tasks disabled', call: makeCall({ legs: [{ ext: '101' }] }), tasks: false, want: 0 },
  ];
  for (const c of cases) {
    const h = harness({ config: settings({ registration: { tasks: { ...defaults.registration.tasks, enabled: c.tasks, deadline_minutes: 30, task_type_id: 1, auto_complete: false } } }) });
    const contact = h.kommo.seedContact({ phones: [PHONE], name: 'Ann' });
    await runPipeline(h.deps, h.run(newRecord(c.call)));
    t.equal(h.kommo.tasks.length, c.want, c.name);
    if (c.want === 1) {
      t.match(h.kommo.tasks[0]!.body, {
        entity_type: 'contacts', entity_id: contact.id, text: `Call back Ann on a missed call from ${PHONE}`,
        complete_till: Math.floor(h.deps.now() / 1000) + 30 * 60, responsible_user_id: 5002,
      }, `${c.name}: task body`);
    }
  }
});

t.test('responsible user of a missed call: entity, else the last rung phone, else the default', async (t) => {
  // Entity's responsible user.
  let h = harness();
  h.kommo.seedContact({ phones: [PHONE], responsible_user_id: 5002 });
  await runPipeline(h.deps, h.run(newRecord(makeCall({ legs: [{ ext: '101', start: '2026-11-20 10:00:01' }] }))));
  t.equal(h.kommo.calls[0]!.body.responsible_user_id, 5002, 'entity responsible');

  // No entity (create_contact off would skip; use a call with an entity-less answer): the last rung user.
  h = harness({ config: settings({ registration: { tasks: { ...defaults.registration.tasks, enabled: true, deadline_minutes: 60, task_type_id: 1, auto_complete: false } } }) });
  await runPipeline(h.deps, h.run(newRecord(makeCall({ legs: [
    { ext: '101', start: '2026-11-20 10:00:01' },
    { ext: '102', start: '2026-11-20 10:00:05' },
  ] }))));
  t.equal(h.kommo.contacts.values().next().value!.responsible_user_id, 5002, 'new contact: the last rung user');
  t.equal(h.kommo.calls[0]!.body.responsible_user_id, 5002);

  // Nobody rang (IVR): the configured default.
  h = harness();
  await runPipeline(h.deps, h.run(newRecord(makeCall({ legs: [], is_ivr: true, result: 200 }))));
  t.equal(h.kommo.contacts.values().next().value!.responsible_user_id, 5003, 'default user');
  t.equal(h.kommo.calls[0]!.body.responsible_user_id, 5003);
});

t.test('created_by is the employee who talked, omitted when nobody did', async (t) => {
  let h = harness();
  h.kommo.seedContact({ phones: [PHONE] });
  await runPipeline(h.deps, h.run(newRecord(makeCall({ legs: [{ ext: '101' }, { ext: '102', answered: true }] }))));
  t.equal(h.kommo.calls[0]!.body.created_by, 5002);
  h = harness();
  h.kommo.seedContact({ phones: [PHONE] });
  await runPipeline(h.deps, h.run(newRecord(makeCall({ legs: [{ ext: '101' }] }))));
  t.notOk('created_by' in h.kommo.calls[0]!.body, 'omitted: the call counts as made by a robot');
  t.equal(h.kommo.calls[0]!.body.duration, 0);
  t.equal(h.kommo.calls[0]!.body.call_status, 6);
});

t.test('hook 1 and the lists', async (t) => {
  let h = harness({ hooks: new FakeHooks().on('need_registration', () => ({ result: false })) });
  t.same(await runPipeline(h.deps, h.run(newRecord(makeCall()))), { status: 'skipped', reason: 'hook_need_registration' });
  t.equal(h.kommo.requests.length, 0);
  t.equal(h.hooks.input('need_registration')?.call_stage, 'call_ended');

  h = harness({ config: settings({ registration: { blacklist: { extensions: [], trunks: [], numbers: ['89991234567'] } } }) });
  t.same(await runPipeline(h.deps, h.run(newRecord(makeCall()))), { status: 'skipped', reason: 'blacklist_number' });
  t.equal(h.hooks.ran('need_registration'), 0, 'a blacklisted call never reaches the hook');

  h = harness({ config: settings({ registration: { blacklist: { extensions: ['102'], trunks: [], numbers: [] } } }) });
  t.same(await runPipeline(h.deps, h.run(newRecord(makeCall({ legs: [{ ext: '102' }] })))), { status: 'skipped', reason: 'blacklist_extension' });

  h = harness({ config: settings({ registration: { blacklist: { extensions: [], trunks: ['trunk9'], numbers: [] } } }) });
  t.same(await runPipeline(h.deps, h.run(newRecord(makeCall({ trunk: 'trunk9' })))), { status: 'skipped', reason: 'blacklist_trunk' });

  h = harness({ config: settings({ registration: { whitelist: { extensions: [], trunks: ['trunk2'], numbers: [] } } }) });
  t.same(await runPipeline(h.deps, h.run(newRecord(makeCall({ trunk: 'trunk1' })))), { status: 'skipped', reason: 'not_whitelisted' });
  h = harness({ config: settings({ registration: { whitelist: { extensions: [], trunks: ['trunk2'], numbers: [] } } }) });
  t.same(await runPipeline(h.deps, h.run(newRecord(makeCall({ trunk: 'trunk2' })))), { status: 'done' });

  h = harness();
  t.same(await runPipeline(h.deps, h.run(newRecord(makeCall({ direction: 'local', client: '102' })))), { status: 'skipped', reason: 'internal' });
  h = harness();
  t.same(await runPipeline(h.deps, h.run(newRecord(makeCall({ client: 'anonymous' })))), { status: 'skipped', reason: 'no_client_number' });
});

t.test('hook 3 rewrites the phone used everywhere; hook 2 changes the call body but not uniq', async (t) => {
  const hooks = new FakeHooks()
    .on('process_client_phone', (input) => ({ phone: `+${input.phone}` }))
    .on('process_call_params', (input) => ({ ...input.params, call_result: 'custom', uniq: 'hijack' }));
  const h = harness({ hooks });
  h.kommo.seedContact({ phones: [PHONE] });
  const call = makeCall();
  await runPipeline(h.deps, h.run(newRecord(call)));
  t.equal(h.kommo.requests[0]!.args[0], `+${PHONE}`);
  t.match(h.kommo.calls[0]!.body, { phone: `+${PHONE}`, call_result: 'custom', uniq: call.channel.id });
});

t.test('resume after a crash between steps: the contact is not created twice', async (t) => {
  const h = harness();
  const call = makeCall();
  // Saves: need_registration, client_phone, intent(contact), contact result → crash.
  const first = h.run(newRecord(call), { stopAfterSaves: 4 });
  await t.rejects(runPipeline(h.deps, first), /simulated crash/);
  t.equal(h.kommo.count('createContact'), 1);
  t.equal(h.kommo.count('createCall'), 0);
  const second = h.run(first.record);
  t.same(await runPipeline(h.deps, second), { status: 'done' });
  t.equal(h.kommo.count('createContact'), 1, 'not created again');
  t.equal(h.kommo.contacts.size, 1);
  t.equal(h.kommo.calls.length, 1);
});

t.test('crash after the contact create was sent but before its result was saved: looked up, not re-created', async (t) => {
  const h = harness();
  // Saves: need_registration, client_phone, intent(contact), [contact result: the process dies here].
  const first = h.run(newRecord(makeCall()), { crashOnSave: 4 });
  await t.rejects(runPipeline(h.deps, first), /simulated crash/);
  t.equal(h.kommo.contacts.size, 1, 'the create reached Kommo');
  t.ok(first.record.steps.intents?.contact, 'intent kept');
  const second = h.run(first.record);
  await runPipeline(h.deps, second);
  t.equal(h.kommo.contacts.size, 1, 'one contact');
  t.equal(h.kommo.count('createContact'), 1);
  t.equal(h.kommo.count('findContactsByPhone'), 2, 'looked again before creating');
  t.match(second.record.steps, { contact_created: true });
  t.notOk(second.record.steps.intents);
});

t.test('a create that definitely failed drops its intent', async (t) => {
  const h = harness();
  h.kommo.fault('createContact', unreachable(false), 'before');
  const first = h.run(newRecord(makeCall()));
  await t.rejects(runPipeline(h.deps, first));
  t.notOk(first.record.steps.intents?.contact);
  await runPipeline(h.deps, h.run(first.record));
  t.equal(h.kommo.contacts.size, 1);
});

t.test('maybeApplied lead: found on the contact, not re-created', async (t) => {
  const h = harness({ config: settings({ registration: { create_lead: true } }) });
  h.kommo.fault('createLead', unreachable(true), 'after');
  const first = h.run(newRecord(makeCall()));
  await t.rejects(runPipeline(h.deps, first));
  await runPipeline(h.deps, h.run(first.record));
  t.equal(h.kommo.leads.size, 1);
  t.equal(h.kommo.count('createLead'), 1);
});

t.test('maybeApplied task: found by listTasks with the same text, not re-created', async (t) => {
  const h = harness();
  h.kommo.seedContact({ phones: [PHONE] });
  h.kommo.fault('createTask', unreachable(true), 'after');
  const first = h.run(newRecord(makeCall({ legs: [{ ext: '101' }] })));
  await t.rejects(runPipeline(h.deps, first));
  const second = h.run(first.record);
  await runPipeline(h.deps, second);
  t.equal(h.kommo.tasks.length, 1);
  t.equal(h.kommo.count('listTasks'), 2, 'one look for an open call-back task before the create (auto_complete), one for the create of unknown outcome');
  t.equal(second.record.steps.task_id, h.kommo.tasks[0]!.id);
});

t.test('maybeApplied call: found through the notes, not sent again', async (t) => {
  const h = harness();
  h.kommo.seedContact({ phones: [PHONE] });
  h.kommo.fault('createCall', unreachable(true), 'after');
  const first = h.run(newRecord(makeCall()));
  await t.rejects(runPipeline(h.deps, first));
  const second = h.run(first.record);
  await runPipeline(h.deps, second);
  t.equal(h.kommo.calls.length, 1);
  t.equal(second.record.steps.call_id, h.kommo.calls[0]!.id);
});

t.test('maybeApplied call without a notes lookup: sent again with the same request_id (known risk)', async (t) => {
  const h = harness({ kommo: new FakeKommo(false) });
  h.kommo.seedContact({ phones: [PHONE] });
  h.kommo.fault('createCall', unreachable(true), 'after');
  const first = h.run(newRecord(makeCall()));
  await t.rejects(runPipeline(h.deps, first));
  await runPipeline(h.deps, h.run(first.record));
  t.equal(h.kommo.calls.length, 2, 'the documented duplicate risk');
  t.equal(h.kommo.calls[0]!.requestId, h.kommo.calls[1]!.requestId);
});

t.test('stale cache: Entity not found → look again, create the contact, register', async (t) => {
  const cache = new ContactCache();
  const h = harness({ cache });
  cache.set(PHONE, { id: 999, lead_ids: [] });
  const run = h.run(newRecord(makeCall()));
  t.same(await runPipeline(h.deps, run), { status: 'done' });
  t.equal(h.kommo.count('createCall'), 2);
  t.equal(h.kommo.calls.length, 1);
  t.equal(h.kommo.contacts.size, 1);
  t.match(run.record.steps, { contact_created: true });
});

t.test('Entity not found for a contact we created: fails (not transient)', async (t) => {
  const h = harness();
  h.kommo.fault('createCall', entityNotFound());
  await t.rejects(runPipeline(h.deps, h.run(newRecord(makeCall()))), { code: 'KOMMO_ENTITY_NOT_FOUND' });
});

t.test('a warm cache: a repeated caller costs only the call request', async (t) => {
  const h = harness({ config: settings({ registration: { tasks: { enabled: true, deadline_minutes: 60, task_type_id: 1, auto_complete: false, auto_complete_window_hours: 72 } } }) });
  h.kommo.seedContact({ phones: [PHONE] });
  await runPipeline(h.deps, h.run(newRecord(makeCall())));
  const before = h.kommo.requests.length;
  await runPipeline(h.deps, h.run(newRecord(makeCall())));
  t.equal(h.kommo.requests.length - before, 1);
  t.equal(h.kommo.requests.at(-1)!.method, 'createCall');
});

t.test('no contact but a company has the number: nothing created, the call and task go on the company', async (t) => {
  const h = harness();
  h.kommo.companies.set(500, { id: 500, name: 'ACME', responsible_user_id: 5002, phones: [PHONE], lead_ids: [] });
  const run = h.run(newRecord(makeCall({ legs: [{ ext: '101' }] })));
  t.same(await runPipeline(h.deps, run), { status: 'done' });
  t.equal(h.kommo.count('createContact'), 0);
  t.match(run.record.steps, { company_id: 500, company_name: 'ACME' });
  t.equal(h.kommo.calls[0]!.body.responsible_user_id, 5002, "the company's responsible user");
  t.match(h.kommo.tasks[0]!.body, { entity_type: 'companies', entity_id: 500, text: `Call back ACME on a missed call from ${PHONE}` });
  t.same(h.hooks.input('post_registration')?.registered, { call_id: h.kommo.calls[0]!.id, company_id: 500, task_id: h.kommo.tasks[0]!.id, contact_created: false, lead_created: false });
  t.equal(h.hooks.input('process_call_params')?.call_full.entity?.type, 'companies');
});

t.test('the contact call_full already carries (autodistribution) saves the search', async (t) => {
  const h = harness({ config: settings({ registration: { tasks: { enabled: true, deadline_minutes: 60, task_type_id: 1, auto_complete: false, auto_complete_window_hours: 72 } } }) });
  const c = h.kommo.seedContact({ phones: [PHONE], responsible_user_id: 5002 });
  const run = h.run(newRecord(makeCall({ entity: { id: c.id, type: 'contacts', name: 'Known', responsible_user_id: 5002 } })));
  await runPipeline(h.deps, run);
  t.same(h.kommo.requests.map((r) => r.method), ['createCall']);
});
