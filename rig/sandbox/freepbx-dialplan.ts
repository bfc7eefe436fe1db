// The call shapes a FreePBX 16/17 system produces, rebuilt for the test Asterisk
// (written here from the generated dialplan's observable behaviour — contexts, channel
// names, variables — not copied from FreePBX). Used instead of the plain test glue of
// rig/sandbox/asterisk-config.ts when startAsterisk({ flavour: 'freepbx' }).
//
// What it reproduces:
// - inbound: from-trunk → from-pstn → ext-did (DID routes) → ext-group (ring group),
//   ext-queues (queue members `Local/<ext>@from-queue/n`), ext-findmefollow (Follow-Me
//   that rings the desk phone and a mobile through the trunk), ext-local (one extension);
// - FreePBX 17 without app_macro: the phone is dialled from `dialOne-with-exten` (Gosub),
//   the trunk from `trunk-dial-with-exten`; queue members go through
//   from-queue → from-queue-exten-only → dialOne-with-exten;
// - recordings as FreePBX makes them: `sub-record-check` starts MixMonitor in a dated
//   folder under the monitor directory (`YYYY/MM/DD/<in|out|rg|q>-...-<uniqueid>.wav`,
//   relative name, so Asterisk puts it under its spool's `monitor/`) and writes the bare
//   file name into CDR(recordingfile);
// - directed pickup `**<ext>` (Pickup by PICKUPMARK, set by dialOne-with-exten);
// - call parking: blind transfer to 700 parks the caller (res_parking, lot `default`,
//   slots 701–720), dialling the slot retrieves it.
//
// DIDs (on the trunk): 301 ring group 600 (102 & 103, ring-all), 302 queue 400
// (members 102, 103 as Local/…@from-queue), 303 Follow-Me of 101 (101 and the mobile
// MOBILE_101 via the second trunk), 304 extension 102.

/** The mobile number Follow-Me of 101 rings (through `trunk2`). */
export const FREEPBX_MOBILE_101 = '79990002233';

export interface FreepbxDialplanInput {
  /** the trunk endpoint outbound calls (and Follow-Me's mobile legs) go through */
  outTrunk: string;
}

