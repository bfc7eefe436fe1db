import { hashAdminPassword } from '../../lib/adapters/http/admin/password.js';
import type { Command } from './types.js';

/** Read the password from stdin (never from argv: it would show in `ps` and the shell history). */
async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

const command: Command = {
  command: 'admin-password',
  describe: 'hash a password (read from stdin) for http.admin_password, the admin panel\'s sign-in',
  handler: async () => {
    const password = await readStdin();
    if (password.length < 12) {
      process.stderr.write('kommo-asterisk: the admin password must have at least 12 characters (give it on stdin)\n');
      process.exit(2);
    }
    process.stdout.write(`${await hashAdminPassword(password)}\n`);
  },
};
export default command;
