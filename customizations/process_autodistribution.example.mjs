// process_autodistribution — where the FastAGI autodistribution sends a caller.
// Activate: copy to process_autodistribution.mjs.
//
// VIP clients (tag "VIP" on the contact/company, or a number on the list) go straight
// to the key-account desk 101 with "VIP" before their name. Only `number` and `name`
// are used; the name is cut to 20 characters by the connector.

const VIP_DESK = '101';
const VIP_NUMBERS = ['79031112233', '+7 495 765-43-21'];

const last10 = (value) => String(value ?? '').replace(/\D/g, '').slice(-10);
const vipNumbers = new Set(VIP_NUMBERS.map(last10));

function hasVipTag(entity) {
  const tags = entity?._embedded?.tags ?? entity?.tags ?? [];
  return Array.isArray(tags) && tags.some((t) => (typeof t === 'string' ? t : t?.name)?.toUpperCase() === 'VIP');
}

export default function processAutodistribution(input) {
  const vip = hasVipTag(input.entity) || (input.from !== undefined && vipNumbers.has(last10(input.from)));
  if (!vip) return { state: 'success', data: { number: input.number, name: input.name } };
  const name = input.name || input.entity?.name || input.from || '';
  return { state: 'success', data: { number: VIP_DESK, name: `VIP ${name}`.trim() } };
}
