// keygate logout <provider> [--connection]: revoke at the provider (a failure is a warning), delete.
import { ConnectionNotFoundError, formatError } from '../errors.js';
import { getProvider } from '../provider/index.js';
import { openStore } from '../store/index.js';
import { revokeToken } from '../oauth/tokens.js';
import type { CommandIO } from './io.js';

export async function main(providerName: string, options: { connection: string }, io: CommandIO): Promise<void> {
  const provider = await getProvider(providerName);
  const vault = await openStore();
  const ref = `${provider.name}/${options.connection}`;
  const record = await vault.read(provider.name, options.connection);
  if (!record) throw new ConnectionNotFoundError(`${ref} is not connected`, { hint: 'see `keygate list`' });
  if (record.kind === 'bot') {
    // Discord has no API to revoke a bot token: only Reset Token in the Developer Portal ends it.
    await vault.delete(provider.name, options.connection);
    io.stdout(`Logged out ${ref} (deleted locally; a bot token cannot be revoked by API: reset it in the Developer Portal to end it)\n`);
    return;
  }
  let revoked = false;
  const client = await vault.readClient(provider.name);
  if (provider.oauth2.revocation_url && client) {
    try {
      // Revoking the refresh token ends the whole grant at Discord (and is the longer-lived secret).
      const token = record.tokens.refresh_token ?? record.tokens.access_token;
      await revokeToken(provider, client, token, record.tokens.refresh_token ? 'refresh_token' : 'access_token');
      revoked = true;
    } catch (err) {
      io.stderr(`${formatError(err).replace(/^keygate: /, 'keygate: warning: ')}\n`);
    }
  }
  await vault.delete(provider.name, options.connection);
  io.stdout(`Logged out ${ref}${revoked ? ` (revoked at ${provider.display_name})` : ' (deleted locally; not revoked at the provider)'}\n`);
}
