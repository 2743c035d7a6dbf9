// Which credential a tool call sends. Scopes are checked on the vault's clear metadata before the
// record is decrypted or refreshed, so a call that cannot succeed sends nothing anywhere (not even
// a refresh to the token endpoint).
//
// A tool that needs a bot token uses a bot connection: the one --connection names, else the
// provider's default bot connection (discord/bot). Its header is the provider's bot format (`Bot`).
import { fixHint, type ConnectionState } from '../connection/hints.js';
import { ConnectionNotFoundError, CredentialError } from '../errors.js';
import { freshRecord } from '../lifecycle/index.js';
import type { ProviderDefinition } from '../provider/types.js';
import type { ConnectionRecord, Vault } from '../vault/types.js';
import type { Tool } from './catalogue.js';
import { loginCommand, type Requirement } from './scopes.js';

export type ToolCredential =
  | { kind: 'none' }
  | { kind: 'user'; vault: Vault; connection: string; record: ConnectionRecord }
  | { kind: 'bot'; vault: Vault; connection: string; record: ConnectionRecord };

export interface CredentialContext {
  provider: ProviderDefinition;
  tool: Tool;
  /** Default `default` for a user token, the provider's default bot connection for a bot token. */
  connection?: string;
  /** Opened on first need: calls that need no token never touch the vault. */
  vault: () => Promise<Vault>;
}

export async function selectCredential(ctx: CredentialContext, requirement: Requirement): Promise<ToolCredential> {
  switch (requirement.auth) {
    case 'none':
      return { kind: 'none' };
    case 'bot':
      return botCredential(ctx);
    case 'user':
      return userCredential(ctx, requirement.scopes);
  }
}

async function userCredential(ctx: CredentialContext, scopes: string[]): Promise<ToolCredential> {
  const { provider, tool } = ctx;
  const connection = ctx.connection ?? 'default';
  const ref = `${provider.name}/${connection}`;
  const named = connection === 'default' ? '' : ` --connection ${connection}`;
  const vault = await ctx.vault();
  const meta = await vault.peek(provider.name, connection);
  if (!meta) throw new ConnectionNotFoundError(`${ref} is not connected`, { hint: `run \`keygate login ${provider.name}${named}\`` });
  if (meta.kind === 'bot')
    throw new ConnectionNotFoundError(`${tool.name} acts for a user, and ${ref} is a bot connection`, {
      hint: `pass a user connection with --connection, or run \`keygate login ${provider.name}\``,
    });
  const granted = new Set(meta.tokens.scopes);
  const missing = scopes.filter((s) => !granted.has(s));
  if (missing.length > 0) {
    throw new CredentialError(
      `${tool.name} needs the scope${missing.length > 1 ? 's' : ''} ${missing.join(', ')}, which ${ref} was not granted`,
      {
        hint: `run \`${loginCommand(provider.name, connection, [...meta.tokens.scopes, ...missing])}\` (${provider.display_name} has no incremental consent: this authorizes again)`,
      },
    );
  }
  if (meta.status === 'revoked') throw unusable(ref, meta.status, meta.status_reason, provider.name, named);
  const record = await freshRecord(vault, provider, connection);
  if (record.status !== 'connected') throw unusable(ref, record.status, record.status_reason, provider.name, named);
  return { kind: 'user', vault, connection, record };
}

async function botCredential(ctx: CredentialContext): Promise<ToolCredential> {
  const { provider, tool } = ctx;
  const needs = `${tool.name}${tool.auth_when.length ? ' with these parameters' : ''} needs a ${provider.display_name} bot connection`;
  if (!provider.bot)
    throw new ConnectionNotFoundError(`${needs}, and the provider file has no bot section`, {
      hint: `see \`keygate providers inspect ${provider.name}\``,
    });
  const vault = await ctx.vault();
  // The connection named, if it is a bot; otherwise (none named, or a user's, as MCP passes the
  // connection it serves) the provider's default bot connection.
  const named0 = ctx.connection === undefined ? undefined : await vault.peek(provider.name, ctx.connection);
  const connection = named0?.kind === 'bot' ? ctx.connection! : provider.bot.default_connection;
  const named = connection === provider.bot.default_connection ? '' : ` --connection ${connection}`;
  const ref = `${provider.name}/${connection}`;
  const meta = named0?.kind === 'bot' ? named0 : await vault.peek(provider.name, connection);
  if (!meta)
    throw new ConnectionNotFoundError(`${needs}, and ${ref} is not connected`, {
      hint: `run \`keygate login ${provider.name} --bot${named}\``,
    });
  if (meta.kind !== 'bot')
    throw new ConnectionNotFoundError(`${needs}, and ${ref} is a user connection`, {
      hint: `run \`keygate login ${provider.name} --bot --connection <name>\``,
    });
  const record = await vault.read(provider.name, connection);
  if (!record)
    throw new ConnectionNotFoundError(`${ref} is not connected`, { hint: `run \`keygate login ${provider.name} --bot${named}\`` });
  if (record.status !== 'connected')
    throw new CredentialError(`${ref} is ${record.status}${record.status_reason ? ` (${record.status_reason})` : ''}`, {
      hint: botLoginHint(provider.name, named),
    });
  return { kind: 'bot', vault, connection, record };
}

// Hints come from src/connection/hints.ts, like every other "what to do next" about a connection:
// a revoked or expired connection needs plain `login` (no --force, which would ask for the client
// credentials again).
export function botLoginHint(providerName: string, named: string): string {
  return fixHint(providerName, named ? named.replace(/^ --connection /, '') : 'bot', 'revoked', 'bot')!;
}

export function unusable(ref: string, status: string, reason: string | undefined, providerName: string, _named: string): CredentialError {
  const connection = ref.slice(providerName.length + 1);
  return new CredentialError(`${ref} is ${status}${reason ? ` (${reason})` : ''}`, {
    hint: fixHint(providerName, connection, status as ConnectionState),
  });
}

/** The header the credential goes in, as the provider file's injection rule says. */
export function authorization(provider: ProviderDefinition, credential: ToolCredential): Record<string, string> {
  if (credential.kind === 'none') return {};
  const format = credential.kind === 'bot' ? provider.bot!.format : provider.injection.format;
  return { [provider.injection.header.toLowerCase()]: format.replace('{token}', credential.record.tokens.access_token) };
}
