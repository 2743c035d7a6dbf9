// Which credentials a run gets, and the placeholder the child sees for each.
//   default: the `default` connection of every provider that has one connected (or expired: the
//            token hooks may still refresh it);
//   --connection discord/work (repeatable): exactly those.
//            Bot connections too: the provider's default bot connection (discord/bot) when stored.
// Placeholder variables: the provider's `placeholder_env` for its default connection, with
// `_<CONNECTION>` appended for others (discord/work → DISCORD_ACCESS_TOKEN_WORK; `-` becomes `_`).
// A bot connection's is the provider's `bot.placeholder_env` (DISCORD_BOT_TOKEN) for its default bot
// connection, suffixed the same way for others (discord/helper → DISCORD_BOT_TOKEN_HELPER).
import { randomBytes } from 'node:crypto';
import { fixHint } from '../connection/hints.js';
import { ConnectionNotFoundError, CredentialError, ProviderError, UsageError } from '../errors.js';
import { getBundledProvider } from '../provider/index.js';
import type { ProviderDefinition } from '../provider/types.js';
import { type CredentialKind, PLACEHOLDER_PREFIX, type RunCredential } from '../proxy/rules.js';
import { type BindingChange, bindingChange, effectiveBinding } from './binding.js';
import type { ConnectionRecord, Vault } from '../vault/types.js';

const NAME = '[a-z0-9][a-z0-9_-]{0,63}';
const CONNECTION_ARG = new RegExp(`^(${NAME})/(${NAME})$`);

export interface ConnectionRef {
  provider: string;
  connection: string;
}

/** Parses `--connection` values (`<provider>/<name>`), dropping duplicates. */
export function parseConnectionArgs(values: readonly string[]): ConnectionRef[] {
  const refs = new Map<string, ConnectionRef>();
  for (const value of values) {
    const match = CONNECTION_ARG.exec(value);
    if (!match) {
      throw new UsageError(`\`--connection\` expects <provider>/<name>, got \`${value}\``, { hint: 'e.g. --connection discord/default' });
    }
    refs.set(value, { provider: match[1], connection: match[2] });
  }
  return [...refs.values()];
}

export function placeholderEnvName(provider: ProviderDefinition, connection: string, kind: CredentialKind = 'user'): string {
  const bot = kind === 'bot' ? provider.bot : undefined;
  const base = bot ? bot.placeholder_env : provider.injection.placeholder_env;
  const unsuffixed = bot ? bot.default_connection : 'default';
  return connection === unsuffixed ? base : `${base}_${connection.toUpperCase().replace(/-/g, '_')}`;
}

/** Random per run, so a placeholder copied out of one run means nothing in another. */
export function newPlaceholder(provider: string, connection: string): string {
  return `${PLACEHOLDER_PREFIX}${provider}_${connection}_${randomBytes(16).toString('hex')}`;
}

export interface SelectedCredential extends RunCredential {
  definition: ProviderDefinition;
  /** How the provider file now differs from where this credential is bound (not in effect until approved). */
  unapproved?: BindingChange;
}

export interface Selection {
  credentials: SelectedCredential[];
  /**
   * Secret token values (access and refresh) of the selected connections as read now, only so the
   * child's environment can be checked not to hold them. Never logged.
   */
  secretValues: string[];
}

