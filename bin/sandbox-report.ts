/**
 * The sandbox's report: what landed in the simulated Kommo, as plain-text
 * tables a PBX administrator can read at a glance.
 */
import type { KommoSimulator } from '../rig/simulator/index.js';

const CALL_STATUS: Record<number, string> = {
  1: 'left a message',
  2: 'call back later',
  3: 'not available',
  4: 'had a conversation',
  5: 'wrong number',
  6: 'could not get through',
  7: 'busy',
};

/** Width in terminal columns: code points (Cyrillic is one column each). */
const width = (s: string): number => Array.from(s).length;
const pad = (s: string, n: number): string => s + ' '.repeat(Math.max(0, n - width(s)));

export function table(title: string, headers: string[], rows: string[][]): string {
  if (rows.length === 0) return `${title}: none\n`;
  const widths = headers.map((h, i) => Math.max(width(h), ...rows.map((r) => width(r[i] ?? ''))));
  const line = (cells: string[]) => cells.map((c, i) => pad(c, widths[i]!)).join('  ').trimEnd();
  return [`${title} (${rows.length})`, line(headers), widths.map((w) => '-'.repeat(w)).join('  ').trimEnd(), ...rows.map(line), ''].join('\n');
}

function phonesOf(entity: { custom_fields_values: Array<{ field_code?: string | null; values: Array<{ value: unknown }> }> | null }): string {
  const field = entity.custom_fields_values?.find((f) => f.field_code === 'PHONE');
  return field ? field.values.map((v) => String(v.value)).join(', ') : '';
}

/** A number as a person reads it: +7 999 123-45-67 for a Russian 11-digit one, else +<digits>. */
export function readablePhone(raw: string): string {
  const d = raw.replace(/\D/g, '');
  const ru = /^7(\d{3})(\d{3})(\d{2})(\d{2})$/.exec(d);
  return ru ? `+7 ${ru[1]} ${ru[2]}-${ru[3]}-${ru[4]}` : d ? `+${d}` : raw;
}

/** One line per popup Kommo was asked to show while a phone rang (`POST /api/v2/events`). */
export function popupLines(sim: KommoSimulator, notShown?: { late: number; failed: number }): string {
  const list = sim.state.notifications;
  const missed = notShown && notShown.late + notShown.failed > 0
    ? `Popups not shown: ${notShown.late} given up (the phone stopped ringing first), ${notShown.failed} failed\n` : '';
  if (list.length === 0) return `Popups while phones rang: none\n${missed}`;
  const what = (n: (typeof list)[number]): string => (n.shown
    ? `Kommo opens ${n.shown.entity_type.replace(/s$/, '')} "${n.shown.name}" (${n.shown.entity_id})`
    : 'an unknown number: Kommo offers to create a contact');
  return [`Popups while phones rang (${list.length})`, ...list.map((n) => `popup shown to ${n.to_everyone ? 'every user' : n.user_names.join(', ')} for ${readablePhone(n.phone_number)}: ${what(n)}`), missed].join('\n');
}

export function renderSandboxReport(sim: KommoSimulator, extra: { recordingCheck?: string; popupsNotShown?: { late: number; failed: number } } = {}): string {
  const s = sim.state;
  const userName = (id: unknown): string => {
    const u = s.users.find((x) => x.id === id);
    return u ? `${u.name} (${u.id})` : id === undefined || id === null ? '—' : String(id);
  };
  const contacts = [...s.contacts.values()].map((c) => [String(c.id), c.name, phonesOf(c as never), userName(c.responsible_user_id), c.hidden ? 'incoming lead' : '']);
  const leads = [...s.leads.values()].map((l) => [String(l.id), l.name, String(l.status_id), userName(l.responsible_user_id), l.contact_ids.join(',')]);
  const unsorted = [...s.unsorted.values()].length;
  const calls = s.calls.map((c) => {
    const b = c.body;
    const status = typeof b.call_status === 'number' ? `${b.call_status} ${CALL_STATUS[b.call_status] ?? ''}` : '';
    const link = typeof b.link === 'string' && b.link ? `${b.link.slice(0, 48)}…` : '';
    return [String(c.id), String(b.direction ?? ''), String(b.phone ?? ''), status, `${String(b.duration ?? '')} s`, userName(b.responsible_user_id), `${c.entity_type} ${c.entity_id}`, link];
  });
  const tasks = [...s.tasks.values()].map((t) => [
    String(t.id),
    t.text,
    userName(t.responsible_user_id),
    new Date(t.complete_till * 1000).toISOString().replace('T', ' ').slice(0, 16),
    `${t.entity_type ?? ''} ${t.entity_id ?? ''}`,
  ]);
  return [
    'What landed in the (simulated) Kommo',
    '====================================',
    '',
    popupLines(sim, extra.popupsNotShown),
    table('Contacts', ['id', 'name', 'phone', 'responsible', ''], contacts),
    table('Leads', ['id', 'name', 'status', 'responsible', 'contacts'], leads),
    unsorted > 0 ? `Incoming leads (unsorted): ${unsorted}\n` : '',
    table('Calls', ['id', 'direction', 'phone', 'status', 'duration', 'responsible', 'on', 'recording link'], calls),
    table('Tasks', ['id', 'text', 'responsible', 'deadline (UTC)', 'on'], tasks),
    extra.recordingCheck ? `Recording link check: ${extra.recordingCheck}\n` : '',
    `Kommo requests: ${sim.counters.total} in all, ${sim.counters.rateLimited} answered 429`,
  ].filter((x) => x !== '').join('\n');
}
