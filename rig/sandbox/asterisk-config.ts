// Generates the configuration of a throw-away Asterisk for the e2e tests.
// Pure: returns file name → contents; rig/sandbox/asterisk.ts writes them.
import { FREEPBX_PARKING, FREEPBX_QUEUE, freepbxDialplan } from './freepbx-dialplan.js';

export interface AsteriskConfigInput {
  /** config dir as seen INSIDE the chroot, e.g. /tmp/ka-test-abc */
  dir: string;
  moduleDir: string;
  sipPort: number;
  amiPort: number;
  amiUser: string;
  amiSecret: string;
  /** SIPp trunk peer: 127.0.0.2:<trunkPort> */
  trunkIp: string;
  trunkPort: number;
  /** extension → IP; all phones listen on phonePort */
  phones: Record<string, string>;
  phonePort: number;
  /** names of the product's dialplan files to #include */
  dialplanFiles: string[];
  /** [globals]; written before the #include so the product sees them */
  globals: Record<string, string>;
  /** appended verbatim to extensions.conf */
  extraDialplan: string;
  queueMemberTimeout: number;
  /** `freepbx`: the FreePBX-shaped glue of ./freepbx-dialplan.ts instead of the plain one */
  flavour?: 'plain' | 'freepbx';
  /** a second trunk (`trunk2`, context from-trunk) at this address: FreePBX's outbound trunk */
  trunk2?: { ip: string; port: number };
}

function checkValue(name: string, v: string): string {
  if (/[\r\n]/.test(v)) throw new Error(`config value ${name} contains CR/LF`);
  return v;
}

const PHONE_NAMES: Record<string, string> = { '101': 'Alice', '102': 'Bob', '103': 'Carol' };

