// openKeygate(): the library over one KEYGATE_HOME. The CLI's commands are clients of this same
// object (src/commands/*), so each operation has one implementation.
import { ConnectionNotFoundError, CredentialError } from '../errors.js';
import { describeMeta } from '../connection/describe.js';
import { fixHint } from '../connection/hints.js';
import { describeUnreadable } from '../connection/unreadable.js';
import type { ProviderDefinition } from '../provider/types.js';
import type { Tool } from '../tools/catalogue.js';
import type { ListedConnection } from '../vault/types.js';
import { type Context, createContext } from './context.js';
import type {
  CallOptions,
  CallResult,
  Connection,
  ConnectionStatus,
  KeygateOptions,
  LoginOptions,
  LoginSession,
  RunOptions,
  RunningCommand,
  StatusValue,
  StoreInfo,
  ToolCatalog,
  ToolInfo,
  UnreadableConnection,
} from './types.js';

/**
 * Opens keygate over one home directory. Nothing is read until a method needs it; call
 * {@link Keygate.close} when done (it releases a shared store's database connections).
 *
 * @example
 * ```ts
 * const keygate = openKeygate();
 * if ((await keygate.status('discord')).status !== 'connected') {
 *   const login = await keygate.login('discord');
 *   console.log(`Open ${login.url}`);
 *   await login.connection;
 * }
 * const { exit } = await keygate.run('node', ['agent.mjs']);
 * process.exitCode = await exit;
 * await keygate.close();
 * ```
 */
export function openKeygate(options: KeygateOptions = {}): Keygate {
  return new Keygate(createContext(options));
}

/** The operations for CLI-only needs (secret fields for `get --reveal`), kept off the public object. */
const contexts = new WeakMap<Keygate, Context>();

/** keygate over one home directory. Create it with {@link openKeygate}. Every failure is a {@link KeygateError} subclass. */
export class Keygate {
  /** @internal */
  constructor(ctx: Context) {
    contexts.set(this, ctx);
    this.home = ctx.home;
  }

  /** The directory this instance keeps everything in. */
  readonly home: string;

  /** Every stored connection, without secrets (`keygate list`). Reads no token and needs no master key. */
  async connections(): Promise<Array<Connection | UnreadableConnection>> {
    const entries = await (await ctx(this).store()).list();
    return entries.map(listed);
  }

  /** One stored connection without secrets (`keygate get`), or undefined when there is none. */
  async connection(provider: string, connection = 'default'): Promise<Connection | undefined> {
    const definition = await ctx(this).provider(provider);
    const meta = await (await ctx(this).store()).peek(definition.name, connection);
    return meta ? describeMeta(meta) : undefined;
  }

  /** Where the connections are kept and which master-key backend protects them. */
  async storeInfo(): Promise<StoreInfo> {
    const store = await ctx(this).store();
    const any = (await store.names()).length > 0;
    return { home: store.home, store: store.kind, location: store.location, key_backend: any ? await store.backend() : null };
  }

  /**
   * A live health check of one connection (`keygate status <provider> --connection <name>`): the
   * token is refreshed if due and shown to the provider. A missing connection is `not_connected`,
   * not an error.
   */
  async status(provider: string, connection = 'default'): Promise<ConnectionStatus> {
    const definition = await ctx(this).provider(provider);
    const entry = (await (await ctx(this).store()).list()).find((e) => e.provider === definition.name && e.connection === connection);
    if (!entry) {
      return {
        provider: definition.name,
        connection,
        kind: 'user',
        status: 'not_connected',
        healthy: false,
        hint: fixHint(definition.name, connection, 'not_connected'),
        detail: 'not connected',
        scopes: [],
        checked_live: false,
      };
    }
    return health(ctx(this), definition, entry);
  }

  /**
   * Live health checks of every stored connection, or those of one provider and/or connection name
   * (`keygate status [provider] [--connection]`). Throws ConnectionNotFoundError when a filter matches nothing.
   */
  async statuses(filter: { provider?: string; connection?: string } = {}): Promise<ConnectionStatus[]> {
    const c = ctx(this);
    const only = filter.provider ? (await c.provider(filter.provider)).name : undefined;
    const entries = (await (await c.store()).list()).filter(
      (e) => (!only || e.provider === only) && (!filter.connection || e.connection === filter.connection),
    );
    if (entries.length === 0) {
      if (only && filter.connection)
        throw new ConnectionNotFoundError(`${only}/${filter.connection} is not connected`, {
          hint: fixHint(only, filter.connection, 'not_connected'),
        });
      if (only || filter.connection) throw new ConnectionNotFoundError('no connections match', { hint: 'see `keygate list`' });
    }
    const results: ConnectionStatus[] = [];
    for (const entry of entries) results.push(await health(c, await c.provider(entry.provider), entry));
    return results;
  }

  /**
   * Starts an OAuth login and returns as soon as the authorization URL exists, for apps that show
   * the link themselves; `connection` resolves once the user approved and the tokens are stored.
   * No browser is opened unless `openBrowser` is true.
   */
  async login(provider: string, options: LoginOptions = {}): Promise<LoginSession> {
    // Loaded on use, like every heavy part, so a CLI command pays only for what it runs.
    const { startLogin } = await import('./login.js');
    return startLogin(ctx(this), provider, options);
  }

  /**
   * The provider's tools as LLM tool definitions (`name`, `description`, `input_schema`), each with
   * whether the connection's granted scopes let it be called.
   */
  async tools(provider: string, options: { connection?: string } = {}): Promise<ToolInfo[]> {
    return (await this.toolCatalog(provider, options)).tools;
  }

