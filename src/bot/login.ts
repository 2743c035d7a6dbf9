// `keygate login <provider> --bot`: store an application's bot token as a bot connection. The token
// comes from the environment or a hidden prompt (never argv), and is checked against the provider
// before anything is stored: who the bot is, and which application it belongs to.
import { CredentialError, KeygateError, ProviderError, ProviderRequestError, UsageError } from '../errors.js';
import { apiGet, scalar } from '../oauth/account.js';
import type { BotDefinition, ProviderDefinition } from '../provider/types.js';
import { PLACEHOLDER_PREFIX } from '../proxy/rules.js';
import { bindingOf } from '../run/binding.js';
import type { Account, ConnectionRecord, Vault } from '../vault/types.js';

export interface BotLoginOptions {
  connection: string;
  /** Secret. As the user pasted it; a leading "Bot " is dropped. */
  token: string;
  force?: boolean;
}

export function botDefinition(provider: ProviderDefinition): BotDefinition {
  if (!provider.bot) {
    throw new ProviderError(`${provider.display_name} has no bot credentials`, {
      hint: `the provider file has no \`bot\` section; see \`keygate providers inspect ${provider.name}\``,
    });
  }
  return provider.bot;
}

/** The token as it goes in the header, or a usage error for something that cannot be one. */
export function cleanBotToken(raw: string, bot: BotDefinition): string {
  const token = raw.trim().replace(/^bot\s+/i, '');
  if (token === '') throw new UsageError('no bot token given', { hint: `set ${bot.placeholder_env}, or run in a terminal to be asked` });
  if (token.startsWith(PLACEHOLDER_PREFIX)) {
    throw new UsageError(`$${bot.placeholder_env} holds a keygate placeholder, not a bot token`, {
      hint: 'run `keygate login --bot` outside `keygate run`, with the token from the Developer Portal (Bot → Reset Token)',
    });
  }
  if (!/^[\x21-\x7e]+$/.test(token))
    throw new UsageError('the bot token holds spaces or characters a token never has', {
      hint: 'copy it again from the Developer Portal (Bot → Reset Token)',
    });
  return token;
}

export async function loginBot(provider: ProviderDefinition, vault: Vault, options: BotLoginOptions): Promise<ConnectionRecord> {
  const bot = botDefinition(provider);
  const token = cleanBotToken(options.token, bot);
  const ref = `${provider.name}/${options.connection}`;
  const existing = await vault.peek(provider.name, options.connection);
  if (existing?.status === 'connected' && !options.force) {
    throw new KeygateError(`${ref} is already connected${existing.account ? ` as ${existing.account.name}` : ''}`, {
      hint: `pass --force to replace it, or --connection <name> for another one`,
    });
  }
  const account = await lookup(provider, bot.account, token, 'the bot');
  const application = bot.application ? await lookup(provider, bot.application, token, 'its application') : undefined;
  const stamp = new Date().toISOString();
  return (await vault.update(provider.name, options.connection, (current) => ({
    provider: provider.name,
    connection: options.connection,
    kind: 'bot',
    ...(application ? { application } : {}),
    // A new token for the same application (after Reset Token) keeps the installations it had.
    installations: current?.kind === 'bot' && current.application?.id === application?.id ? (current.installations ?? []) : [],
    tokens: { access_token: token, token_type: 'Bot', scopes: [] },
    // Where the bot token may go from now on (src/run/binding.ts), as for a user login.
    binding: bindingOf(provider, 'bot'),
    account,
    status: 'connected',
    status_changed_at: stamp,
    created_at: stamp,
  })))!;
}

async function lookup(
  provider: ProviderDefinition,
  spec: { path: string; id_field: string; name_field: string },
  token: string,
  what: string,
): Promise<Account> {
  const bot = provider.bot!;
  const { status, body } = await apiGet(provider, spec.path, token, bot.format);
  if (status === 401) {
    throw new CredentialError(`${provider.display_name} refused the bot token (GET ${spec.path}: HTTP 401)`, {
      hint: 'copy the token again from the Developer Portal (your app → Bot → Reset Token); a reset makes the old one stop working',
    });
  }
  if (status !== 200 || typeof body !== 'object' || body === null) {
    throw new ProviderRequestError(`${provider.display_name} did not describe ${what} (GET ${spec.path}: HTTP ${status})`, {
      hint: 'try again shortly',
    });
  }
  const data = body as Record<string, unknown>;
  return { id: scalar(data[spec.id_field]), name: scalar(data[spec.name_field]) };
}