export async function selectCredentials(options: {
  vault: Pick<Vault, 'list' | 'read'>;
  providers: Map<string, ProviderDefinition>;
  connections?: readonly string[];
  /** Told about connections skipped in the default selection (unreadable records). */
  warn?: (message: string) => void;
}): Promise<Selection> {
  const refs = options.connections?.length ? parseConnectionArgs(options.connections) : undefined;
  const secretValues: string[] = [];
  const chosen = refs
    ? await explicit(options.vault, options.providers, refs, secretValues)
    : await defaults(options.vault, options.providers, secretValues, options.warn);
  if (chosen.length === 0) {
    const known = [...options.providers.keys()];
    throw new ConnectionNotFoundError('no connected credential to run with', {
      hint: `run \`keygate login ${known[0] ?? '<provider>'}\`${known.length > 1 ? ` (providers: ${known.join(', ')})` : ''}`,
    });
  }
  const byEnv = new Map<string, SelectedCredential>();
  for (const credential of chosen) {
    const clash = byEnv.get(credential.envName);
    if (clash) {
      throw new UsageError(
        `${clash.provider}/${clash.connection} and ${credential.provider}/${credential.connection} would both use $${credential.envName}`,
        {
          hint: 'pass only one of them with --connection',
        },
      );
    }
    byEnv.set(credential.envName, credential);
  }
  return { credentials: chosen, secretValues };
}

async function explicit(
  vault: Pick<Vault, 'read'>,
  providers: Map<string, ProviderDefinition>,
  refs: ConnectionRef[],
  secrets: string[],
): Promise<SelectedCredential[]> {
  const out: SelectedCredential[] = [];
  for (const { provider, connection } of refs) {
    const definition = providers.get(provider);
    if (!definition)
      throw new ProviderError(`unknown provider "${provider}" in --connection ${provider}/${connection}`, {
        hint: `known providers: ${[...providers.keys()].join(', ') || 'none'}`,
      });
    const record = await vault.read(provider, connection);
    if (!record)
      throw new ConnectionNotFoundError(`${provider}/${connection} is not connected`, {
        hint: fixHint(provider, connection, 'not_connected'),
      });
    if (record.status === 'revoked')
      throw new CredentialError(`${provider}/${connection} was revoked`, { hint: fixHint(provider, connection, 'revoked', record.kind) });
    if (record.kind === 'bot' && !definition.bot)
      throw new ProviderError(`${provider}/${connection} is a bot connection, but the ${provider} provider file has no bot section`, {
        hint: `see \`keygate providers inspect ${provider}\``,
      });
    secrets.push(...tokenValues(record));
    out.push(credentialFor(definition, connection, record));
  }
  return out;
}

async function defaults(
  vault: Pick<Vault, 'list'>,
  providers: Map<string, ProviderDefinition>,
  secrets: string[],
  warn?: (message: string) => void,
): Promise<SelectedCredential[]> {
  const out: SelectedCredential[] = [];
  for (const entry of await vault.list()) {
    const definition = providers.get(entry.provider);
    if (!definition) continue;
    const defaultBot =
      definition.bot !== undefined && entry.connection === definition.bot.default_connection && entry.record?.kind === 'bot';
    if (entry.connection !== 'default' && !defaultBot) continue;
    if (!entry.record) {
      warn?.(`skipping ${entry.provider}/${entry.connection}: ${entry.error.message}`);
      continue;
    }
    if (entry.record.status !== 'connected' && entry.record.status !== 'expired') continue;
    if (entry.record.kind === 'bot' && !definition.bot) continue;
    secrets.push(...tokenValues(entry.record));
    out.push(credentialFor(definition, entry.connection, entry.record));
  }
  return out;
}

function tokenValues(record: ConnectionRecord): string[] {
  return [record.tokens.access_token, record.tokens.refresh_token].filter((v): v is string => typeof v === 'string' && v.length >= 8);
}

function credentialFor(definition: ProviderDefinition, connection: string, record: ConnectionRecord): SelectedCredential {
  const kind: CredentialKind = record.kind ?? 'user';
  const binding = effectiveBinding(record, definition, record.binding ? undefined : getBundledProvider(definition.name));
  return {
    provider: definition.name,
    connection,
    kind,
    placeholder: newPlaceholder(definition.name, connection),
    envName: placeholderEnvName(definition, connection, kind),
    bound: { hosts: binding.hosts, pathPrefix: binding.path_prefix },
    definition,
    unapproved: bindingChange(binding, definition, kind),
  };
}
