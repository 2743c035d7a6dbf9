// Which credential and scopes a tool call needs, whether a connection's granted scopes cover a
// tool, and the smallest scope set for a list of tools. Discord has no incremental consent: a
// missing scope means authorizing again from scratch, so the set is planned from the tools up front.
import { UsageError } from '../errors.js';
import type { ProviderDefinition } from '../provider/types.js';
import { getTool, type Tool, type ToolAuth } from './catalogue.js';
import type { ToolInput } from './params.js';

export interface Requirement {
  auth: ToolAuth;
  /** Scopes the user token needs (only for auth `user`). */
  scopes: string[];
}

/** What one call needs: the first `auth_when` exception whose params all match, else the tool's own. */
export function requirementFor(tool: Tool, input: ToolInput): Requirement {
  for (const rule of tool.auth_when) {
    if (Object.entries(rule.params).every(([key, value]) => input[key] === value)) return { auth: rule.auth, scopes: rule.scopes };
  }
  return { auth: tool.auth, scopes: tool.scopes };
}

/**
 * How a user token can call the tool: its own requirement when the tool takes user auth, else the
 * first exception that does (with the parameter values it is limited to), else undefined.
 */
export function userRequirement(tool: Tool): { scopes: string[]; onlyWith?: Record<string, unknown> } | undefined {
  if (tool.auth === 'user') return { scopes: tool.scopes };
  const rule = tool.auth_when.find((r) => r.auth === 'user');
  return rule ? { scopes: rule.scopes, onlyWith: rule.params } : undefined;
}

export interface Coverage {
  tool: string;
  /** Whether this connection (or no connection, for auth `none`) can call the tool. */
  callable: boolean;
  auth: ToolAuth;
  /** Scopes a user token needs for it (empty for auth none/bot). */
  scopes: string[];
  /** Needed scopes the connection was not granted. */
  missing: string[];
  /** Why not, or a limit, in words: "not connected", "only with user_id=@me; ...". */
  note?: string;
}

export interface CoverageOptions {
  /** The connection's granted scopes; undefined when there is no connected user connection. */
  granted?: string[];
  /** Whether a bot connection is available (issue 14 sets it). */
  bot?: boolean;
  /** For notes, e.g. `keygate login discord --bot`. */
  providerName?: string;
  /** Why `granted` is undefined, for the note. Default "not connected". */
  unavailable?: string;
}

export function coverage(tool: Tool, options: CoverageOptions): Coverage {
  const base = { tool: tool.name, auth: tool.auth };
  if (tool.auth === 'none') return { ...base, callable: true, scopes: [], missing: [], note: 'no token needed' };
  if (tool.auth === 'bot' && options.bot) return { ...base, callable: true, scopes: [], missing: [], note: 'uses the bot connection' };
  const user = userRequirement(tool);
  const botNote = `needs a bot connection (\`keygate login ${options.providerName ?? tool.provider} --bot\`)`;
  if (!user) return { ...base, callable: false, scopes: [], missing: [], note: botNote };
  const limit = user.onlyWith
    ? `only with ${Object.entries(user.onlyWith)
        .map(([k, v]) => `${k}=${String(v)}`)
        .join(', ')}; other values ${options.bot ? 'use the bot connection' : botNote}`
    : undefined;
  if (options.granted === undefined)
    return { ...base, callable: false, scopes: user.scopes, missing: [], note: options.unavailable ?? 'not connected' };
  const granted = new Set(options.granted);
  const missing = user.scopes.filter((s) => !granted.has(s));
  return {
    ...base,
    callable: missing.length === 0,
    scopes: user.scopes,
    missing,
    note: missing.length ? `missing ${missing.join(', ')}` : limit,
  };
}

export interface ScopePlan {
  provider: string;
  tools: string[];
  /** The smallest set covering the tools (each tool needs all of its scopes, so: their union). */
  scopes: string[];
  /** For each scope, the tools that need it. */
  needed_by: Record<string, string[]>;
  /** Tools that need no token. */
  no_token: string[];
  /** Tools (or some of their calls) that need a bot connection. */
  bot: string[];
  /** What keygate itself needs to name the account at login (api.account.scopes). */
  account_scopes: string[];
  /** `scopes` plus `account_scopes`: what `login --for-tools` requests. */
  login_scopes: string[];
}

/** Plans the scopes for tool names; an unknown name is a usage error (exit 2). */
export function planScopes(provider: ProviderDefinition, toolNames: string[]): ScopePlan {
  if (toolNames.length === 0)
    throw new UsageError('--for-tools needs at least one tool name', { hint: `see \`keygate tools list ${provider.name}\`` });
  const needed_by: Record<string, string[]> = {};
  const no_token: string[] = [];
  const bot: string[] = [];
  const names = [...new Set(toolNames)];
  for (const name of names) {
    const tool = getTool(provider, name);
    if (tool.auth === 'none') no_token.push(name);
    if (tool.auth === 'bot' || tool.auth_when.some((r) => r.auth === 'bot')) bot.push(name);
    for (const scope of userRequirement(tool)?.scopes ?? []) (needed_by[scope] ??= []).push(name);
  }
  const scopes = Object.keys(needed_by);
  const account_scopes = provider.api.account?.scopes ?? [];
  return {
    provider: provider.name,
    tools: names,
    scopes,
    needed_by,
    no_token,
    bot,
    account_scopes,
    login_scopes: [...new Set([...scopes, ...account_scopes])],
  };
}

/** `keygate login discord --force --scopes a,b [--connection x]`: the command that adds scopes. */
export function loginCommand(providerName: string, connection: string, scopes: string[]): string {
  const named = connection === 'default' ? '' : ` --connection ${connection}`;
  return `keygate login ${providerName}${named} --force --scopes ${scopes.join(',')}`;
}
