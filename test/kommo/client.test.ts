/** The client against the strict simulator over real HTTP: endpoints, bodies, answers. */
import t from 'tap';
import { KommoApiError, KommoError } from '../../lib/adapters/kommo/index.js';
import { SEED_IDS } from '../../rig/simulator/index.js';
import { harness } from './helpers.js';

t.test('account, users (all pages), fields, phone field, pipelines', async (t) => {
  const { client, sim } = await harness(t);
  const account = await client.getAccount({ with: ['users_groups'] });
  t.equal(account.id, SEED_IDS.account);
  const users = await client.listUsers();
  t.ok(users.some((u) => u.id === SEED_IDS.users.ivan));
  const fields = await client.getContactFields();
  t.ok(fields.find((f) => f.code === 'PHONE'));
  t.same(await client.findPhoneField(), { fieldId: SEED_IDS.contactFields.phone, enumId: SEED_IDS.phoneEnums.WORK, enumCode: 'WORK' });
  const pipelines = await client.listPipelines();
  t.ok(pipelines.find((p) => p.id === SEED_IDS.pipelines.sales && p.is_main));
  t.ok(sim.requests.every((r) => r.auth === 'ok'));
});

t.test('missing PHONE field → KOMMO_PHONE_FIELD_MISSING', async (t) => {
  const { client } = await harness(t, { sim: { seed: { contactCustomFields: [] } } });
  await t.rejects(client.findPhoneField(), { code: 'KOMMO_PHONE_FIELD_MISSING' });
});

t.test('phone search keeps only real PHONE matches, with leads', async (t) => {
  const { client, sim } = await harness(t);
  sim.seed({
    contacts: [
      { id: 301, name: 'Real', phones: ['+7 (999) 123-45-67'] },
      { id: 302, name: 'Comment only', phones: ['+7 495 000 00 00'], custom_fields_values: [{ field_code: 'POSITION', values: [{ value: 'ex 79991234567' }] }] },
      { id: 303, name: 'Other', phones: ['+7 999 765 43 21'] },
    ],
    leads: [{ id: 901, name: 'deal', contact_ids: [301] }],
  });
  const found = await client.findContactsByPhone('8 999 123 45 67');
  t.same(found.map((c) => c.id), [301]);
  t.same(found[0]?._embedded?.leads?.map((l) => l.id), [901]);
  const req = sim.requests.find((r) => r.path === '/api/v4/contacts');
  t.equal(req?.query['query'], '9991234567', 'searched on the last 10 digits');
  t.equal(req?.query['with'], 'leads');
  t.same(await client.findContactsByPhone('+1 555 000 1111'), [], '204 → empty result');
});

t.test('companies by phone, get by id, 204 → null', async (t) => {
  const { client, sim } = await harness(t);
  sim.seed({ companies: [{ id: 401, name: 'Acme', phones: ['+7 999 111 22 33'] }], contacts: [{ id: 402, name: 'Bob', phones: ['1'] }] });
  t.same((await client.findCompaniesByPhone('79991112233')).map((c) => c.id), [401]);
  t.equal((await client.getCompany(401))?.name, 'Acme');
  t.equal((await client.getContact(402))?.name, 'Bob');
  t.equal(await client.getContact(999_999), null);
  t.equal(await client.getLead(999_999), null);
  await t.rejects(client.getContact(-1), { code: 'KOMMO_INVALID_ARGUMENT' });
});

