import t from 'tap';
import { pino } from 'pino';
import { AmiError } from '../../lib/protocol/ami/errors.js';
import type { AmiEvent } from '../../lib/protocol/ami/events.js';
import { assertPhoneField, exitCodeFor, formatChecks, runChecks, type CheckAmi, type CheckConfig, type CheckKommo } from '../../lib/domain/check/index.js';
import { KommoApiError, KommoAuthError, KommoError, KommoUnreachableError, type User } from '../../lib/adapters/kommo/index.js';
import { HookError } from '../../lib/adapters/hooks/errors.js';
import type { HookCheck } from '../../lib/adapters/hooks/loader.js';
import { defaults } from '../../lib/platform/config/defaults.js';

const logger = pino({ level: 'silent' });

const config: CheckConfig = {
  ami: { ...defaults.ami, host: '127.0.0.1', port: 5038, username: 'kommo', secret: 's3cret', action_timeout_ms: 1000, reconnect_min_ms: 100, reconnect_max_ms: 1000, max_queued_actions: 10 },
  kommo: { base_url: 'https://sandbox.kommo.com', long_lived_token: 'tok', phone_enum: 'WORK' },
  pbx: { extensions: { '101': 5001, '102': 5002 }, default_user_id: 5003 },
  // the defaults of recordings.dir and of the bundled dialplan
  recordings: { enabled: true, dir: '/var/spool/asterisk/monitor' },
};

interface AmiPlan {
  connect?: Error;
  endpoints?: string[] | Error;
  /** Getvar answers (globals and FEATUREMAP()); the default is a features.conf with both transfer codes. */
  vars?: Record<string, string>;
}

const FEATURES = { 'FEATUREMAP(atxfer)': '*2', 'FEATUREMAP(blindxfer)': '#1' };

function fakeAmi(plan: AmiPlan = {}): CheckAmi & { destroyed: boolean; actions: string[] } {
  const ami = {
    destroyed: false,
    actions: [] as string[],
    connect: async () => {
      if (plan.connect) throw plan.connect;
    },
    action: async (f: { action: string; variable?: string }) => {
      ami.actions.push(`${f.action}:${f.variable ?? ''}`);
      return { response: 'Success', value: { ...FEATURES, ...plan.vars }[f.variable ?? ''] ?? '' };
    },
    actionList: async (f: { action: string }) => {
      ami.actions.push(f.action);
      const eps = plan.endpoints ?? ['101', '102', '103', 'trunk'];
      if (eps instanceof Error) throw eps;
      const events: AmiEvent[] = eps.map((n) => ({ event: 'endpointlist', objectname: n }));
      return { response: { response: 'Success' }, events, complete: undefined };
    },
    close: async () => undefined,
    destroy: () => {
      ami.destroyed = true;
    },
  };
  return ami as unknown as CheckAmi & { destroyed: boolean; actions: string[] };
}

const USERS: User[] = [
  { id: 5001, name: 'Ivan', rights: { is_active: true } },
  { id: 5002, name: 'Maria', rights: { is_active: true } },
  { id: 5003, name: 'Olga', rights: { is_active: true } },
  { id: 5004, name: 'Peter Gone', rights: { is_active: false } },
];

interface KommoPlan {
  account?: Error;
  field?: Error;
  users?: User[] | Error;
}

function fakeKommo(plan: KommoPlan = {}): CheckKommo {
  return {
    getAccount: async () => {
      if (plan.account) throw plan.account;
      return { id: 1000001, name: 'Sandbox', subdomain: 'sandbox' };
    },
    findPhoneField: async () => {
      if (plan.field) throw plan.field;
      return { fieldId: 1001, enumId: 2001, enumCode: 'WORK' };
    },
    listUsers: async () => {
      const u = plan.users ?? USERS;
      if (u instanceof Error) throw u;
      return u;
    },
  };
}

function hooks(list: HookCheck[] = []) {
  return { check: async () => list };
}

