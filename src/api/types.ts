// The library's public shapes. Data fields are snake_case because they are the same documents the
// CLI prints with --json (one path, one shape); option objects are camelCase, as Node APIs are.
import type { ChildProcess } from 'node:child_process';
import type { ConnectionFields } from '../connection/describe.js';
import type { Health } from '../lifecycle/health.js';
import type { Tool } from '../tools/catalogue.js';

/** Options of {@link openKeygate}. Every field is optional: the defaults are the CLI's. */
export interface KeygateOptions {
  /** The directory keygate keeps everything in. Default: `KEYGATE_HOME` from `env`, else the platform config dir. */
  home?: string;
  /**
   * keygate's environment. It is read for `KEYGATE_HOME`, `KEYGATE_STORE`, `KEYGATE_PASSPHRASE`,
   * `KEYGATE_KEY_BACKEND`, settings (`KEYGATE_LOGIN_PORT`, ...) and `<PROVIDER>_CLIENT_ID` /
   * `_CLIENT_SECRET`, and it is the base of a `run` child's environment (minus keygate's own
   * secrets) and of its proxy's routing. keygate's own outbound calls (token exchange, refresh,
   * status checks, tools) follow the process's `KEYGATE_CONNECT_TO` and `NODE_EXTRA_CA_CERTS`, as
   * the CLI's do. Default: `process.env`.
   */
  env?: NodeJS.ProcessEnv;
  /** Where connections are kept: `files` (the vault under `home`) or a `postgres://` URL. Default: `KEYGATE_STORE`, else `files`. */
  store?: string;
  /** Receives keygate's warnings and notices, one line each ending in `\n`. Default: `process.stderr`. */
  stderr?: (text: string) => void;
}

/**
 * The status values of a connection, as `keygate status` and `keygate get --field status` print
 * them; `unreadable` is a record keygate cannot open (tampered, or written under a lost key).
 */
export type StatusValue = 'connected' | 'expired' | 'revoked' | 'not_connected' | 'unreadable';

/** A stored connection without its secrets (what `keygate get --json` prints). */
export type Connection = ConnectionFields;

/** A stored connection that could not be read (tampered, or written by a newer keygate), with `error` saying why and `hint` what to do. */
export type { UnreadableConnection } from '../connection/unreadable.js';

/** Where the connections live (what `keygate list --json` prints as `vault`). */
export interface StoreInfo {
  home: string;
  store: 'files' | 'postgres';
  /** The vault's directory, or the database URL without its password. */
  location: string;
  /** The master-key backend, or null while the store holds no connection. */
  key_backend: 'keychain' | 'passphrase' | 'keyfile' | null;
}

/**
 * A live health check of one connection (what `keygate status --json` prints per connection): the
 * token is refreshed if due and shown to the provider's introspection endpoint.
 */
export interface ConnectionStatus extends Omit<Health, 'status'> {
  status: StatusValue;
}

/** Options of {@link Keygate.login}. */
export interface LoginOptions {
  /** Default `default`. */
  connection?: string;
  /** Scopes to request instead of the provider's defaults. Not with `forTools`. */
  scopes?: string[];
  /** Request exactly the scopes these tools need (plus what names the account). Not with `scopes`. */
  forTools?: string[];
  /** Port of the loopback callback server; the redirect URI registered with the provider names it. Default: the `login.port` setting (7998). */
  port?: number;
  /** How long to wait for the browser, in seconds. Default: the `login.timeout` setting (300). */
  timeoutSeconds?: number;
  /** Replace a connection that is already connected. */
  force?: boolean;
  /** Open the URL in a browser (the `BROWSER` command, else the system opener). Default false, whatever the `login.open_browser` setting says: the app shows the link. */
  openBrowser?: boolean;
  /** Ask for missing client credentials on the terminal. Default false (they come from `env` or the store). */
  interactive?: boolean;
  /** Human progress lines (the redirect URI, the URL, the scopes planned for `forTools`). */
  onProgress?: (line: string) => void;
}

