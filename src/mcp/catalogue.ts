// What `keygate mcp` exposes: the provider tool catalogue for the selected connections, named
// `<provider>_<tool>` (plus `_<connection>` when one provider has several connections selected, so
// each name says which account it acts for), with coverage read off the vault's clear metadata.
// Nothing here touches a secret: coverage needs only granted scopes, which are stored in clear.
import { parseConnectionArgs } from '../run/connections.js';
import { getProvider, providerNames } from '../provider/index.js';
import type { ProviderDefinition } from '../provider/types.js';
import { coverage, inputSchema, listTools, type Coverage, type Tool } from '../tools/index.js';
import type { ConnectionMeta, Vault } from '../vault/types.js';

/** One provider connection the server acts for. */
export interface Selection {
  provider: ProviderDefinition;
  connection: string;
  /** Clear metadata; undefined when the connection does not exist (yet). */
  meta?: ConnectionMeta;
  /** The provider's default bot connection is connected: the tools that need a bot token use it. */
  bot?: boolean;
}

export interface ExposedTool {
  /** The MCP name, e.g. `discord_get_my_user` or `discord_get_my_user_work`. */
  name: string;
  tool: Tool;
  selection: Selection;
  coverage: Coverage;
  /** The MCP `tools/list` entry. */
  definition: {
    name: string;
    title: string;
    description: string;
    inputSchema: Record<string, unknown>;
    annotations: { title: string; readOnlyHint: boolean; idempotentHint: boolean; destructiveHint: boolean; openWorldHint: boolean };
  };
}

/** The name of the status tool; `keygate_` cannot clash with a provider tool (`_` is not allowed in provider names' first place, and no provider is called keygate). */
export const STATUS_TOOL = 'keygate_status';

/**
 * The connections to serve. Explicit `provider/name` flags win; otherwise every stored connection
 * that is connected (or only expired, which a refresh may mend); with none, each provider that
 * has tools with its `default` connection, so tools that need no token work and the others answer
 * with the login command.
 */
export async function selectConnections(vault: Vault, flags: string[] | undefined): Promise<Selection[]> {
  const selections: Selection[] = [];
  const seen = new Set<string>();
  const add = async (providerName: string, connection: string, meta?: ConnectionMeta) => {
    const key = `${providerName}/${connection}`;
    if (seen.has(key)) return;
    seen.add(key);
    selections.push({ provider: await getProvider(providerName), connection, meta: meta ?? (await vault.peek(providerName, connection)) });
  };
  if (flags?.length) {
    for (const { provider, connection } of parseConnectionArgs(flags)) await add(provider, connection);
    return withBots(vault, selections);
  }
  // A bot connection is not a selection of its own: the bot tools of every selection use it.
  for (const { provider, connection } of await vault.names()) {
    const meta = await vault.peek(provider, connection);
    if (meta && meta.kind !== 'bot' && (meta.status === 'connected' || meta.status === 'expired')) await add(provider, connection, meta);
  }
  if (selections.length) return withBots(vault, selections);
  for (const name of providerNames()) {
    const provider = await getProvider(name).catch(() => undefined);
    if (provider && Object.keys(provider.tools ?? {}).length) await add(name, 'default');
  }
  return withBots(vault, selections);
}

async function withBots(vault: Vault, selections: Selection[]): Promise<Selection[]> {
  for (const selection of selections) {
    const bot = selection.provider.bot;
    const meta = bot && (await vault.peek(selection.provider.name, bot.default_connection));
    selection.bot = meta?.kind === 'bot' && meta.status === 'connected';
  }
  return selections;
}

/** Tool names from `--tools`: bare (`get_my_user`) or prefixed (`discord_get_my_user`). */
export function toolFilter(names: string[] | undefined): ((provider: string, tool: string) => boolean) | undefined {
  if (!names?.length) return undefined;
  const wanted = new Set(names.map((n) => n.trim()).filter(Boolean));
  return (provider, tool) => wanted.has(tool) || wanted.has(`${provider}_${tool}`);
}

export function exposeTools(selections: Selection[], filter?: (provider: string, tool: string) => boolean): ExposedTool[] {
  const perProvider = new Map<string, number>();
  for (const s of selections) perProvider.set(s.provider.name, (perProvider.get(s.provider.name) ?? 0) + 1);
  const exposed: ExposedTool[] = [];
  for (const selection of selections) {
    const { provider, connection, meta } = selection;
    const suffix = (perProvider.get(provider.name) ?? 0) > 1 ? `_${connection.replace(/-/g, '_')}` : '';
    const granted = meta && meta.status !== 'revoked' ? meta.tokens.scopes : undefined;
    for (const tool of listTools(provider)) {
      if (filter && !filter(provider.name, tool.name)) continue;
      const name = `${provider.name}_${tool.name}${suffix}`.slice(0, 128);
      const cov = coverage(tool, { granted, bot: selection.bot, providerName: provider.name });
      const title = titleOf(tool.name);
      exposed.push({
        name,
        tool,
        selection,
        coverage: cov,
        definition: {
          name,
          title,
          description: describe(tool, cov, provider.name, connection),
          inputSchema: inputSchema(tool),
          annotations: {
            title,
            readOnlyHint: tool.method === 'GET',
            idempotentHint: tool.method === 'GET',
            destructiveHint: false,
            openWorldHint: true,
          },
        },
      });
    }
  }
  return exposed;
}

function titleOf(name: string): string {
  const words = name.split('_');
  return [words[0][0].toUpperCase() + words[0].slice(1), ...words.slice(1)].join(' ');
}

/** The description an agent reads: what the tool does, what it needs, and whether it will work. */
function describe(tool: Tool, cov: Coverage, provider: string, connection: string): string {
  const parts = [tool.description.trim()];
  const ref = `${provider}/${connection}`;
  if (tool.auth === 'none') parts.push('Needs no token.');
  else if (tool.auth === 'bot')
    parts.push(`Needs a bot token${tool.auth_when.length ? ' (except as noted)' : ''}: uses ${provider}'s bot connection.`);
  else parts.push(`Acts as ${ref}; needs scopes: ${cov.scopes.length ? cov.scopes.join(', ') : 'none beyond a user token'}.`);
  if (tool.deprecated) parts.push(`Deprecated${tool.deprecated.replaced_by ? `: use ${provider}_${tool.deprecated.replaced_by}` : ''}.`);
  if (!cov.callable) parts.push(`NOT AVAILABLE with ${ref} (${cov.note ?? 'missing scopes'}); calling it returns the fix.`);
  return parts.join(' ');
}
