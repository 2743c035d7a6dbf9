// The data the emulator serves and the shapes its controls report. Field names of data returned on
// the wire (clients, users, guilds, connections) follow Discord's snake_case.

/** An OAuth2 application registered with the emulator. */
export interface EmulatorClient {
  client_id: string;
  client_secret: string;
  /** Matched by exact string comparison, as Discord does. */
  redirect_uris: string[];
  /** Shown by GET /oauth2/@me. Default: "Keygate Demo". */
  name?: string;
  /** Scopes Discord only grants to approved apps (e.g. `rpc`) that this client may request anyway. */
  approved_scopes?: string[];
  /** The application's bot user, if it has one (Developer Portal → Bot). It gets a token at start. */
  bot?: EmulatorBot;
}

/** An application's bot user. */
export interface EmulatorBot {
  id: string;
  username: string;
  /** Bots kept their four-digit discriminators. Default "0000". */
  discriminator?: string;
}

export interface EmulatorGuild {
  id: string;
  name: string;
  icon?: string | null;
  owner?: boolean;
  /** Permission bit set, as a decimal string. */
  permissions?: string;
  features?: string[];
  approximate_member_count?: number;
  approximate_presence_count?: number;
  /** The user's membership, for GET /users/@me/guilds/{id}/member. */
  member?: { nick?: string | null; roles?: string[]; joined_at?: string };
}

export interface EmulatorConnection {
  id: string;
  name: string;
  type: string;
  verified?: boolean;
  visibility?: 0 | 1;
  friend_sync?: boolean;
  show_activity?: boolean;
  two_way_link?: boolean;
  revoked?: boolean;
}

/** A Discord account. The first user is the one signed in to the emulated browser session. */
export interface EmulatorUser {
  id: string;
  username: string;
  global_name: string | null;
  email: string | null;
  verified?: boolean;
  avatar?: string | null;
  locale?: string;
  mfa_enabled?: boolean;
  premium_type?: number;
  flags?: number;
  guilds?: EmulatorGuild[];
  connections?: EmulatorConnection[];
}

/** Which requests a fault injection (failNext, rateLimitNext) applies to. */
export type FaultRoutes = 'token' | 'api' | 'all';

export interface EmulatorCounters {
  /** Calls to the authorize page, whatever their outcome. */
  authorizeCalls: number;
  /** Authorize calls answered with error=access_denied (denyNextConsent). */
  consentsDenied: number;
  /** Every request to the token endpoint. */
  tokenRequests: number;
  /** Successful authorization_code exchanges. */
  codeExchanges: number;
  /** Successful refresh_token grants. */
  refreshes: number;
  /** Token endpoint answers with error=invalid_grant. */
  invalidGrants: number;
  /** Token and revocation endpoint answers with error=invalid_client. */
  invalidClients: number;
  /** Requests to the revocation endpoint answered 200. */
  revocations: number;
  /** Requests to API routes (under /api), including those answered with an error. */
  apiCalls: number;
  /** API answers with 401. */
  unauthorized: number;
  /** Answers with 429 (rateLimitNext). */
  rateLimited: number;
  /** Answers with an injected status (failNext). */
  injectedFailures: number;
  /** WebSocket connections accepted by the gateway. */
  gatewayConnections: number;
  /** IDENTIFYs answered with READY. */
  gatewayIdentifies: number;
  /** RESUMEs answered with RESUMED. */
  gatewayResumes: number;
  /** Gateway connections closed with 4004 (authentication failed). */
  gatewayAuthFailures: number;
}

/** One served request. Never holds a token, a code or a secret: only the emulator's token id. */
export interface RequestLogEntry {
  /** ISO 8601 UTC. */
  time: string;
  method: string;
  /** Path without the query string (which may carry codes and PKCE values). */
  path: string;
  status: number;
  /**
   * The emulator's id for the access token the request presented (API) or obtained (token endpoint),
   * or for the bot token (`bot_<application>_<n>`) of a bot request or a gateway IDENTIFY/RESUME.
   */
  tokenId: string | null;
}

/** Discord's token response, exactly. */
export interface TokenResponse {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  refresh_token: string;
  /** Granted scopes, space-separated. */
  scope: string;
  /** With the `bot` scope: the guild the bot was added to. */
  guild?: Record<string, unknown>;
}
