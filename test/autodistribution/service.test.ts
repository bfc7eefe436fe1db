import t from 'tap';
import pino from 'pino';
import { createAutodistribution, type LookupClient, type AutodistHooks, type LookupEntity } from '../../lib/domain/autodistribution/service.js';
import { LookupCache } from '../../lib/domain/autodistribution/cache.js';

const silent = pino({ level: 'silent' });

function fakeKommo(contacts: Record<string, LookupEntity[]>, opts: { delayMs?: number; fail?: boolean; companies?: Record<string, LookupEntity[]> } = {}) {
  const calls: string[] = [];
  const client: LookupClient = {
    async findContactsByPhone(phone, o) {
      calls.push(`contacts:${phone}`);
      if (opts.delayMs) {
        await new Promise<void>((resolve, reject) => {
          const timer = setTimeout(resolve, opts.delayMs);
          o?.signal?.addEventListener('abort', () => { clearTimeout(timer); reject(o.signal?.reason); });
        });
      }
      if (opts.fail) throw Object.assign(new Error('down'), { code: 'KOMMO_UNREACHABLE' });
      return contacts[phone.slice(-10)] ?? [];
    },
    async findCompaniesByPhone(phone) {
      calls.push(`companies:${phone}`);
      return opts.companies?.[phone.slice(-10)] ?? [];
    },
    async listUsers() {
      calls.push('users');
      return [{ id: 5001 }, { id: 5002 }, { id: 5009, rights: { is_active: false } }];
    },
  };
  return { client, calls };
}

const passHooks: AutodistHooks = {
  async run(_hook: string, _input: Record<string, unknown>, defaults: any) {
    return { data: defaults };
  },
} as AutodistHooks;

const truncate = (name: string, max: number) => Array.from(name).slice(0, max).join('');
const baseOpts = {
  budgetMs: 200,
  extensions: { '101': 5001, '102': 5002, '109': 5009 },
  positiveTtlMs: 60_000,
  negativeTtlMs: 10_000,
  maxEntries: 100,
  nameMax: 20,
  lookupTimeoutMs: 1000,
};
const normalize = (raw: string) => {
  const d = raw.replace(/\D/g, '');
  if (!d) return null;
  return d.length === 11 && d.startsWith('8') ? `7${d.slice(1)}` : d;
};
const req = (callerNumber: string) => ({ callerNumber, requestData: { agi_uniqueid: '1.1' } });

t.test('known caller is routed to the responsible manager with a 20-character name', async (t) => {
  const { client, calls } = fakeKommo({
    '9991234567': [{ id: 1, name: 'Константин Константинопольский', responsible_user_id: 5002 }],
  });
  const ad = createAutodistribution(baseOpts, { kommo: client, hooks: passHooks, normalizePhone: normalize, truncateName: truncate, logger: silent });
  const a = await ad.handle(req('8 (999) 123-45-67'));
  t.equal(a.status, 'found');
  t.equal(a.extension, '102');
  t.equal(a.name, 'Константин Константи');
  t.equal(Array.from(a.name).length, 20);
  t.same(calls, ['contacts:79991234567', 'companies:79991234567'], 'contacts and companies are searched at once');
  const again = await ad.handle(req('+79991234567'));
  t.equal(again.extension, '102');
  t.same(calls.length, 2, 'a repeated caller costs no request');
  t.equal(ad.stats().hits, 1);
});

t.test('unknown caller, anonymous caller and a company match', async (t) => {
  const { client, calls } = fakeKommo({}, { companies: { '4951112233': [{ id: 7, name: 'ООО Ромашка', responsible_user_id: 5001 }] } });
  const ad = createAutodistribution(baseOpts, { kommo: client, hooks: passHooks, normalizePhone: normalize, truncateName: truncate, logger: silent });
  const unknown = await ad.handle(req('79990000000'));
  t.equal(unknown.status, 'not_found');
  t.equal(unknown.reason, 'no-entity');
  const anon = await ad.handle(req('unknown'));
  t.equal(anon.status, 'not_found');
  t.equal(anon.reason, 'no-number');
  const company = await ad.handle(req('74951112233'));
  t.equal(company.status, 'found');
  t.equal(company.extension, '101');
  t.equal(company.name, 'ООО Ромашка');
  await ad.handle(req('79990000000'));
  t.equal(calls.filter((c) => c === 'contacts:79990000000').length, 1, 'a negative answer is cached too');
});

