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
    account?: { path: string; id_field: string; name_field: string };
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
