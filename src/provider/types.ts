// The provider definition format (see providers/schema.json, the source of truth for validation).

export interface ProviderDefinition {
  /** The file name without .json; not stored in the file. */
  name: string;
  display_name: string;
  auth_type: 'oauth2';
  oauth2: {
    authorize_url: string;
    token_url: string;
    revocation_url?: string;
    client_auth: 'basic' | 'body';
    pkce: boolean;
    scope_separator?: ' ' | ',';
    default_scopes: string[];
    scopes?: Record<string, string>;
  };
  api: {
    base_url: string;
    /** Hosts the proxy may intercept and inject into. */
    hosts: string[];
    /** Requests whose path starts with this may carry the credential (default `/`), e.g. `/api/`. */
    path_prefix?: string;
    /** `scopes`: what the token needs for this call (login --for-tools adds them). */
    account?: { path: string; id_field: string; name_field: string; scopes?: string[] };
    introspection?: { path: string };
  };
  injection: {
    header: string;
    /** e.g. "Bearer {token}" */
    format: string;
    placeholder_env: string;
  };
  /** Bot credentials (`keygate login <provider> --bot`, `keygate install`); absent for providers without bots. */
  bot?: BotDefinition;
  /** Named API calls (`keygate call`, MCP), by tool name. See src/tools/. */
  tools?: Record<string, ToolDefinition>;
  /** Where the effective definition came from. */
  source: 'bundled' | 'custom';
  /** Files that made it, bundled first. */
  files: string[];
}

export interface BotDefinition {
  /** Header value for a bot token, e.g. "Bot {token}" (same header as the injection). */
  format: string;
  /** Where `login --bot` reads the token, and the placeholder variable under `run`, e.g. DISCORD_BOT_TOKEN. */
  placeholder_env: string;
  /** The connection `login --bot` and `install` use without --connection, e.g. "bot". */
  default_connection: string;
  /** Who the bot is: a GET relative to api.base_url with the bot token. */
  account: { path: string; id_field: string; name_field: string };
  /** Which application it belongs to. */
  application?: { path: string; id_field: string; name_field: string };
  /** The install consent (authorize URL with these scopes; `permissions` and `guild_id` parameters). */
  install?: { scopes: string[] };
  /** WebSocket hosts the bot token reaches in IDENTIFY/RESUME payloads (the proxy relays them). */
  gateway_hosts?: string[];
}

/** Whose credential a tool call sends: the user's OAuth2 token, none at all, or a bot token. */
export type ToolAuth = 'user' | 'none' | 'bot';

/** One parameter, a JSON Schema subset plus `in` (where it goes in the request). */
export interface ToolParameter {
  type: 'string' | 'integer' | 'number' | 'boolean' | 'array';
  /** Default: `path` when the path template names it (`{name}`), else `query`. */
  in?: 'path' | 'query';
  description?: string;
  enum?: Array<string | number | boolean>;
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  /** For `array` (sent as a comma-separated list). */
  items?: Omit<ToolParameter, 'in' | 'items'>;
  minItems?: number;
  maxItems?: number;
  /** Documentation only: what the provider assumes when the parameter is left out. */
  default?: unknown;
}

/** A tool as written in the provider file (defaults filled in by src/tools/catalogue.ts). */
export interface ToolDefinition {
  description: string;
  method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Relative to api.base_url, with `{name}` for path parameters. */
  path: string;
  parameters?: { type?: 'object'; properties?: Record<string, ToolParameter>; required?: string[] };
  /** Default `user`. */
  auth?: ToolAuth;
  /** Scopes the user token needs, all of them. Default none. */
  scopes?: string[];
  /** Scopes that change the answer but are not needed, with what each adds. */
  optional_scopes?: Record<string, string>;
  /** Exceptions by parameter value, first match wins: e.g. `user_id` `@me` needs a user token. */
  auth_when?: Array<{ params: Record<string, string | number | boolean>; auth: ToolAuth; scopes?: string[] }>;
  /** Default `json`. */
  response?: 'json' | 'image';
  deprecated?: { replaced_by?: string; reason?: string };
  /** Messages for provider answers by HTTP status, e.g. a 403 the user can fix. */
  errors?: Record<string, { message: string; hint?: string }>;
}