/** A login waiting for the user: show `url`, then await `connection`. */
export interface LoginSession {
  /** The provider's name for people, e.g. `Discord`. */
  displayName: string;
  /** The authorization URL to show the user (or the local form for client credentials, when none were found and `interactive` allows it). */
  url: string;
  /** Resolves once the provider redirected back and the tokens are stored; rejects on denial or timeout. */
  connection: Promise<LoggedIn>;
}

/** A connection just made by {@link Keygate.login}. */
export interface LoggedIn extends Connection {
  /** Requested scopes the provider did not grant. */
  missing_scopes: string[];
}

/** A JSON Schema object, as LLM tool-calling APIs take it. */
export type JsonSchema = Record<string, unknown>;

/**
 * One tool, ready for an LLM framework's tool definition: `name`, `description` and `input_schema`
 * (a plain JSON Schema object), plus whether the connection's granted scopes let it be called.
 */
export interface ToolInfo {
  provider: string;
  name: string;
  description: string;
  input_schema: JsonSchema;
  method: string;
  /** The path template under the provider's API base, e.g. `/users/@me/guilds`. */
  path: string;
  /** The base URL and path: where the request goes. */
  url: string;
  /** Which token it sends: the user's, a bot's, or none. */
  auth: 'user' | 'bot' | 'none';
  scopes: string[];
  response: 'json' | 'image';
  deprecated: { replaced_by?: string; reason?: string } | null;
  /** Whether the connection (and the bot connection, for bot tools) can call it now. */
  callable: boolean;
  missing_scopes: string[];
  note: string | null;
  /** The catalogue entry as read from the provider file (parameter locations, errors, auth rules). */
  definition: Tool;
}

/** A provider's tools with the connection they were checked against. */
export interface ToolCatalog {
  provider: string;
  connection: string;
  status: StatusValue;
  granted_scopes: string[];
  tools: ToolInfo[];
}

/** Options of {@link Keygate.call}. */
export interface CallOptions {
  /** The connection to use. Default `default`; for a tool that needs a bot token, the bot connection (`bot`). */
  connection?: string;
  /** Told before each wait (a rate limit, a retry backoff). */
  onWait?: (reason: string, ms: number) => void;
  signal?: AbortSignal;
}

/** What a tool answered: parsed JSON, or an image's bytes. */
export type CallResult =
  { kind: 'json'; status: number; body: unknown } | { kind: 'image'; status: number; bytes: Buffer; contentType: string };

/** Options of {@link Keygate.run}. */
export interface RunOptions {
  /** `<provider>/<name>` values. Default: the default connection of each connected provider (and its bot). */
  connections?: string[];
  /**
   * The child's sandbox (Linux: bubblewrap): `auto` (where the OS offers it, else a warning),
   * `require` (refuse to run without), `off`. Default: the `run.sandbox` setting (`auto`).
   */
  sandbox?: 'auto' | 'require' | 'off';
  /** `inherit` (default) or `pipe` (read `child.stdout` / `child.stderr`, write `child.stdin`). */
  stdio?: 'inherit' | 'pipe';
  /** Variables added to the child's environment (over `env`); credentials in them are still removed. */
  env?: NodeJS.ProcessEnv;
  /** Forward this process's SIGINT, SIGTERM, ... to the child. Default false (the CLI says true). */
  forwardSignals?: boolean;
  /** Print each proxied provider request to `stderr`. */
  verbose?: boolean;
  /** Allow running inside another `keygate run`. */
  allowNested?: boolean;
}

/** A command running behind keygate's proxy. */
export interface RunningCommand {
  /** The child process; when sandboxed, this is bubblewrap, and killing it ends the sandbox and the command in it. */
  child: ChildProcess;
  /**
   * Its exit code (128 + signal when killed by one), once it has exited and the proxy is closed;
   * with `stdio: 'pipe'`, also once its output streams have ended.
   */
  exit: Promise<number>;
}