t.test('all good', async (t) => {
  const ami = fakeAmi();
  const results = await runChecks({ config, kommo: fakeKommo(), amiFactory: () => ami, hooks: hooks(), logger, configSource: '/etc/kommo-asterisk/config.json' });
  t.equal(exitCodeFor(results), 0);
  t.equal(
    formatChecks(results),
    [
      'ok    Configuration (valid: /etc/kommo-asterisk/config.json)',
      'ok    AMI login (127.0.0.1:5038 as kommo)',
      'ok    Extensions in Asterisk (2 mapped: 101, 102)',
      'ok    Transfers (attended *2, blind #1, Dial options "t")',
      'ok    Recordings directory (MixMonitor writes into /var/spool/asterisk/monitor/kommo, under recordings.dir /var/spool/asterisk/monitor (KOMMO_RECORDINGS_DIR unset: the bundled default /var/spool/asterisk/monitor/kommo))',
      'ok    Kommo token (account sandbox (id 1000001))',
      'ok    Kommo PHONE contact field (PHONE field 1001, enum WORK 2001)',
      'ok    Kommo users (2 mapped users active)',
      'ok    Customizations (none active)',
      '',
    ].join('\n'),
  );
  t.same([...ami.actions].sort(), ['Getvar:FEATUREMAP(atxfer)', 'Getvar:FEATUREMAP(blindxfer)', 'Getvar:KOMMO_DIAL_OPTIONS', 'Getvar:KOMMO_RECORD', 'Getvar:KOMMO_RECORDINGS_DIR', 'PJSIPShowEndpoints']);
  t.ok(ami.destroyed, 'the AMI client is closed');
});

t.test('wrong AMI secret: a clear message, extensions skipped', async (t) => {
  const ami = fakeAmi({ connect: new AmiError('AMI_LOGIN_FAILED', 'refused') });
  const results = await runChecks({ config, kommo: fakeKommo(), amiFactory: () => ami, logger });
  const text = formatChecks(results);
  t.match(text, /^FAIL  AMI login: Asterisk refused user "kommo" at 127\.0\.0\.1:5038 — check ami\.username and ami\.secret/m);
  t.match(text, /^skip  Extensions in Asterisk: not checked \(the AMI login failed\)$/m);
  t.notMatch(text, /s3cret/, 'the secret never appears');
  t.equal(exitCodeFor(results), 1);
  t.equal(results.find((r) => r.name === 'AMI login')?.code, 'AMI_LOGIN_FAILED');
  t.ok(ami.destroyed);
});

t.test('AMI unreachable / silent / factory throws', async (t) => {
  let text = formatChecks(await runChecks({ config, kommo: fakeKommo(), amiFactory: () => fakeAmi({ connect: new AmiError('AMI_CONNECT_FAILED', 'x') }), logger }));
  t.match(text, /FAIL  AMI login: cannot connect to 127\.0\.0\.1:5038 — is Asterisk running/);
  text = formatChecks(await runChecks({ config, kommo: fakeKommo(), amiFactory: () => fakeAmi({ connect: new AmiError('AMI_TIMEOUT', 'x') }), logger }));
  t.match(text, /FAIL  AMI login: no answer to the login/);
  text = formatChecks(await runChecks({ config, kommo: fakeKommo(), amiFactory: () => { throw new Error('bad'); }, logger }));
  t.match(text, /FAIL  AMI login: bad/);
});

t.test('unknown extension; SIP tech; no endpoints; other tech', async (t) => {
  let results = await runChecks({ config, kommo: fakeKommo(), amiFactory: () => fakeAmi({ endpoints: ['101', 'trunk'] }), logger });
  t.match(formatChecks(results), /FAIL  Extensions in Asterisk: 102 is not PJSIP endpoint in Asterisk — fix pbx\.extensions or the pjsip\.conf endpoints/);
  t.equal(exitCodeFor(results), 1);
  const sip = fakeAmi({ endpoints: ['101', '102'] });
  results = await runChecks({ config: { ...config, originate: { channel_tech: 'SIP' } }, kommo: fakeKommo(), amiFactory: () => sip, logger });
  t.same(sip.actions.filter((a) => !a.startsWith('Getvar')), ['SIPpeers']);
  results = await runChecks({
    config,
    kommo: fakeKommo(),
    amiFactory: () => fakeAmi({ endpoints: new AmiError('AMI_ACTION_FAILED', 'x', { response: { response: 'Error', message: 'No endpoints found' } }) }),
    logger,
  });
  t.match(formatChecks(results), /FAIL  Extensions in Asterisk: 101, 102 are not PJSIP endpoints/);
  results = await runChecks({ config: { ...config, originate: { channel_tech: 'IAX2' } }, kommo: fakeKommo(), amiFactory: () => fakeAmi(), logger });
  t.match(formatChecks(results), /FAIL  Extensions in Asterisk: cannot list IAX2 endpoints/);
  results = await runChecks({ config: { ...config, pbx: { extensions: {} } }, kommo: fakeKommo(), amiFactory: () => fakeAmi(), logger });
  t.match(formatChecks(results), /FAIL  Extensions in Asterisk: pbx\.extensions is empty/);
  results = await runChecks({ config, kommo: fakeKommo(), amiFactory: () => fakeAmi({ endpoints: new AmiError('AMI_ACTION_FAILED', 'Invalid/unknown command') }), logger });
  t.match(formatChecks(results), /FAIL  Extensions in Asterisk: PJSIPShowEndpoints failed/);
});