  /** {@link Keygate.tools} with the connection they were checked against (`keygate tools list`). */
  async toolCatalog(provider: string, options: { connection?: string } = {}): Promise<ToolCatalog> {
    const { listToolCoverage, inputSchema } = await import('../tools/index.js');
    const definition = await ctx(this).provider(provider);
    const listing = await listToolCoverage(definition, { connection: options.connection, vault: await ctx(this).store() });
    return {
      provider: listing.provider,
      connection: listing.connection,
      status: listing.status as StatusValue,
      granted_scopes: listing.granted,
      tools: listing.tools.map(({ tool, coverage }) => ({
        ...toolInfo(definition, tool, inputSchema(tool)),
        callable: coverage.callable,
        missing_scopes: coverage.missing,
        note: coverage.note ?? null,
      })),
    };
  }

  /** One tool by name (`keygate tools describe`), checked against the connection like {@link Keygate.tools}. UsageError for an unknown name. */
  async tool(provider: string, name: string, options: { connection?: string } = {}): Promise<ToolInfo> {
    const { getTool } = await import('../tools/index.js');
    getTool(await ctx(this).provider(provider), name); // the unknown-name error, with the nearest names
    return (await this.tools(provider, options)).find((t) => t.name === name)!;
  }

  /**
   * Calls one tool (`keygate call`): parameters and scopes are checked before anything is sent
   * (UsageError, CredentialError), then the request goes through the same refresh and revocation
   * path as the proxy.
   */
  async call(provider: string, tool: string, input: Record<string, unknown> = {}, options: CallOptions = {}): Promise<CallResult> {
    const { callTool } = await import('../tools/index.js');
    const definition = await ctx(this).provider(provider);
    return callTool(definition, tool, input, {
      connection: options.connection,
      onWait: options.onWait,
      signal: options.signal,
      vault: () => ctx(this).store(),
    });
  }

  /**
   * Runs a command behind keygate's proxy (`keygate run`): it sees placeholders, never tokens, and
   * the proxy swaps them on requests to the provider's hosts. Resolves once the child is spawned;
   * `exit` resolves with its exit code after the proxy has closed.
   */
  async run(command: string, args: readonly string[] = [], options: RunOptions = {}): Promise<RunningCommand> {
    const { startRun } = await import('./run.js');
    return startRun(ctx(this), command, args, options);
  }

  /**
   * The connection's real access token, refreshed first if it expires soon. For the trusted
   * orchestrator's own requests only: an agent should get `run` and a placeholder instead.
   * ConnectionNotFoundError when absent, CredentialError when expired or revoked.
   */
  revealAccessToken(provider: string, connection = 'default'): Promise<string> {
    return revealToken(this, provider, connection, 'access_token');
  }

  /** Releases what this instance holds open (a shared store's database connections). Idempotent. */
  close(): Promise<void> {
    return ctx(this).close();
  }
}

function ctx(keygate: Keygate): Context {
  const c = contexts.get(keygate);
  if (!c) throw new TypeError('not a Keygate made by openKeygate()');
  return c;
}

function listed(entry: ListedConnection): Connection | UnreadableConnection {
  if (!entry.record) return describeUnreadable(entry.provider, entry.connection, entry.error);
  const { access_token: _a, refresh_token, ...tokens } = entry.record.tokens;
  return describeMeta({ ...entry.record, tokens: { ...tokens, has_refresh_token: Boolean(refresh_token) } });
}

async function health(c: Context, provider: ProviderDefinition, entry: ListedConnection): Promise<ConnectionStatus> {
  if (entry.error) {
    const unreadable = describeUnreadable(entry.provider, entry.connection, entry.error);
    return { ...unreadable, kind: 'user', healthy: false, detail: unreadable.error, scopes: [], checked_live: false };
  }
  const { checkHealth } = await import('../lifecycle/health.js');
  return checkHealth(await c.store(), provider, entry.connection);
}

function toolInfo(
  provider: ProviderDefinition,
  tool: Tool,
  schema: Record<string, unknown>,
): Omit<ToolInfo, 'callable' | 'missing_scopes' | 'note'> {
  return {
    provider: tool.provider,
    name: tool.name,
    description: tool.description,
    input_schema: schema,
    method: tool.method,
    path: tool.path,
    url: `${provider.api.base_url.replace(/\/$/, '')}${tool.path}`,
    auth: tool.auth,
    scopes: tool.scopes,
    response: tool.response,
    deprecated: tool.deprecated ?? null,
    definition: tool,
  };
}

/** A secret field, refreshed first (`keygate get --field access_token|refresh_token --reveal`). Not exported by the package. */
export async function revealToken(
  keygate: Keygate,
  provider: string,
  connection: string,
  field: 'access_token' | 'refresh_token',
): Promise<string> {
  const c = ctx(keygate);
  const definition = await c.provider(provider);
  const store = await c.store();
  const ref = `${definition.name}/${connection}`;
  if (!(await store.peek(definition.name, connection)))
    throw new ConnectionNotFoundError(`${ref} is not connected`, { hint: fixHint(definition.name, connection, 'not_connected') });
  const { freshRecord } = await import('../lifecycle/index.js');
  const record = await freshRecord(store, definition, connection);
  if (record.status !== 'connected') {
    throw new CredentialError(`${ref} is ${record.status}${record.status_reason ? ` (${record.status_reason})` : ''}`, {
      hint: fixHint(definition.name, connection, record.status, record.kind ?? 'user'),
    });
  }
  const value = record.tokens[field];
  if (value === undefined) throw new ConnectionNotFoundError(`${ref} has no ${field}`, { hint: 'the provider did not issue one' });
  return value;
}
