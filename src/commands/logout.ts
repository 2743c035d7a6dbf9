// keygate logout <provider> [--connection] [--forget]: revoke at the provider, then delete locally.
// If the revocation fails the record is KEPT (exit 1): deleting it would leave a grant that is still
// valid at the provider and that keygate could no longer revoke. `--forget` deletes it anyway.
// A record keygate cannot read holds no usable token to revoke with, so it is removed, saying so.
import { ConnectionNotFoundError, KeygateError, ProviderRequestError, UsageError, VaultError, formatError } from '../errors.js';
import { getProvider } from '../provider/index.js';
import { openStore, type Store } from '../store/index.js';
import { logoutCommand } from '../connection/hints.js';
import type { ConnectionRecord } from '../vault/types.js';
import type { CommandIO } from './io.js';

export async function main(providerName: string, options: { connection: string; forget?: boolean }, io: CommandIO): Promise<void> {
  const provider = await getProvider(providerName);
  const vault = await openStore();
  const ref = `${provider.name}/${options.connection}`;
  let record: ConnectionRecord | undefined;
  try {
    record = await vault.read(provider.name, options.connection);
  } catch (err) {
    if (!(err instanceof VaultError)) throw err;
    await vault.delete(provider.name, options.connection);
    io.stdout(
      `Removed ${ref}: its record could not be read (${err.message}), so it could not be revoked at ${provider.display_name}; remove the app in ${provider.display_name}'s settings if it still shows\n`,
    );
    return;
  }
  if (!record) throw new ConnectionNotFoundError(`${ref} is not connected`, { hint: 'see `keygate list`' });
  if (record.kind === 'bot') {
    // Discord has no API to revoke a bot token: only Reset Token in the Developer Portal ends it.
    await vault.delete(provider.name, options.connection);
    io.stdout(`Logged out ${ref} (deleted locally; a bot token cannot be revoked by API: reset it in the Developer Portal to end it)\n`);
    return;
  }

  const failure = provider.oauth2.revocation_url ? await revoke(provider, vault, record) : undefined;
  if (failure && !options.forget) {
    throw new ProviderRequestError(`could not revoke ${ref} at ${provider.display_name} (${failure.message}); the connection was kept`, {
      hint: `run logout again once that is fixed, or \`${logoutCommand(provider.name, options.connection, { forget: true })}\` to delete it here only (its grant stays valid at ${provider.display_name} until you remove the app in its settings)`,
      cause: failure,
    });
  }
  if (failure) io.stderr(`${formatError(failure).replace(/^keygate: /, 'keygate: warning: ')}\n`);
  await vault.delete(provider.name, options.connection);
  const how = !provider.oauth2.revocation_url
    ? ` (deleted locally; ${provider.display_name} has no revocation endpoint)`
    : failure
      ? ' (deleted locally; NOT revoked at the provider)'
      : ` (revoked at ${provider.display_name})`;
  io.stdout(`Logged out ${ref}${how}\n`);
}

/** Revokes the grant; returns why it could not, or undefined on success. */
async function revoke(
  provider: Awaited<ReturnType<typeof getProvider>>,
  vault: Store,
  record: ConnectionRecord,
): Promise<Error | undefined> {
  const client = await vault.readClient(provider.name).catch((err: unknown) => err as Error);
  if (client instanceof Error) return client;
  if (!client) return new KeygateError('no stored client credentials to revoke with');
  const { revokeToken } = await import('../oauth/tokens.js');
  try {
    // Revoking the refresh token ends the whole grant at Discord (and is the longer-lived secret).
    const token = record.tokens.refresh_token ?? record.tokens.access_token;
    await revokeToken(provider, client, token, record.tokens.refresh_token ? 'refresh_token' : 'access_token');
    return undefined;
  } catch (err) {
    if (err instanceof UsageError) throw err; // a bad KEYGATE_CONNECT_TO is the user's to fix first
    return err as Error;
  }
}