t.test('create contact/lead, update, link: request_id on every create, never null', async (t) => {
  const { client, sim } = await harness(t);
  const contact = await client.createContact({
    name: 'Contact 79990001122', responsible_user_id: SEED_IDS.users.maria,
    custom_fields_values: [{ field_code: 'PHONE', values: [{ value: '+79990001122', enum_code: 'WORK' }] }],
    _embedded: { tags: [{ name: 'kommo-asterisk' }] },
    first_name: null as unknown as string,
  }, { requestId: 'call-1:contact' });
  t.ok(contact.id > 0);
  const post = sim.requests.find((r) => r.method === 'POST' && r.path === '/api/v4/contacts');
  t.match(post?.body, [{ request_id: 'call-1:contact', name: 'Contact 79990001122' }]);
  t.notMatch(JSON.stringify(post?.body), /null/);

  const lead = await client.createLead({ name: 'lead', price: undefined, pipeline_id: SEED_IDS.pipelines.sales, _embedded: { contacts: [{ id: contact.id }] } });
  t.ok(lead.id > 0);
  const leadPost = sim.requests.find((r) => r.method === 'POST' && r.path === '/api/v4/leads');
  t.type((leadPost?.body as Array<{ request_id: unknown }>)[0]?.request_id, 'string', 'a generated request_id');

  await client.updateContact(contact.id, { name: 'Renamed', responsible_user_id: null as unknown as number });
  t.equal(sim.state.contacts.get(contact.id)?.name, 'Renamed');
  const before = sim.counters.total;
  await client.updateLead(lead.id, {});
  await client.updateLead(lead.id, { price: null as unknown as number });
  t.equal(sim.counters.total, before, 'empty diffs send nothing');
  await client.updateLead(lead.id, { price: 100 });
  t.equal(sim.state.leads.get(lead.id)?.price, 100);

  const other = await client.createContact({ name: 'Second' });
  await client.linkContactsToLead(lead.id, [other.id]);
  t.ok(sim.state.leads.get(lead.id)?.contact_ids.includes(other.id));
  await client.linkContactsToLead(lead.id, []);
  const got = await client.getLead(lead.id);
  t.ok(got?._embedded?.contacts?.some((c) => c.id === other.id));
});

t.test('unsorted sip, tasks, notes, calls', async (t) => {
  const { client, sim } = await harness(t);
  const now = Math.floor(Date.now() / 1000);
  const uns = await client.createUnsortedSip({
    source_uid: 'kommo-asterisk', source_name: 'kommo-asterisk', pipeline_id: SEED_IDS.pipelines.sales, created_at: now,
    metadata: { uniq: '1700000000.1', duration: 12, service_code: 'kommo-asterisk', phone: '+79995556677', called_at: now, from: '+79995556677', link: 'https://pbx.example/rec/1.mp3' },
    _embedded: { leads: [{ name: 'incoming' }], contacts: [{ name: 'Caller', custom_fields_values: [{ field_code: 'PHONE', values: [{ value: '+79995556677', enum_code: 'WORK' }] }] }] },
  });
  t.type(uns.uid, 'string');
  t.ok(uns.leadId && uns.leadId > 0);

  const c = await client.createContact({ name: 'Callee', custom_fields_values: [{ field_code: 'PHONE', values: [{ value: '+79991110000', enum_code: 'WORK' }] }] });
  const task = await client.createTask({ text: 'Call back', complete_till: now + 3600, task_type_id: 1, entity_id: c.id, entity_type: 'contacts', responsible_user_id: SEED_IDS.users.ivan });
  t.ok(task.id > 0);
  const open = await client.listTasks({ entityType: 'contacts', entityId: c.id, isCompleted: false });
  t.same(open.map((x) => x.id), [task.id]);
  await client.completeTask(task.id, 'called back');
  t.same(await client.listTasks({ entityType: 'contacts', entityId: c.id, isCompleted: false }), []);
  t.equal(sim.state.tasks.get(task.id)?.is_completed, true);

  const note = await client.addNote('contacts', c.id, { note_type: 'call_in', params: { uniq: 'u1', duration: 5, source: 'kommo-asterisk', phone: '+79991110000', link: 'https://pbx.example/rec/2.mp3' } });
  t.ok(note.id > 0);
  await t.rejects(client.addNote('tasks' as never, 1, { note_type: 'common' }), { code: 'KOMMO_INVALID_ARGUMENT' });

  const call = await client.createCall({ direction: 'inbound', duration: 30, source: 'kommo-asterisk', phone: '89991110000', call_status: 4, uniq: 'u1' });
  t.equal(call.entityId, c.id);
  t.equal(call.entityType, 'contacts');
  const err = await client.createCall({ direction: 'inbound', duration: 30, source: 'kommo-asterisk', phone: '+15550001234' }).catch((e: unknown) => e);
  t.ok(err instanceof KommoApiError);
  t.equal((err as KommoApiError).code, 'KOMMO_ENTITY_NOT_FOUND');
  t.equal((err as KommoApiError).status, 400);
});