t.test('responsible user without extension, deactivated, or none: not found', async (t) => {
  const { client } = fakeKommo({
    '9990000001': [{ id: 1, name: 'A', responsible_user_id: 5077 }],
    '9990000002': [{ id: 2, name: 'B', responsible_user_id: 5009 }],
    '9990000003': [{ id: 3, name: 'C' }],
  });
  const ad = createAutodistribution(baseOpts, { kommo: client, hooks: passHooks, normalizePhone: normalize, truncateName: truncate, logger: silent });
  await ad.refreshUsers();
  t.match(await ad.handle(req('79990000001')), { status: 'not_found', reason: 'no-extension', name: 'A' });
  t.match(await ad.handle(req('79990000002')), { status: 'not_found', reason: 'inactive-user' });
  t.match(await ad.handle(req('79990000003')), { status: 'not_found', reason: 'no-responsible' });
});

t.test('a hanging Kommo answers "timeout" within the budget; a failing one "error"', async (t) => {
  const hanging = fakeKommo({}, { delayMs: 5_000 });
  const ad = createAutodistribution({ ...baseOpts, budgetMs: 100, lookupTimeoutMs: 300 }, { kommo: hanging.client, hooks: passHooks, normalizePhone: normalize, truncateName: truncate, logger: silent });
  const a = await ad.handle(req('79991234567'));
  t.equal(a.status, 'timeout');
  t.equal(a.extension, '');
  t.ok(a.elapsedMs >= 95 && a.elapsedMs < 1000, `answered after ${a.elapsedMs} ms`);
  const failing = fakeKommo({}, { fail: true });
  const ad2 = createAutodistribution(baseOpts, { kommo: failing.client, hooks: passHooks, normalizePhone: normalize, truncateName: truncate, logger: silent });
  t.match(await ad2.handle(req('79991234567')), { status: 'error', reason: 'kommo-error' });
  await ad2.handle(req('79991234567'));
  t.equal(failing.calls.filter((c) => c.startsWith('contacts:')).length, 2, 'errors are not cached');
  t.same(ad2.stats().answers, { found: 0, not_found: 0, timeout: 0, error: 2 });
});

t.test('hooks 3 and 9 can change the number and the route', async (t) => {
  const { client, calls } = fakeKommo({ '9991234567': [{ id: 1, name: 'Ann', responsible_user_id: 5001 }] });
  const seen: Record<string, unknown>[] = [];
  const hooks = {
    async run(hook: string, input: Record<string, unknown>, defaults: any) {
      seen.push({ hook, ...input });
      if (hook === 'process_client_phone') return { data: { phone: '79991234567' } };
      if (input.entity === undefined) return { data: { number: '199', name: 'VIP line with a very long name' } };
      return { data: defaults };
    },
  } as AutodistHooks;
  const ad = createAutodistribution(baseOpts, { kommo: client, hooks, normalizePhone: normalize, truncateName: truncate, logger: silent });
  const a = await ad.handle(req('0000'));
  t.equal(a.extension, '101', 'hook 3 rewrote the number before the look-up');
  t.same(calls, ['contacts:79991234567', 'companies:79991234567']);
  const hook9 = seen.find((s) => s.hook === 'process_autodistribution');
  t.match(hook9, { number: '101', name: 'Ann', from: '0000', request_data: { agi_uniqueid: '1.1' }, entity: { id: 1, type: 'contacts' } });
  t.notOk('error' in (hook9 ?? {}), 'read-only fields appear only when not empty');
});

t.test('hook 9 may route an unknown caller, and its name is cut to 20 characters', async (t) => {
  const { client } = fakeKommo({});
  const hooks = {
    async run(hook: string, _input: Record<string, unknown>, defaults: any) {
      if (hook === 'process_autodistribution') return { data: { number: '199', name: 'VIP line with a very long name' } };
      return { data: defaults };
    },
  } as AutodistHooks;
  const ad = createAutodistribution(baseOpts, { kommo: client, hooks, normalizePhone: normalize, truncateName: truncate, logger: silent });
  t.match(await ad.handle(req('79990000000')), { status: 'found', extension: '199', name: 'VIP line with a very' });
  ad.close();
});

t.test('LookupCache: TTLs, bound, single flight, errors not cached', async (t) => {
  let clock = 0;
  const cache = new LookupCache<string | null>({ positiveTtlMs: 100, negativeTtlMs: 10, maxEntries: 2, now: () => clock });
  let loads = 0;
  const load = (v: string | null) => async () => {
    loads++;
    await new Promise((r) => setTimeout(r, 5));
    return v;
  };
  const [a, b] = await Promise.all([cache.getOrLoad('k', load('x'), (v) => v !== null), cache.getOrLoad('k', load('x'), (v) => v !== null)]);
  t.equal(a, 'x');
  t.equal(b, 'x');
  t.equal(loads, 1, 'concurrent misses share one load');
  await cache.getOrLoad('n', load(null), (v) => v !== null);
  clock = 11;
  t.equal(cache.peek('n'), undefined, 'negative entry expired');
  t.equal(cache.peek('k'), 'x', 'positive entry alive');
  cache.set('a', 'a', true);
  cache.set('b', 'b', true);
  t.equal(cache.size, 2, 'bounded');
  t.equal(cache.peek('k'), undefined, 'oldest evicted');
  await t.rejects(cache.getOrLoad('e', async () => { throw new Error('boom'); }, () => true));
  t.equal(cache.peek('e'), undefined);
});