export function freepbxDialplan(c: FreepbxDialplanInput): string {
  return `; --- FreePBX-shaped test glue (rig/sandbox/freepbx-dialplan.ts) ---
[from-trunk]
exten => _X.,1,Goto(from-pstn,\${EXTEN},1)

[from-pstn]
include => ext-did
include => ext-did-catchall

[ext-did-catchall]
exten => _X.,1,Hangup(1)

[ext-did]
exten => 301,1,Set(__FROM_DID=\${EXTEN})
 same => n,Gosub(sub-record-check,s,1(in,\${EXTEN},dontcare))
 same => n,Goto(ext-group,600,1)
exten => 302,1,Set(__FROM_DID=\${EXTEN})
 same => n,Gosub(sub-record-check,s,1(in,\${EXTEN},dontcare))
 same => n,Goto(ext-queues,400,1)
exten => 303,1,Set(__FROM_DID=\${EXTEN})
 same => n,Gosub(sub-record-check,s,1(in,\${EXTEN},dontcare))
 same => n,Goto(ext-local,101,1)
exten => 304,1,Set(__FROM_DID=\${EXTEN})
 same => n,Gosub(sub-record-check,s,1(in,\${EXTEN},dontcare))
 same => n,Goto(ext-local,102,1)

; recording: dated folder under the monitor directory, name in CDR(recordingfile)
[sub-record-check]
exten => s,1,GotoIf($["\${REC_STATUS}" = "RECORDING"]?done)
 same => n,Set(__REC_STATUS=RECORDING)
 same => n,Set(NOW=\${EPOCH})
 same => n,Set(__DAY=\${STRFTIME(\${NOW},,%d)})
 same => n,Set(__MONTH=\${STRFTIME(\${NOW},,%m)})
 same => n,Set(__YEAR=\${STRFTIME(\${NOW},,%Y)})
 same => n,Set(__TIMESTR=\${YEAR}\${MONTH}\${DAY}-\${STRFTIME(\${NOW},,%H%M%S)})
 same => n,Set(__CALLFILENAME=\${ARG1}-\${ARG2}-\${CALLERID(num)}-\${TIMESTR}-\${UNIQUEID})
 same => n,MixMonitor(\${MIXMON_DIR}\${YEAR}/\${MONTH}/\${DAY}/\${CALLFILENAME}.wav,ab)
 same => n,Set(CDR(recordingfile)=\${CALLFILENAME}.wav)
 same => n(done),Return()

; ring group 600: ring-all 102 & 103
[ext-group]
exten => 600,1,Set(__RINGGROUP_INDEX=600)
 same => n,Set(RingGroupMethod=ringall)
 same => n,Gosub(sub-record-check,s,1(rg,600,always))
 same => n,Dial(PJSIP/102&PJSIP/103,\${TEST_DIAL_TIMEOUT},tTr)
 same => n,Hangup()

; queue 400: members Local/10X@from-queue/n (queues.conf)
[ext-queues]
exten => 400,1,Set(__NODEST=400)
 same => n,Gosub(sub-record-check,s,1(q,400,always))
 same => n,Queue(400,tT,,,\${TEST_QUEUE_TIMEOUT})
 same => n,Hangup()

[from-queue]
exten => _X.,1,Set(QAGENT=\${EXTEN})
 same => n,Goto(from-queue-exten-only,\${EXTEN},1)

[from-queue-exten-only]
exten => _1XX,1,Gosub(dialOne-with-exten,\${EXTEN},1(\${EXTEN}))
 same => n,Hangup()

; the extensions; 101 has Follow-Me on
[ext-local]
exten => 101,1,Goto(ext-findmefollow,FM101,1)
exten => _1XX,1,Gosub(dialOne-with-exten,\${EXTEN},1(\${EXTEN}))
 same => n,Hangup()

[ext-findmefollow]
exten => FM101,1,Set(__FMGRP=101)
 same => n,Dial(Local/FMPR-101@from-internal/n&Local/${FREEPBX_MOBILE_101}#@from-internal/n,\${TEST_DIAL_TIMEOUT},tT)
 same => n,Hangup()

; FreePBX 17: one phone, dialled from a subroutine (no app_macro)
[dialOne-with-exten]
exten => _1XX,1,Set(__PICKUPMARK=\${EXTEN})
 same => n,Dial(PJSIP/\${EXTEN},\${TEST_DIAL_TIMEOUT},tT)
 same => n,Return()

[from-internal]
; Follow-Me's own leg to the desk phone
exten => _FMPR-1XX,1,Gosub(dialOne-with-exten,\${EXTEN:5},1(\${EXTEN:5}))
 same => n,Hangup()
; an external number in a ring list (Follow-Me, ring group): the # is dropped
; (patterns of fixed length: after '.' Asterisk ignores the rest of a pattern)
exten => _XXXXXXXXXX#,1,Goto(from-internal,\${EXTEN:0:-1},1)
exten => _XXXXXXXXXXX#,1,Goto(from-internal,\${EXTEN:0:-1},1)
exten => _XXXXXXXXXXXX#,1,Goto(from-internal,\${EXTEN:0:-1},1)
include => parkedcalls
include => app-pickup
include => ext-local-internal
include => outbound-allroutes

[ext-local-internal]
exten => _1XX,1,Gosub(dialOne-with-exten,\${EXTEN},1(\${EXTEN}))
 same => n,Hangup()

[app-pickup]
exten => _**1XX,1,Pickup(\${EXTEN:2}@PICKUPMARK)
 same => n,Hangup()

[outbound-allroutes]
include => outrt-1

[outrt-1]
exten => _XXXXX.,1,Set(_ROUTEID=1)
 same => n,Gosub(sub-record-check,s,1(out,\${EXTEN},dontcare))
 same => n,Gosub(trunk-dial-with-exten,\${EXTEN},1(${c.outTrunk}))
 same => n,Hangup()

[trunk-dial-with-exten]
exten => _X.,1,Dial(PJSIP/\${EXTEN}@\${ARG1},\${TEST_DIAL_TIMEOUT},tT)
 same => n,Return()
`;
}

/** Queue 400 of queues.conf (FreePBX names queues by their number): its member lines. */
export const FREEPBX_QUEUE = {
  name: '400',
  members: ['member => Local/102@from-queue/n,0,Bob,PJSIP/102', 'member => Local/103@from-queue/n,0,Carol,PJSIP/103'],
} as const;

/** res_parking.conf: FreePBX's default lot. */
export const FREEPBX_PARKING = `[general]
[default]
parkext => 700
parkpos => 701-720
context => parkedcalls
parkingtime => 60
comebacktoorigin = no
comebackcontext = parkedcallstimeout
findslot => first
`;
