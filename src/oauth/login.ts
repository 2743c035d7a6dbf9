// The whole login: callback server, authorize URL, wait, code exchange, account lookup, storage.
// Knows nothing of argv; reports progress through `say` and returns the stored record.
import { KeygateError, UsageError } from '../errors.js';
import type { ProviderDefinition } from '../provider/types.js';
import { bindingOf } from '../run/binding.js';
import type { ClientCredentials, ConnectionRecord, Vault } from '../vault/types.js';
import { fetchAccount } from './account.js';
import { parseConnectTo } from '../net.js';
import { authorizeUrl, reachableUrl, redirectUri } from './authorize.js';
import { SETUP_PATH, startCallbackServer } from './callback.js';
import { resolveClient } from './client.js';
import { checkClient } from './client-check.js';
import { clientHint, loginCommand } from '../connection/hints.js';
import { createPkce, createState } from './pkce.js';
import { OAuthError, exchangeCode, toTokenSet } from './tokens.js';

export interface LoginOptions {
  connection: string;
  scopes?: string[];
  port: number;
  timeoutSeconds: number;
  force?: boolean;
  env: NodeJS.ProcessEnv;
  interactive: boolean;
  /** A browser will be opened: without a TTY, ask for client credentials on a local form there. */
  browserForm?: boolean;
  /** Human progress lines. */
  say: (line: string) => void;
  /** Called with the URL once the callback server listens (opens a browser, starts a spinner). */
  onAuthorizeUrl?: (url: string) => Promise<void> | void;
}

export interface LoginResult {
  record: ConnectionRecord;
  requested: string[];
  missing: string[];
}

export async function login(provider: ProviderDefinition, vault: Vault, options: LoginOptions): Promise<LoginResult> {
  const ref = `${provider.name}/${options.connection}`;
  if (!options.force) await refuseToReplace(provider, vault, options.connection);
  const scopes = options.scopes ?? provider.oauth2.default_scopes;
  checkScopes(provider, scopes);
  // --force prefers new client credentials (environment, prompt), so a wrong stored secret can be replaced.
  const resolved = await resolveClient(provider, vault, {
    env: options.env,
    interactive: options.interactive,
    preferNew: options.force,
    browserForm: options.browserForm,
  });
  // A wrong client id or secret is caught now, not after the user has waited out the browser timeout.
  if (resolved.credentials) await refuseBadClient(provider, resolved.credentials, resolved.source, options.connection);

  const state = createState();
  const pkce = provider.oauth2.pkce ? createPkce() : undefined;
  let formCredentials: ((credentials: ClientCredentials) => void) | undefined;
  const fromForm = new Promise<ClientCredentials>((resolve) => (formCredentials = resolve));
  let redirect = '';
  const connectTo = parseConnectTo(options.env.KEYGATE_CONNECT_TO);
  const urlFor = (clientId: string) =>
    reachableUrl(authorizeUrl(provider, { clientId, redirectUri: redirect, scopes, state, pkce }), connectTo);
  const authorizeOrigin = new URL(reachableUrl(provider.oauth2.authorize_url, connectTo)).origin;
  const redirected = authorizeOrigin !== new URL(provider.oauth2.authorize_url).origin;
  const callback = await startCallbackServer({
    port: options.port,
    state,
    providerName: provider.display_name,
    clientForm:
      resolved.source === 'form'
        ? {
            authorizeOrigin,
            onSubmit(client_id, client_secret) {
              formCredentials?.({ client_id, client_secret: client_secret || undefined });
              return urlFor(client_id);
            },
          }
        : undefined,
  });
  try {
    redirect = redirectUri(callback.port);
    options.say(`Redirect URI (register exactly this with ${provider.display_name}): ${redirect}`);
    let client: { credentials: ClientCredentials; source: string };
    if (resolved.source === 'form') {
      const setup = `http://127.0.0.1:${callback.port}${SETUP_PATH}?state=${encodeURIComponent(state)}`;
      options.say(`Enter your ${provider.display_name} app's client ID and secret in the browser:\n\n  ${setup}\n`);
      await options.onAuthorizeUrl?.(setup);
      client = { credentials: await waitFor(fromForm, options.timeoutSeconds, redirect, provider), source: 'form' };
      options.say(`Continuing to ${provider.display_name}:\n\n  ${urlFor(client.credentials.client_id)}\n`);
    } else {
      client = resolved;
      const url = urlFor(client.credentials.client_id);
      options.say(`Open this URL to authorize keygate:\n\n  ${url}\n`);
      if (redirected)
        options.say(
          `(KEYGATE_CONNECT_TO sends ${new URL(provider.oauth2.authorize_url).host} to ${new URL(authorizeOrigin).host}, so the browser goes there.)`,
        );
      await options.onAuthorizeUrl?.(url);
    }

    const result = await waitFor(callback.result, options.timeoutSeconds, redirect, provider);
    if ('error' in result) {
      throw new KeygateError(
        `${provider.display_name} did not authorize the login: ${result.error}${result.description ? ` (${result.description})` : ''}`,
        {
          hint:
            result.error === 'access_denied'
              ? `run \`${loginCommand(provider.name, options.connection, { force: options.force })}\` again and approve access`
              : 'check the scopes and the app settings, then try again',
        },
      );
    }
    let record: ConnectionRecord;
    try {
      const response = await exchangeCode(provider, client.credentials, {
        code: result.code,
        redirectUri: redirect,
        verifier: pkce?.verifier,
        connection: options.connection,
      });
      const now = Date.now();
      const tokens = toTokenSet(response, scopes, now);
      const account = await fetchAccount(provider, tokens.access_token);
      const stamp = new Date(now).toISOString();
      record = {
        provider: provider.name,
        connection: options.connection,
        tokens,
        // Where this credential may go from now on: the hosts and path prefix of the definition the
        // user just logged in with (src/run/binding.ts).
        binding: bindingOf(provider),
        account,
        status: 'connected',
        status_changed_at: stamp,
        created_at: stamp,
        refreshed_at: stamp,
      };
      // write(), not update(): it replaces the stored record without opening it, so --force also
      // replaces a record that no longer decrypts instead of failing after the user consented.
      await vault.write(record);
      if (client.source !== 'stored') await vault.writeClient(provider.name, client.credentials);
    } catch (err) {
      callback.finish({
        ok: false,
        message:
          err instanceof OAuthError
            ? `${provider.display_name} refused the code exchange: ${err.oauthError}.`
            : 'The code exchange failed; see the terminal.',
      });
      throw err;
    }
    callback.finish({
      ok: true,
      message: `keygate connected ${ref}${record.account ? ` as ${record.account.name}` : ''}. You can close this tab.`,
    });
    const missing = scopes.filter((s) => !record.tokens.scopes.includes(s));
    return { record, requested: scopes, missing };
  } finally {
    await callback.close();
  }
}