t.test('bad Kommo token (long-lived and OAuth), unreachable, payment', async (t) => {
  const auth = new KommoAuthError('KOMMO_AUTH_FAILED', 'Kommo rejected the long-lived token');
  let results = await runChecks({ config, kommo: fakeKommo({ account: auth }), amiFactory: () => fakeAmi(), logger });
  let text = formatChecks(results);
  t.match(text, /^FAIL  Kommo token: 401 Unauthorized — check kommo\.long_lived_token$/m);
  t.match(text, /^skip  Kommo PHONE contact field: not checked/m);
  t.match(text, /^skip  Kommo users: not checked/m);
  t.notMatch(text, /tok\b/);
  results = await runChecks({ config: { ...config, kommo: { base_url: 'https://x.kommo.com', phone_enum: 'WORK', oauth: { client_id: 'a', client_secret: 'b', redirect_uri: 'c' } } }, kommo: fakeKommo({ account: auth }), amiFactory: () => fakeAmi(), logger });
  t.match(formatChecks(results), /401 Unauthorized — check kommo\.oauth/);
  const down = new KommoUnreachableError('KOMMO_UNREACHABLE', 'connect ECONNREFUSED', { method: 'GET', path: '/api/v4/account', attempts: 3, maybeApplied: false });
  text = formatChecks(await runChecks({ config, kommo: fakeKommo({ account: down }), amiFactory: () => fakeAmi(), logger }));
  t.match(text, /FAIL  Kommo token: cannot reach https:\/\/sandbox\.kommo\.com \(KOMMO_UNREACHABLE/);
  const pay = new KommoApiError('KOMMO_PAYMENT_REQUIRED', 'x', { status: 402, method: 'GET', path: '/api/v4/account' });
  text = formatChecks(await runChecks({ config, kommo: fakeKommo({ account: pay }), amiFactory: () => fakeAmi(), logger }));
  t.match(text, /402 Payment Required/);
});

t.test('missing PHONE field: how to fix it', async (t) => {
  const missing = new KommoError('KOMMO_PHONE_FIELD_MISSING', 'the Kommo account has no contact field with code PHONE');
  const results = await runChecks({ config, kommo: fakeKommo({ field: missing }), amiFactory: () => fakeAmi(), logger });
  const line = formatChecks(results).split('\n').find((l) => l.includes('PHONE contact field')) ?? '';
  t.match(line, /^FAIL  Kommo PHONE contact field: the Kommo account has no contact field with code PHONE — create a phone field with code PHONE in Kommo → Settings → Contacts/);
  t.equal(exitCodeFor(results), 1);
});

t.test('users: missing, deactivated, default user, forbidden', async (t) => {
  let results = await runChecks({
    config: { ...config, pbx: { extensions: { '101': 5001, '103': 5004, '104': 5099 }, default_user_id: 5098 } },
    kommo: fakeKommo(),
    amiFactory: () => fakeAmi({ endpoints: ['101', '103', '104'] }),
    logger,
  });
  const line = formatChecks(results).split('\n').find((l) => l.includes('Kommo users')) ?? '';
  t.match(line, /^FAIL  Kommo users: /);
  t.match(line, /user 5004 Peter Gone \(extension 103\) is deactivated in Kommo/);
  t.match(line, /user 5099 \(extension 104\) does not exist in Kommo/);
  t.match(line, /user 5098 \(pbx\.default_user_id\) does not exist/);
  const forbidden = new KommoApiError('KOMMO_FORBIDDEN', 'x', { status: 403, method: 'GET', path: '/api/v4/users' });
  results = await runChecks({ config, kommo: fakeKommo({ users: forbidden }), amiFactory: () => fakeAmi(), logger });
  t.match(formatChecks(results), /FAIL  Kommo users: the token cannot list users \(403\)/);
});

t.test('customizations: active, broken', async (t) => {
  let results = await runChecks({
    config, kommo: fakeKommo(), amiFactory: () => fakeAmi(), logger,
    hooks: hooks([{ hook: 'process_client_phone', file: 'process_client_phone.mjs', kind: 'module', ok: true } as HookCheck]),
  });
  t.match(formatChecks(results), /ok    Customizations \(1 active: process_client_phone\)/);
  results = await runChecks({
    config, kommo: fakeKommo(), amiFactory: () => fakeAmi(), logger,
    hooks: hooks([{ hook: 'need_registration', file: 'need_registration.mjs', kind: 'module', ok: false, error: new HookError('HOOK_LOAD_FAILED', 'need_registration', 'SyntaxError: Unexpected token') } as HookCheck]),
  });
  t.match(formatChecks(results), /FAIL  Customizations: need_registration \(need_registration\.mjs\): HOOK_LOAD_FAILED need_registration: SyntaxError/);
  t.equal(exitCodeFor(results), 1);
  results = await runChecks({ config, kommo: fakeKommo(), amiFactory: () => fakeAmi(), logger, hooks: { check: async () => { throw new Error('dir unreadable'); } } });
  t.match(formatChecks(results), /FAIL  Customizations: dir unreadable/);
});

t.test('assertPhoneField: for start', async (t) => {
  t.same(await assertPhoneField(fakeKommo()), { fieldId: 1001, enumId: 2001, enumCode: 'WORK' });
  await t.rejects(assertPhoneField(fakeKommo({ field: new KommoError('KOMMO_PHONE_FIELD_MISSING', 'no PHONE') })), {
    code: 'KOMMO_PHONE_FIELD_MISSING',
    message: /no PHONE — create a phone field with code PHONE in Kommo → Settings → Contacts/,
  });
  const auth = new KommoAuthError('KOMMO_AUTH_FAILED', 'nope');
  await t.rejects(assertPhoneField(fakeKommo({ field: auth })), auth, 'other errors unchanged');
});

t.test('exitCodeFor', async (t) => {
  t.equal(exitCodeFor([]), 0);
  t.equal(exitCodeFor([{ name: 'a', ok: true, detail: '' }]), 0);
  t.equal(exitCodeFor([{ name: 'a', ok: true, detail: '' }, { name: 'b', ok: false, skipped: true, detail: '' }]), 1);
  t.equal(formatChecks([{ name: 'x', ok: true, detail: '' }]), 'ok    x\n');
});

t.test('transfers and the recordings directory: warnings that do not fail the check', async (t) => {
  const run = async (vars: Record<string, string>, over: Partial<CheckConfig> = {}) => {
    const results = await runChecks({ config: { ...config, ...over }, kommo: fakeKommo(), amiFactory: () => fakeAmi({ vars }), logger });
    return { text: formatChecks(results), code: exitCodeFor(results) };
  };
  let r = await run({ 'FEATUREMAP(atxfer)': '', 'FEATUREMAP(blindxfer)': '' });
  t.match(r.text, /^WARN  Transfers: no attended-transfer code: add "atxfer => \*2" under \[featuremap\] in features\.conf .*; no blind-transfer code/m);
  t.equal(r.code, 0, 'a warning is not a failure');
  r = await run({ KOMMO_DIAL_OPTIONS: 'r' });
  t.match(r.text, /^WARN  Transfers: KOMMO_DIAL_OPTIONS is "r" without "t": the manager who answers an autodistributed call cannot transfer it$/m);
  r = await run({ KOMMO_DIAL_OPTIONS: 'U(sub^arg)Tt' });
  t.match(r.text, /^ok    Transfers \(attended \*2, blind #1, Dial options "U\(sub\^arg\)Tt"\)$/m);
  r = await run({ KOMMO_DIAL_OPTIONS: 'U(t)' });
  t.match(r.text, /^WARN  Transfers: KOMMO_DIAL_OPTIONS is "U\(t\)" without "t"/m, 'a "t" inside an option\'s argument does not count');
  r = await run({ KOMMO_RECORDINGS_DIR: '/srv/recordings' });
  t.match(r.text, /^WARN  Recordings directory: MixMonitor writes into \/srv\/recordings \(KOMMO_RECORDINGS_DIR=\/srv\/recordings\), which is not under recordings\.dir \/var\/spool\/asterisk\/monitor — calls will be registered without a recording link/m);
  r = await run({}, { recordings: { enabled: true, dir: '/var/lib/asterisk-chroot/var/spool/asterisk/monitor', asterisk_dir: '/var/spool/asterisk/monitor' } });
  t.match(r.text, /^ok    Recordings directory \(MixMonitor writes into \/var\/lib\/asterisk-chroot\/var\/spool\/asterisk\/monitor\/kommo, under recordings\.dir/m, 'a chroot mapped with recordings.asterisk_dir');
  r = await run({}, { recordings: { enabled: true, dir: '/var/lib/asterisk-chroot/var/spool/asterisk/monitor' } });
  t.match(r.text, /^WARN  Recordings directory: .*recordings\.asterisk_dir when Asterisk runs in a chroot or container/m, 'the same chroot without the mapping');
  r = await run({ KOMMO_RECORD: 'no', KOMMO_RECORDINGS_DIR: '/elsewhere' });
  t.match(r.text, /^ok    Recordings directory \(the bundled dialplan does not record/m);
  r = await run({}, { recordings: { enabled: false, dir: '/x' } });
  t.match(r.text, /^ok    Recordings directory \(recording links off/m);
});

t.test('several AMI servers: each is checked, named; one failing does not hide the others', async (t) => {
  const base = { username: 'kommo', secret: 's', action_timeout_ms: 1000, reconnect_min_ms: 100, reconnect_max_ms: 1000, max_queued_actions: 10 };
  const multi: CheckConfig = {
    ...config,
    ami: [
      { ...base, name: 'east', host: '10.0.0.5', port: 5038, extensions: ['101'] },
      { ...base, name: 'west', host: '10.0.1.5', port: 5039, extensions: ['102', '109'] },
      { ...base, name: 'south', host: '10.0.2.5', port: 5038, extensions: [] },
    ],
  };
  const amis = new Map<string, ReturnType<typeof fakeAmi>>([
    ['10.0.0.5', fakeAmi()],
    ['10.0.1.5', fakeAmi({ endpoints: ['102'] })],
    ['10.0.2.5', fakeAmi({ connect: new AmiError('AMI_LOGIN_FAILED', 'Authentication failed') })],
  ]);
  const results = await runChecks({ config: multi, kommo: fakeKommo(), amiFactory: (c) => amis.get(c.host)!, hooks: hooks(), logger });
  const byName = new Map(results.map((r) => [r.name, r]));
  t.match(byName.get('AMI login [east]'), { ok: true, detail: '10.0.0.5:5038 as kommo' });
  t.match(byName.get('Extensions in Asterisk [east]'), { ok: true, detail: '1 mapped: 101' }, "east is asked for its own extensions only");
  t.match(byName.get('AMI login [west]'), { ok: true, detail: '10.0.1.5:5039 as kommo' });
  t.match(byName.get('Extensions in Asterisk [west]'), { ok: false, detail: /^109 is not PJSIP endpoint in Asterisk/ });
  t.match(byName.get('AMI login [south]'), { ok: false, code: 'AMI_LOGIN_FAILED', detail: /refused user "kommo" at 10\.0\.2\.5:5038 — check ami\.username and ami\.secret \(env AMI_SECRET_SOUTH\)/ });
  t.match(byName.get('Extensions in Asterisk [south]'), { skipped: true });
  t.ok(byName.get('Kommo token')?.ok, 'Kommo checked once');
  t.equal(exitCodeFor(results), exitCodeFor([{ name: 'x', ok: false, detail: '' }]), 'a failing server fails the check');
  t.ok([...amis.values()].every((a) => a.destroyed), 'every AMI client is closed');
});
