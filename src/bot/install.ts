// `keygate install <provider>`: add a bot connection's bot to a server. The install consent runs on
// the same loopback callback server as login (same redirect URI, state and PKCE); the callback
// names the guild and the permissions granted, and the code exchange confirms the guild. What was
// installed is recorded on the bot connection. The code exchange also returns a user token limited
// to the install scopes; keygate does not keep it.
import { ConnectionNotFoundError, KeygateError, UsageError } from '../errors.js';
import { parseConnectTo } from '../net.js';
import { authorizeUrl, reachableUrl, redirectUri } from '../oauth/authorize.js';
import { startCallbackServer } from '../oauth/callback.js';
import { resolveClient } from '../oauth/client.js';
import { createPkce, createState } from '../oauth/pkce.js';
import { OAuthError, exchangeCode } from '../oauth/tokens.js';
import type { ProviderDefinition } from '../provider/types.js';
import type { ConnectionRecord, Installation, Vault } from '../vault/types.js';
import { botDefinition } from './login.js';

export interface InstallOptions {
  connection: string;
  /** Preselect this guild (and lock the choice: disable_guild_select). */
  guild?: string;
  /** Permission integer to request, as a decimal string. Default "0". */
  permissions?: string;
  port: number;
  timeoutSeconds: number;
  env: NodeJS.ProcessEnv;
  interactive: boolean;
  say: (line: string) => void;
  onAuthorizeUrl?: (url: string) => Promise<void> | void;
}

export async function installBot(
  provider: ProviderDefinition,
  vault: Vault,
  options: InstallOptions,
): Promise<{ record: ConnectionRecord; installation: Installation }> {
  const bot = botDefinition(provider);
  const ref = `${provider.name}/${options.connection}`;
  if (options.guild !== undefined && !/^\d{1,20}$/.test(options.guild))
    throw new UsageError(`--guild expects a server id (digits), got \`${options.guild}\``, {
      hint: 'copy it with Developer Mode → Copy Server ID',
    });
  const permissions = options.permissions ?? '0';
  if (!/^\d{1,20}$/.test(permissions))
    throw new UsageError(`--permissions expects a permission integer, got \`${permissions}\``, {
      hint: 'e.g. --permissions 2048 (Send Messages)',
    });
  const current = await vault.read(provider.name, options.connection);
  if (!current || current.kind !== 'bot') {
    throw new ConnectionNotFoundError(current ? `${ref} is not a bot connection` : `${ref} is not connected`, {
      hint: `run \`keygate login ${provider.name} --bot${options.connection === bot.default_connection ? '' : ` --connection ${options.connection}`}\` first`,
    });
  }
  const resolved = await resolveClient(provider, vault, { env: options.env, interactive: options.interactive });
  if (!resolved.credentials)
    throw new KeygateError(`no OAuth client credentials for ${provider.display_name}`, {
      hint: 'set DISCORD_CLIENT_ID and DISCORD_CLIENT_SECRET',
    });
  const client = resolved.credentials;
  // The consent adds the bot of the app whose client id is in the URL: it must be this connection's.
  if (current.application && current.application.id !== client.client_id) {
    throw new KeygateError(
      `${ref} is the bot of application ${current.application.id}, but the client credentials are for ${client.client_id}`,
      {
        hint: `use that application's client id and secret (${provider.name.toUpperCase()}_CLIENT_ID / _CLIENT_SECRET)`,
      },
    );
  }

  const state = createState();
  const pkce = provider.oauth2.pkce ? createPkce() : undefined;
  const callback = await startCallbackServer({ port: options.port, state, providerName: provider.display_name });
  try {
    const redirect = redirectUri(callback.port);
    // As for login: with KEYGATE_CONNECT_TO redirecting the authorize host, the browser gets the real address.
    const authorize = authorizeUrl(provider, {
      clientId: client.client_id,
      redirectUri: redirect,
      scopes: bot.install?.scopes ?? ['bot'],
      state,
      pkce,
    });
    const url = new URL(reachableUrl(authorize, parseConnectTo(options.env.KEYGATE_CONNECT_TO)));
    url.searchParams.set('permissions', permissions);
    if (options.guild !== undefined) {
      url.searchParams.set('guild_id', options.guild);
      url.searchParams.set('disable_guild_select', 'true');
    }
    options.say(`Redirect URI (register exactly this with ${provider.display_name}): ${redirect}`);
    options.say(`Open this URL to add ${current.account?.name ?? 'the bot'} to a server:\n\n  ${url.toString()}\n`);
    await options.onAuthorizeUrl?.(url.toString());

    const result = await waitFor(callback.result, options.timeoutSeconds, provider);
    if ('error' in result) {
      throw new KeygateError(
        `${provider.display_name} did not add the bot: ${result.error}${result.description ? ` (${result.description})` : ''}`,
        {
          hint: 'run `keygate install` again and approve; you need Manage Server on the server you pick',
        },
      );
    }
    let installation: Installation;
    try {
      const response = await exchangeCode(provider, client, { code: result.code, redirectUri: redirect, verifier: pkce?.verifier });
      const guildId = typeof response.guild?.id === 'string' ? response.guild.id : result.params.get('guild_id');
      if (!guildId)
        throw new KeygateError(`${provider.display_name} did not say which server the bot joined`, {
          hint: 'check the server list in Discord, then run install again',
        });
      if (options.guild !== undefined && guildId !== options.guild)
        throw new KeygateError(`the bot was added to server ${guildId}, not ${options.guild}`, { hint: 'check the server in Discord' });
      installation = {
        guild_id: guildId,
        guild_name: typeof response.guild?.name === 'string' ? response.guild.name : guildId,
        permissions: result.params.get('permissions') ?? permissions,
        installed_at: new Date().toISOString(),
      };
    } catch (err) {
      callback.finish({
        ok: false,
        message:
          err instanceof OAuthError
            ? `${provider.display_name} refused the code exchange: ${err.oauthError}.`
            : 'Adding the bot failed; see the terminal.',
      });
      throw err;
    }
    const record = await vault.update(provider.name, options.connection, (latest) => {
      if (!latest || latest.kind !== 'bot')
        throw new ConnectionNotFoundError(`${ref} was removed during the install`, { hint: 'log the bot in again' });
      const others = (latest.installations ?? []).filter((i) => i.guild_id !== installation.guild_id);
      return { ...latest, installations: [...others, installation] };
    });
    callback.finish({
      ok: true,
      message: `keygate added ${current.account?.name ?? 'the bot'} to ${installation.guild_name}. You can close this tab.`,
    });
    return { record: record!, installation };
  } finally {
    await callback.close();
  }
}

async function waitFor<T>(result: Promise<T>, seconds: number, provider: ProviderDefinition): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new KeygateError(`no answer from ${provider.display_name} within ${seconds} s`, {
            hint: 'run `keygate install` again and approve in the browser',
          }),
        ),
      seconds * 1000,
    );
  });
  try {
    return await Promise.race([result, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