/** Plain login never overwrites a working connection, nor a record it cannot read: both need --force. */
async function refuseToReplace(provider: ProviderDefinition, vault: Vault, connection: string): Promise<void> {
  const ref = `${provider.name}/${connection}`;
  const replace = loginCommand(provider.name, connection, { force: true });
  let existing;
  try {
    existing = await vault.peek(provider.name, connection);
    if (existing?.status === 'connected') await vault.read(provider.name, connection);
  } catch (err) {
    throw new KeygateError(`${ref} exists but cannot be read: ${(err as Error).message}`, {
      hint: `run \`${replace}\` to replace it`,
      cause: err,
    });
  }
  if (existing?.status === 'connected') {
    throw new KeygateError(`${ref} is already connected${existing.account ? ` as ${existing.account.name}` : ''}`, {
      hint: `run \`${replace}\` to replace it, or pass --connection <name> for another account`,
    });
  }
}

async function refuseBadClient(provider: ProviderDefinition, client: ClientCredentials, source: string, connection: string): Promise<void> {
  const check = await checkClient(provider, client);
  if (check.verdict !== 'invalid') return;
  throw new KeygateError(check.detail, { hint: clientHint(provider.name, connection, source) });
}

function checkScopes(provider: ProviderDefinition, scopes: string[]): void {
  if (scopes.length === 0)
    throw new UsageError('no scopes to request', { hint: 'pass --scopes a,b or set default_scopes in the provider file' });
  const known = provider.oauth2.scopes;
  if (!known) return;
  const unknown = scopes.filter((s) => !(s in known));
  if (unknown.length) {
    throw new UsageError(`unknown ${provider.display_name} scope${unknown.length > 1 ? 's' : ''}: ${unknown.join(', ')}`, {
      hint: `see \`keygate providers inspect ${provider.name}\` for the list`,
    });
  }
}

async function waitFor<T>(result: Promise<T>, seconds: number, redirect: string, provider: ProviderDefinition): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(
        new KeygateError(`no answer from ${provider.display_name} within ${seconds} s`, {
          hint: `if the browser showed an error such as "Invalid OAuth2 redirect_uri", register exactly ${redirect} in the app's OAuth2 settings (scheme, host, port and path must match; no trailing slash), then run login again`,
        }),
      );
    }, seconds * 1000);
  });
  try {
    return await Promise.race([result, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
