// Which credential a tool call sends. Scopes are checked on the vault's clear metadata before the
// record is decrypted or refreshed, so a call that cannot succeed sends nothing anywhere (not even
// a refresh to the token endpoint).
//
// Bot connections (issue 14) plug in at selectCredential's `bot` branch: return a
// `{ kind: 'bot', ... }` credential there and give it a header in authorization().
import { ConnectionNotFoundError, CredentialError } from '../errors.js';
import { freshRecord } from '../lifecycle/index.js';
import type { ProviderDefinition } from '../provider/types.js';
import type { ConnectionRecord, Vault } from '../vault/types.js';
import type { Tool } from './catalogue.js';
import { loginCommand, type Requirement } from './scopes.js';

export type ToolCredential =
  | { kind: 'none' }
  | { kind: 'user'; vault: Vault; connection: string; record: ConnectionRecord };

export interface CredentialContext {
  provider: ProviderDefinition;
  tool: Tool;
  /** Default `default`. */
  connection?: string;
  /** Opened on first need: calls that need no token never touch the vault. */
  vault: () => Promise<Vault>;
}

export async function selectCredential(ctx: CredentialContext, requirement: Requirement): Promise<ToolCredential> {
  const { provider, tool } = ctx;
  switch (requirement.auth) {
    case 'none':
      return { kind: 'none' };
    case 'bot':
      throw new ConnectionNotFoundError(`${tool.name}${tool.auth_when.length ? ' with these parameters' : ''} needs a ${provider.display_name} bot connection, and there is none`, {
        hint: `run \`keygate login ${provider.name} --bot\``,
      });
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
  const granted = new Set(meta.tokens.scopes);
  const missing = scopes.filter((s) => !granted.has(s));
  if (missing.length > 0) {
    throw new CredentialError(`${tool.name} needs the scope${missing.length > 1 ? 's' : ''} ${missing.join(', ')}, which ${ref} was not granted`, {
      hint: `run \`${loginCommand(provider.name, connection, [...meta.tokens.scopes, ...missing])}\` (${provider.display_name} has no incremental consent: this authorizes again)`,
    });
  }
  if (meta.status === 'revoked') throw unusable(ref, meta.status, meta.status_reason, provider.name, named);
  const record = await freshRecord(vault, provider, connection);
  if (record.status !== 'connected') throw unusable(ref, record.status, record.status_reason, provider.name, named);
  return { kind: 'user', vault, connection, record };
}

export function unusable(ref: string, status: string, reason: string | undefined, providerName: string, named: string): CredentialError {
  return new CredentialError(`${ref} is ${status}${reason ? ` (${reason})` : ''}`, { hint: `run \`keygate login ${providerName}${named} --force\`` });
}

/** The header the credential goes in, as the provider file's injection rule says. */
export function authorization(provider: ProviderDefinition, credential: ToolCredential): Record<string, string> {
  if (credential.kind === 'none') return {};
  return { [provider.injection.header.toLowerCase()]: provider.injection.format.replace('{token}', credential.record.tokens.access_token) };
}