t.test('the budget runs from the connection (spentMs), and a hook still running is aborted when it is spent', async (t) => {
  const { client } = fakeKommo({ '9991234567': [{ id: 1, name: 'Client', responsible_user_id: 5002 }] });
  const seen: Array<{ hook: string; aborted: boolean }> = [];
  const stuckHooks = {
    run(hook: string, _input: Record<string, unknown>, defaults: unknown, opts?: { signal?: AbortSignal }) {
      if (hook !== 'process_autodistribution') return Promise.resolve({ data: defaults });
      return new Promise((resolve) => {
        opts?.signal?.addEventListener('abort', () => {
          seen.push({ hook, aborted: true });
          resolve({ data: defaults });
        });
      });
    },
  } as unknown as AutodistHooks;
  const service = createAutodistribution({ ...baseOpts, budgetMs: 400 }, { kommo: client, hooks: stuckHooks, normalizePhone: normalize, truncateName: truncate, logger: silent });
  const started = Date.now();
  const answer = await service.handle({ ...req('+79991234567'), spentMs: 300 });
  const ms = Date.now() - started;
  t.equal(answer.status, 'timeout');
  t.ok(ms >= 80 && ms < 250, `decided after the 100 ms left of the budget (${ms} ms)`);
  await new Promise((r) => setTimeout(r, 10));
  t.same(seen, [{ hook: 'process_autodistribution', aborted: true }], 'hook 9 was told to stop');
  service.close();
});

t.test('look-ups ask the shared rate limiter for the realtime lane', async (t) => {
  const seen: unknown[] = [];
  const kommo: LookupClient = {
    async findContactsByPhone(_phone, o) { seen.push(['contacts', o?.priority]); return []; },
    async findCompaniesByPhone(_phone, o) { seen.push(['companies', o?.priority]); return []; },
    async listUsers() { return []; },
  };
  const service = createAutodistribution(baseOpts, { kommo, hooks: passHooks, normalizePhone: normalize, truncateName: truncate, logger: silent });
  await service.handle(req('+79990001122'));
  t.same(seen, [['contacts', 'realtime'], ['companies', 'realtime']]);
  service.close();
});

t.test('no budget signal is made for a hook that is off', async (t) => {
  const { client } = fakeKommo({});
  const seen: Array<[string, boolean]> = [];
  const hooks = {
    isActive: (hook: string) => hook === 'process_autodistribution',
    async run(hook: string, _input: Record<string, unknown>, defaults: unknown, opts?: { signal?: AbortSignal }) {
      seen.push([hook, opts?.signal !== undefined]);
      return { data: defaults };
    },
  } as unknown as AutodistHooks;
  const service = createAutodistribution(baseOpts, { kommo: client, hooks, normalizePhone: normalize, truncateName: truncate, logger: silent });
  await service.handle(req('+79990001133'));
  t.same(seen, [['process_client_phone', false], ['process_autodistribution', true]]);
  service.close();
});

t.test('onContactFound: every caller found to be a contact (cached too) is handed on with its leads; companies and unknown callers are not', async (t) => {
  const { client } = fakeKommo(
    { '9991234567': [{ id: 7, name: 'Known', responsible_user_id: 5002, _embedded: { leads: [{ id: 70 }, { id: 71 }] } }] },
    { companies: { '9990000001': [{ id: 8, name: 'Firm', responsible_user_id: 5001 }] } },
  );
  const found: Array<[string, unknown]> = [];
  const ad = createAutodistribution(baseOpts, {
    kommo: client, hooks: passHooks, normalizePhone: normalize, truncateName: truncate, logger: silent,
    onContactFound: (phone, c) => found.push([phone, c]),
  });
  t.teardown(() => ad.close());
  await ad.handle(req('+7 999 123 45 67'));
  await ad.handle(req('89991234567')); // cached: handed on again (registration's entry is refreshed)
  await ad.handle(req('79990000001')); // a company
  await ad.handle(req('79995550000')); // nobody
  t.same(found, [
    ['79991234567', { id: 7, name: 'Known', responsible_user_id: 5002, lead_ids: [70, 71] }],
    ['79991234567', { id: 7, name: 'Known', responsible_user_id: 5002, lead_ids: [70, 71] }],
  ]);
});
