// POST /api/oauth2/token and /api/oauth2/token/revoke. Error bodies follow RFC 6749 §5.2 with
// Discord's own descriptions where Discord is known to send them.
import { createHash } from 'node:crypto';
import type { EmulatorClient } from './types.js';
import { clientCredentials } from './client-credentials.js';
import { answerFault } from './faults.js';
import { json, mediaType, readBody, type Exchange } from './http.js';
import { OTHER_OWNER_ID, fullGuild } from './payloads.js';

const FORM_LIMIT = 64 * 1024;
const VERIFIER = /^[A-Za-z0-9._~-]{43,128}$/;
// RFC 6749 §5.1: token responses must not be cached.
const NO_STORE = { 'cache-control': 'no-store', pragma: 'no-cache' };

export async function token(ex: Exchange): Promise<void> {
  const { state } = ex;
  state.counters.tokenRequests++;
  const fault = state.takeFault('token');
  if (fault) return answerFault(ex, fault);
  const params = await readForm(ex);
  if (!params) return oauthError(ex, 400, 'invalid_request', 'The request body is too large.');

  // Discord checks the grant type first, so a body that is not a form (JSON, say) reads as having
  // no grant_type at all: 400 unsupported_grant_type "Grant type None is not supported"
  // (discord/discord-api-docs#645, #5249).
  const grantType = params.get('grant_type');
  if (grantType !== 'authorization_code' && grantType !== 'refresh_token' && grantType !== 'client_credentials') {
    return oauthError(ex, 400, 'unsupported_grant_type', `Grant type ${grantType ?? 'None'} is not supported`);
  }
  const client = authenticate(ex, params);
  if (!client) return;
  if (grantType === 'client_credentials') return clientCredentials(ex, params, client);

  if (grantType === 'refresh_token') {
    const refreshToken = params.get('refresh_token');
    if (!refreshToken) return oauthError(ex, 400, 'invalid_request', 'Missing "refresh_token" in request.');
    const tokens = state.refresh(refreshToken, client.client_id);
    // Discord answers a used, revoked or unknown refresh token with a bare {"error": "invalid_grant"}.
    if (!tokens) return invalidGrant(ex);
    state.counters.refreshes++;
    ex.tokenId = state.accessToken(tokens.access_token)?.id ?? null;
    return json(ex, 200, tokens, NO_STORE);
  }

  const value = params.get('code');
  if (!value) return oauthError(ex, 400, 'invalid_request', 'Missing "code" in request.');
  const code = state.findCode(value, client.client_id);
  if (!code) return invalidGrant(ex, 'Invalid "code" in request.');
  // RFC 6749 §4.1.3: the same redirect_uri as on the authorize request, if it carried one.
  const redirectUri = params.get('redirect_uri');
  const redirectOk =
    code.redirectUri === null ? redirectUri === null || client.redirect_uris.includes(redirectUri) : redirectUri === code.redirectUri;
  if (!redirectOk) return invalidGrant(ex, 'Invalid "redirect_uri" in request.');
  if (code.challenge !== null) {
    const verifier = params.get('code_verifier');
    if (verifier === null) return invalidGrant(ex, 'Missing "code_verifier" in request.');
    if (!VERIFIER.test(verifier) || s256(verifier) !== code.challenge) {
      return invalidGrant(ex, 'Invalid "code_verifier" in request.');
    }
  }
  const tokens = state.exchangeCode(value, code);
  state.counters.codeExchanges++;
  ex.tokenId = state.accessToken(tokens.access_token)?.id ?? null;
  // A bot install's answer carries the guild the bot joined.
  const guild = code.guildId === undefined ? undefined : state.users.get(code.userId)?.guilds?.find((g) => g.id === code.guildId);
  json(ex, 200, guild ? { ...tokens, guild: fullGuild(guild, guild.owner ? code.userId : OTHER_OWNER_ID) } : tokens, NO_STORE);
}

/**
 * RFC 7009 revocation. Discord revokes the whole authorization whichever token is sent, and, as the
 * RFC asks, answers 200 for a token it does not know so a client cannot probe for valid tokens.
 */
export async function revoke(ex: Exchange): Promise<void> {
  const { state } = ex;
  const fault = state.takeFault('token');
  if (fault) return answerFault(ex, fault);
  const params = await readForm(ex);
  if (!params) return oauthError(ex, 400, 'invalid_request', 'The request body is too large.');
  const client = authenticate(ex, params);
  if (!client) return;
  const value = params.get('token');
  if (!value) return oauthError(ex, 400, 'invalid_request', 'Missing "token" in request.');
  ex.tokenId = state.revoke(value, client.client_id) ?? null;
  state.counters.revocations++;
  json(ex, 200, {});
}

/** The request's form parameters: empty unless it is application/x-www-form-urlencoded. */
async function readForm(ex: Exchange): Promise<URLSearchParams | undefined> {
  const body = await readBody(ex.req, FORM_LIMIT);
  if (!body) return undefined;
  return mediaType(ex.req) === 'application/x-www-form-urlencoded' ? new URLSearchParams(body.toString('utf8')) : new URLSearchParams();
}

/** Client authentication by HTTP Basic (preferred) or by client_id/client_secret in the body. */
function authenticate(ex: Exchange, params: URLSearchParams): EmulatorClient | undefined {
  const header = ex.req.headers.authorization;
  let id: string | null = params.get('client_id');
  let secret: string | null = params.get('client_secret');
  if (header !== undefined && /^basic /i.test(header)) {
    const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    const basicId = colon === -1 ? null : formDecode(decoded.slice(0, colon));
    // A client_id in the body must agree with the one authenticated (RFC 6749 §2.3.1).
    if (id !== null && id !== basicId) id = null;
    else id = basicId;
    secret = colon === -1 ? null : formDecode(decoded.slice(colon + 1));
  }
  const client = id !== null && secret !== null ? ex.state.authenticateClient(id, secret) : null;
  if (!client) {
    ex.state.counters.invalidClients++;
    oauthError(ex, 401, 'invalid_client');
    return undefined;
  }
  return client;
}

/** RFC 6749 §2.3.1 form-encodes Basic credentials; most clients don't, so fall back to the raw text. */
function formDecode(text: string): string {
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '));
  } catch {
    return text;
  }
}

function s256(verifier: string): string {
  return createHash('sha256').update(verifier).digest('base64url');
}

function invalidGrant(ex: Exchange, description?: string): void {
  ex.state.counters.invalidGrants++;
  oauthError(ex, 400, 'invalid_grant', description);
}

function oauthError(ex: Exchange, status: number, error: string, description?: string): void {
  json(ex, status, description === undefined ? { error } : { error, error_description: description }, NO_STORE);
}