t.test('problem+json → coded error with status/title/detail/validation errors', async (t) => {
  const { client } = await harness(t);
  const err = await client.createLead({ name: 'x', responsible_user_id: SEED_IDS.users.deleted }).catch((e: unknown) => e);
  t.ok(err instanceof KommoApiError, String(err));
  const e = err as KommoApiError;
  t.equal(e.code, 'KOMMO_VALIDATION');
  t.equal(e.status, 400);
  t.type(e.title, 'string');
  t.type(e.detail, 'string');
  t.ok(e.validationErrors.length > 0);
  t.match(e.validationErrors[0]?.errors[0], { path: /responsible_user_id/ });
  t.equal(e.maybeApplied, false);
});

t.test('402, 403 JSON, 404, 500 on a create', async (t) => {
  const { client, sim } = await harness(t);
  sim.faults.fail(1, 402);
  await t.rejects(client.getAccount(), { code: 'KOMMO_PAYMENT_REQUIRED', status: 402 });
  sim.faults.fail(1, 403);
  await t.rejects(client.listUsers(), { code: 'KOMMO_FORBIDDEN' });
  sim.faults.fail(1, 500);
  const err = await client.createContact({ name: 'x' }).catch((e: unknown) => e);
  t.match(err, { code: 'KOMMO_SERVER_ERROR', maybeApplied: true, status: 500 });
  sim.faults.fail(2, 500);
  t.equal((await client.getAccount()).id, SEED_IDS.account, 'GET retried through 500s');
});

t.test('abort: caller signal → KOMMO_ABORTED quickly', async (t) => {
  const { client, sim } = await harness(t);
  sim.faults.hang();
  const started = Date.now();
  const err = await client.getAccount({ signal: AbortSignal.timeout(100) }).catch((e: unknown) => e);
  t.ok(err instanceof KommoError);
  t.equal((err as KommoError).code, 'KOMMO_ABORTED');
  t.ok(Date.now() - started < 1500);
  sim.faults.clear();
});

t.test('close: refuses new calls, waits for in-flight', async (t) => {
  const { client, sim } = await harness(t);
  sim.faults.slow(200);
  const pending = client.getAccount();
  await new Promise((r) => setTimeout(r, 50));
  const closing = client.close();
  await t.rejects(client.getAccount(), { code: 'KOMMO_CLOSED' });
  t.equal((await pending).id, SEED_IDS.account);
  await closing;
  await client.close();
});

t.test('close cancels a request waiting in backoff; destroy aborts one in flight', async (t) => {
  const { client, sim } = await harness(t, { config: { retry: { max_attempts: 10, base_delay_ms: 5000, max_delay_ms: 5000 } } });
  sim.faults.fail(1, 503);
  const waiting = client.getAccount().catch((e: unknown) => e);
  await new Promise((r) => setTimeout(r, 100));
  const started = Date.now();
  await client.close();
  t.match(await waiting, { code: 'KOMMO_CLOSED', maybeApplied: false });
  t.ok(Date.now() - started < 1000, 'close did not wait for the backoff');

  const h2 = await harness(t);
  h2.sim.faults.hang();
  const hung = h2.client.createContact({ name: 'hung' }).catch((e: unknown) => e);
  await new Promise((r) => setTimeout(r, 100));
  await h2.client.destroy();
  t.match(await hung, { code: 'KOMMO_CLOSED', maybeApplied: true });
  h2.sim.faults.clear();
});
