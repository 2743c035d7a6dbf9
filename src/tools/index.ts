/**
 * Tools: named, validated API calls defined as data in a provider's `tools` section
 * (providers/discord.json, overridable and extendable by $KEYGATE_HOME/providers/<name>.json).
 * Nothing here knows argv or stdout; `keygate call`, `keygate tools`, `keygate scopes` and the MCP
 * server are thin shells over this API. Every failure is one of the closed errors of src/errors.ts
 * with a hint, so a caller prints `formatError(err)` or turns it into a tool error as it is.
 *
 *   import { getProvider } from '../provider/index.js';
 *   import { callTool, listToolCoverage, getTool, inputSchema } from '../tools/index.js';
 *
 *   const discord = await getProvider('discord');
 *   // The catalogue, with coverage against a connection's GRANTED scopes (vault metadata only,
 *   // no master key): [{ tool, coverage: { callable, auth, scopes, missing, note } }, ...]
 *   const listing = await listToolCoverage(discord, { connection: 'default' });
 *   const tool = getTool(discord, 'list_my_guilds');   // UsageError (exit 2) for an unknown name
 *   inputSchema(tool);                                   // plain JSON Schema for MCP `inputSchema`
 *   const result = await callTool(discord, 'list_my_guilds', { limit: 5 }, { connection: 'default' });
 *   // result: { kind: 'json', status, body } | { kind: 'image', status, bytes: Buffer, contentType }
 *
 * callTool checks, in order, before anything is sent: the parameters (UsageError, exit 2, naming
 * the parameter and what was expected), the credential (`none` tools never open the vault; a
 * missing user connection is ConnectionNotFoundError, exit 3; a bot tool without a bot connection
 * names `keygate login <provider> --bot`), and the scopes (CredentialError, exit 5, whose hint is
 * the `keygate login ... --force --scopes ...` command keeping the granted scopes). Then it goes
 * through src/lifecycle like the proxy: refresh before expiry, one refresh and replay after a 401,
 * `revoked` when a refreshed token still gets 401 and the introspection endpoint refuses it too
 * (CredentialError). A 429 with a short retry_after is waited out once, 5xx are retried with
 * backoff (GET only); other answers are ProviderRequestError (exit 1) with the tool's own message
 * when the provider file has one (`errors` by status, e.g. Discord's disabled widget).
 *
 * Plain functions for values from a command line: paramsFromPairs(tool, ['limit=5']) converts
 * `key=value` strings by the schema (numbers-looking strings stay strings where the schema says
 * string: snowflakes are 64-bit). planScopes(provider, names) gives the smallest scope set and
 * which tool needs each scope; loginCommand() the command that adds scopes.
 */
import type { ProviderDefinition } from '../provider/types.js';
import type { ConnectionMeta, Vault } from '../vault/types.js';
import { listTools, type Tool } from './catalogue.js';
import { coverage, type Coverage } from './scopes.js';

export { listTools, getTool, inputSchema, TOOL_NAME, type Tool, type Parameter, type ToolAuth } from './catalogue.js';
export { paramsFromPairs, validateInput, expected, type ToolInput } from './params.js';
export {
  coverage,
  planScopes,
  requirementFor,
  userRequirement,
  loginCommand,
  type Coverage,
  type CoverageOptions,
  type Requirement,
  type ScopePlan,
} from './scopes.js';
export { callTool, type CallOptions, type ToolResult } from './call.js';
export { selectCredential, type ToolCredential } from './credentials.js';

export interface ToolListing {
  provider: string;
  connection: string;
  /** Status of the connection, or `not_connected`. */
  status: string;
  /** Granted scopes, as stored; empty when not connected. */
  granted: string[];
  tools: Array<{ tool: Tool; coverage: Coverage }>;
}

/** The provider's tools with coverage against the connection's granted scopes (no master key needed). */
export async function listToolCoverage(
  provider: ProviderDefinition,
  options: { connection?: string; vault?: Vault } = {},
): Promise<ToolListing> {
  const connection = options.connection ?? 'default';
  const tools = listTools(provider);
  let meta: ConnectionMeta | undefined;
  let botMeta: ConnectionMeta | undefined;
  if (tools.some((t) => t.auth !== 'none')) {
    // Bot tools use the provider's default bot connection (metadata only: no master key).
    const peek = async (vault: Pick<Vault, 'peek'>) => {
      meta = await vault.peek(provider.name, connection);
      if (provider.bot) botMeta = await vault.peek(provider.name, provider.bot.default_connection);
    };
    if (options.vault) {
      await peek(options.vault);
    } else {
      const store = await (await import('../store/index.js')).openStore();
      try {
        await peek(store);
      } finally {
        await store.close();
      }
    }
  }
  const bot = botMeta?.kind === 'bot' && botMeta.status === 'connected';
  const granted = meta && meta.status !== 'revoked' ? meta.tokens.scopes : undefined;
  return {
    provider: provider.name,
    connection,
    status: meta?.status ?? 'not_connected',
    granted: meta?.tokens.scopes ?? [],
    tools: tools.map((tool) => ({
      tool,
      coverage: coverage(tool, {
        granted,
        bot,
        providerName: provider.name,
        unavailable: meta ? `connection ${meta.status}` : 'not connected',
      }),
    })),
  };
}
