/**
 * The default seed of the simulator: one account, four users (one deactivated, one
 * deleted id), contact/company/lead custom fields with the PHONE field, two pipelines
 * and the task types. Ids are fixed so tests and docs can name them.
 */
import type { CustomField, Pipeline, Right, SeedData, TaskType, User } from './types.js';

export const SEED_IDS = {
  account: 1000001,
  users: { ivan: 5001, maria: 5002, olga: 5003, inactive: 5004, deleted: 5099 },
  contactFields: { phone: 1001, email: 1002, position: 1003, comment: 1004 },
  companyFields: { phone: 1101, email: 1102, web: 1103, address: 1104 },
  leadFields: { source: 1201 },
  phoneEnums: { WORK: 2001, WORKDD: 2002, MOB: 2003, FAX: 2004, HOME: 2005, OTHER: 2006 },
  emailEnums: { WORK: 2011, PRIV: 2012, OTHER: 2013 },
  companyPhoneEnums: { WORK: 2101, WORKDD: 2102, MOB: 2103, FAX: 2104, HOME: 2105, OTHER: 2106 },
  companyEmailEnums: { WORK: 2111, PRIV: 2112, OTHER: 2113 },
  pipelines: {
    sales: 7001,
    support: 7002,
  },
  statuses: {
    salesIncoming: 70010, salesNew: 70011, salesContacted: 70012, salesNegotiation: 70013,
    supportIncoming: 70020, supportOpen: 70021, supportInProgress: 70022,
    won: 142, lost: 143,
  },
  taskTypes: { call: 1, meeting: 2, email: 3 },
} as const;

const PHONE_CODES = ['WORK', 'WORKDD', 'MOB', 'FAX', 'HOME', 'OTHER'] as const;
const EMAIL_CODES = ['WORK', 'PRIV', 'OTHER'] as const;

function user(id: number, name: string, email: string, opts: { admin?: boolean; active?: boolean } = {}): User {
  const all: Record<string, Right> = { view: 'A', edit: 'A', add: 'A', delete: 'A', export: 'A' };
  return {
    id,
    name,
    email,
    lang: 'en',
    rights: {
      leads: { ...all },
      contacts: { ...all },
      companies: { ...all },
      tasks: { edit: 'A', delete: 'A' },
      mail_access: true,
      catalog_access: true,
      is_admin: opts.admin ?? false,
      is_free: false,
      is_active: opts.active ?? true,
      group_id: null,
      role_id: null,
    },
  };
}

function enums(codes: readonly string[], ids: Record<string, number>): CustomField['enums'] {
  return codes.map((value, i) => ({ id: ids[value] ?? 0, value, sort: (i + 1) * 2 }));
}

function partyFields(ids: { phone: number; email: number }, phoneEnums: Record<string, number>,
  emailEnums: Record<string, number>): CustomField[] {
  return [
    { id: ids.phone, name: 'Phone', type: 'multitext', code: 'PHONE', sort: 4, enums: enums(PHONE_CODES, phoneEnums) },
    { id: ids.email, name: 'Email', type: 'multitext', code: 'EMAIL', sort: 6, enums: enums(EMAIL_CODES, emailEnums) },
  ];
}

function pipelines(): Pipeline[] {
  const s = SEED_IDS.statuses;
  const closing = [
    { id: s.won, name: 'Closed - won', sort: 10000, type: 0 as const, color: '#CCFF66' },
    { id: s.lost, name: 'Closed - lost', sort: 11000, type: 0 as const, color: '#D5D8DB' },
  ];
  return [
    {
      id: SEED_IDS.pipelines.sales, name: 'Воронка продаж', sort: 1, is_main: true,
      statuses: [
        { id: s.salesIncoming, name: 'Incoming leads', sort: 10, type: 1, color: '#c1c1c1' },
        { id: s.salesNew, name: 'Первичный контакт', sort: 20, type: 0, color: '#99ccff' },
        { id: s.salesContacted, name: 'Contacted', sort: 30, type: 0, color: '#ffff99' },
        { id: s.salesNegotiation, name: 'Negotiation', sort: 40, type: 0, color: '#ffcc66' },
        ...closing,
      ],
    },
    {
      id: SEED_IDS.pipelines.support, name: 'Support', sort: 2, is_main: false,
      statuses: [
        { id: s.supportIncoming, name: 'Incoming leads', sort: 10, type: 1, color: '#c1c1c1' },
        { id: s.supportOpen, name: 'Open', sort: 20, type: 0, color: '#99ccff' },
        { id: s.supportInProgress, name: 'In progress', sort: 30, type: 0, color: '#ffff99' },
        ...closing,
      ],
    },
  ];
}

const TASK_TYPES: TaskType[] = [
  { id: SEED_IDS.taskTypes.call, name: 'Follow-up', code: 'FOLLOW_UP' },
  { id: SEED_IDS.taskTypes.meeting, name: 'Meeting', code: 'MEETING' },
  { id: SEED_IDS.taskTypes.email, name: 'Email', code: null },
];

/** A fresh copy of the default seed (callers may mutate it). */
export function defaultSeed(): SeedData {
  const u = SEED_IDS.users;
  return {
    account: {
      id: SEED_IDS.account, name: 'Sandbox Ltd', subdomain: 'sandbox', current_user_id: u.ivan,
      country: 'RU', currency: 'RUB', created_at: 1_600_000_000,
    },
    users: [
      user(u.ivan, 'Иван Петров', 'ivan@sandbox.test', { admin: true }),
      user(u.maria, 'Maria Garcia', 'maria@sandbox.test'),
      user(u.olga, 'Ольга Smirnova', 'olga@sandbox.test'),
      user(u.inactive, 'Peter Gone', 'peter@sandbox.test', { active: false }),
    ],
    deletedUserIds: [u.deleted],
    contactCustomFields: [
      ...partyFields(SEED_IDS.contactFields, SEED_IDS.phoneEnums, SEED_IDS.emailEnums),
      { id: SEED_IDS.contactFields.position, name: 'Position', type: 'text', code: 'POSITION', sort: 2, enums: null },
      { id: SEED_IDS.contactFields.comment, name: 'Comment', type: 'textarea', code: null, sort: 8, enums: null },
    ],
    companyCustomFields: [
      ...partyFields(SEED_IDS.companyFields, SEED_IDS.companyPhoneEnums, SEED_IDS.companyEmailEnums),
      { id: SEED_IDS.companyFields.web, name: 'Web', type: 'url', code: 'WEB', sort: 8, enums: null },
      { id: SEED_IDS.companyFields.address, name: 'Address', type: 'textarea', code: 'ADDRESS', sort: 10, enums: null },
    ],
    leadCustomFields: [
      { id: SEED_IDS.leadFields.source, name: 'Source', type: 'text', code: null, sort: 2, enums: null },
    ],
    pipelines: pipelines(),
    taskTypes: TASK_TYPES.map((t) => ({ ...t })),
    contacts: [],
    companies: [],
    leads: [],
  };
}
