// process_client_phone — the client's number as Kommo should see it.
// Activate: copy to process_client_phone.mjs.
//
// Russian/Kazakh numbers: 8XXXXXXXXXX and 7XXXXXXXXXX and a bare 10-digit 9XXXXXXXXX
// all become +7XXXXXXXXXX; anything else is left alone (international numbers keep
// their form, short numbers stay as dialled).

export default function processClientPhone({ phone }) {
  const digits = phone.replace(/\D/g, '');
  let out = phone;
  if (digits.length === 11 && (digits.startsWith('8') || digits.startsWith('7'))) out = `+7${digits.slice(1)}`;
  else if (digits.length === 10 && digits.startsWith('9')) out = `+7${digits}`;
  return { state: 'success', data: { phone: out } };
}