export function asteriskConfig(c: AsteriskConfigInput): Record<string, string> {
  const files: Record<string, string> = {};
  const d = c.dir;

  files['asterisk.conf'] = `[directories]
astetcdir => ${d}/etc
astmoddir => ${c.moduleDir}
astvarlibdir => /var/lib/asterisk
astdbdir => ${d}/db
astkeydir => ${d}/keys
astdatadir => /usr/share/asterisk
astagidir => /usr/share/asterisk/agi-bin
astspooldir => ${d}/spool
astrundir => ${d}/run
astlogdir => ${d}/log
astsbindir => /usr/sbin
astcachedir => ${d}/cache

[options]
runuser = root
rungroup = root
documentation_language = en_US
hideconnect = yes
`;

  files['modules.conf'] = `[modules]
autoload = yes
; hardware / databases / services the tests do not have
noload => chan_dahdi.so
noload => chan_mobile.so
noload => chan_console.so
noload => res_hep.so
noload => res_hep_pjsip.so
noload => res_hep_rtcp.so
noload => cdr_pgsql.so
noload => cel_pgsql.so
noload => res_config_pgsql.so
noload => res_config_ldap.so
noload => cdr_radius.so
noload => cel_radius.so
noload => res_snmp.so
noload => res_corosync.so
noload => cdr_tds.so
noload => cel_tds.so
; they bind fixed ports: parallel test instances would collide
noload => chan_iax2.so
noload => chan_unistim.so
noload => chan_skinny.so
noload => chan_mgcp.so
noload => chan_ooh323.so
noload => pbx_dundi.so
noload => res_pjsip_phoneprov_provider.so
noload => res_phoneprov.so
noload => res_xmpp.so
noload => chan_motif.so
noload => app_voicemail_odbc.so
noload => app_voicemail_imap.so
noload => pbx_lua.so
noload => pbx_ael.so
`;

  files['logger.conf'] = `[general]
dateformat = %F %T.%3q
[logfiles]
messages.log => notice,warning,error,verbose(3)
`;

  let pjsip = `[global]
type = global
user_agent = kommo-asterisk-test

[transport-udp]
type = transport
protocol = udp
bind = 127.0.0.1:${c.sipPort}

`;
  pjsip += trunkSections('trunk', c.trunkIp, c.trunkPort);
  if (c.trunk2) pjsip += trunkSections('trunk2', c.trunk2.ip, c.trunk2.port);
  for (const [ext, ip] of Object.entries(c.phones)) {
    pjsip += `
[${ext}]
type = endpoint
transport = transport-udp
context = from-internal
disallow = all
allow = ulaw,alaw
direct_media = no
aors = ${ext}
callerid = "${PHONE_NAMES[ext] ?? ext}" <${ext}>

[${ext}]
type = aor
contact = sip:${ext}@${ip}:${c.phonePort}

[${ext}]
type = identify
endpoint = ${ext}
match = ${ip}
`;
  }
  files['pjsip.conf'] = pjsip;

  files['manager.conf'] = `[general]
enabled = yes
port = ${c.amiPort}
bindaddr = 127.0.0.1
timestampevents = yes
displayconnects = no

[${c.amiUser}]
secret = ${c.amiSecret}
deny = 0.0.0.0/0.0.0.0
permit = 127.0.0.0/255.0.0.0
read = all
write = all
writetimeout = 5000
`;

  files['cel.conf'] = `[general]
enable = yes
apps = all
events = ALL

[manager]
enabled = yes
`;
  files['cdr.conf'] = `[general]
enable = yes
`;
  files['cdr_manager.conf'] = `[general]
enabled = yes
`;

  files['features.conf'] = `[general]
transferdigittimeout = 3
atxfernoanswertimeout = 15
atxferdropcall = no

[featuremap]
blindxfer => #1
atxfer => *2
disconnect => *0
`;

  const members = Object.keys(c.phones)
    .filter((e) => e !== '101')
    .map((e) => `member => Local/${e}@from-queue/n,0,${PHONE_NAMES[e] ?? e},PJSIP/${e}`)
    .join('\n');
  files['queues.conf'] = `[general]
persistentmembers = no
shared_lastcall = no

`;
  files['queues.conf'] += ringAllQueue('sales', c.queueMemberTimeout, members);
  if (c.flavour === 'freepbx') files['queues.conf'] += ringAllQueue(FREEPBX_QUEUE.name, c.queueMemberTimeout, FREEPBX_QUEUE.members.join('\n'));
  if (c.flavour === 'freepbx') files['res_parking.conf'] = FREEPBX_PARKING;

  files['musiconhold.conf'] = `[general]
[default]
mode = files
directory = moh
`;
  // present but empty: keeps the start-up log free of "missing config" noise
  for (const f of ['acl.conf', 'udptl.conf', 'ccss.conf', ...(c.flavour === 'freepbx' ? [] : ['res_parking.conf']), 'pjproject.conf',
    'pjsip_wizard.conf', 'pjsip_notify.conf', 'geolocation.conf', 'stir_shaken.conf', 'statsd.conf', 'ari.conf',
    'aeap.conf', 'res_stun_monitor.conf', 'res_odbc.conf', 'res_config_sqlite3.conf', 'chan_websocket.conf',
    'websocket_client.conf']) {
    files[f] = '';
  }

  files['indications.conf'] = `[general]
country = us

[us]
description = United States / North America
ringcadence = 2000,4000
dial = 350+440
busy = 480+620/500,0/500
ring = 440+480/2000,0/4000
congestion = 480+620/250,0/250
callwaiting = 440/300,0/10000
dialrecall = !350+440/100,!0/100,!350+440/100,!0/100,!350+440/100,!0/100,350+440
record = 1400/500,0/15000
info = !950/330,!1400/330,!1800/330,0
`;

  files['rtp.conf'] = `[general]
rtpstart = 10000
rtpend = 20000
`;

  const globals = Object.entries(c.globals)
    .map(([k, v]) => `${checkValue(k, k)}=${checkValue(k, v)}`)
    .join('\n');
  files['extensions.conf'] = `; generated by rig/sandbox/asterisk-config.ts
[general]
static = yes
writeprotect = yes
clearglobalvars = yes

[globals]
${globals}

; --- the product's own dialplan, unchanged ---
${c.dialplanFiles.map((f) => `#include ${d}/etc/${f}`).join('\n')}

${c.flavour === 'freepbx' ? freepbxDialplan({ outTrunk: c.trunk2 ? 'trunk2' : 'trunk' }) : plainGlue()}
${c.extraDialplan}
`;
  return files;
}

/** The plain test glue: DIDs 200–204, extensions, the trunk (test/fixtures/ami/README.md). */
function plainGlue(): string {
  return `; --- test-only glue ---
[from-trunk]
; autodistribution (the product's context)
exten => 200,1,Goto(kommo-autodistribution,\${EXTEN},1)
; straight to extension 101
exten => 201,1,Gosub(kommo-record,s,1)
 same => n,Dial(PJSIP/101,\${TEST_DIAL_TIMEOUT},tT)
 same => n,Hangup()
; ring group: 102 and 103 ring together
exten => 202,1,Gosub(kommo-record,s,1)
 same => n,Dial(PJSIP/102&PJSIP/103,\${TEST_DIAL_TIMEOUT},tT)
 same => n,Hangup()
; queue "sales" (members 102, 103, ringall)
exten => 203,1,Gosub(kommo-record,s,1)
 same => n,Queue(sales,rtT,,,\${TEST_QUEUE_TIMEOUT})
 same => n,Hangup()
; IVR that never reaches anyone
exten => 204,1,Answer()
 same => n,Playtones(440/300,0/700)
 same => n,WaitExten(\${TEST_IVR_WAIT})
exten => i,1,Hangup()
exten => t,1,Hangup()

; where the autodistribution falls back to in the tests: extension 103
[test-fallback]
exten => s,1,Dial(PJSIP/103,\${TEST_DIAL_TIMEOUT},tT)
 same => n,Hangup()

[from-internal]
; extension to extension
exten => _1XX,1,Dial(PJSIP/\${EXTEN},\${TEST_DIAL_TIMEOUT},tT)
 same => n,Hangup()
; anything with 5+ digits goes out through the trunk
exten => _XXXXX.,1,Gosub(kommo-record,s,1)
 same => n,Dial(PJSIP/\${EXTEN}@trunk,\${TEST_DIAL_TIMEOUT},tT)
 same => n,Hangup()

; queue members are Local channels (as FreePBX does)
[from-queue]
exten => _1XX,1,Dial(PJSIP/\${EXTEN},,tT)
 same => n,Hangup()
`;
}

/** pjsip.conf endpoint, aor and identify of a SIP trunk (SIPp at ip:port). */
function trunkSections(name: string, ip: string, port: number): string {
  return `
[${name}]
type = endpoint
transport = transport-udp
context = from-trunk
disallow = all
allow = ulaw,alaw
direct_media = no
aors = ${name}

[${name}]
type = aor
contact = sip:${ip}:${port}

[${name}]
type = identify
endpoint = ${name}
match = ${ip}
`;
}

/** queues.conf section of a ring-all queue: every member rings, `timeout` seconds each round. */
function ringAllQueue(name: string, timeout: number, members: string): string {
  return `
[${name}]
strategy = ringall
timeout = ${timeout}
retry = 1
wrapuptime = 0
ringinuse = no
announce-frequency = 0
periodic-announce-frequency = 0
joinempty = yes
leavewhenempty = no
${members}
`;
}
