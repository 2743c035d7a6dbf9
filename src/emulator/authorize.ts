// GET /oauth2/authorize: Discord's consent step for the signed-in user, approved at once (consent
// mode 'auto', for tests and the demo) or shown as a page a person answers (mode 'page', consent.ts).
// The order of checks follows RFC 6749 §4.1.2.1: while the client or the redirect URI is in doubt
// the user sees an error page and is never sent anywhere; once the redirect URI is trusted, every
// other problem goes back to it as `error=...&error_description=...&state=...`.
import { canManage } from './bots.js';
import { showConsent, errorPage as consentErrorPage } from './consent.js';
import { redirect, type Exchange } from './http.js';
import type { EmulatorState, PendingConsent } from './state.js';
import { KNOWN_SCOPES, RESTRICTED_SCOPES } from './scopes.js';

const S256_CHALLENGE = /^[A-Za-z0-9_-]{43}$/;

export function authorize(ex: Exchange): void {
  const { state } = ex;
  state.counters.authorizeCalls++;
  const params = new URLSearchParams(ex.query);

  const clientId = params.get('client_id') ?? '';
  const client = state.clients.get(clientId);
  if (!client) {
    return errorPage(ex, 'Unknown Application', `No application has the client_id "${clientId}".`);
  }
  // Discord compares redirect URIs as exact strings: no normalisation, no prefix matching.
  const requested = params.get('redirect_uri');
  const only = client.redirect_uris.length === 1 ? client.redirect_uris[0] : undefined;
  const redirectUri = requested === null ? only : client.redirect_uris.includes(requested) ? requested : undefined;
  if (redirectUri === undefined) {
    const fix = requested === null ? '' : ` To register it with this emulator, restart it with --redirect-uri ${requested}.`;
    return errorPage(ex, 'Invalid OAuth2 redirect_uri', `The redirect_uri is not registered for this application.${fix}`);
  }

  const stateParam = params.get('state');
  const fail = (error: string, description: string) =>
    redirect(ex, withParams(redirectUri, { error, error_description: description, state: stateParam }));

  const responseType = params.get('response_type');
  if (responseType === null) return fail('invalid_request', 'Missing "response_type" in request.');
  if (responseType !== 'code') {
    return fail('unsupported_response_type', 'The authorization server does not support this response_type.');
  }

  const scopes = [...new Set((params.get('scope') ?? '').split(/\s+/).filter(Boolean))];
  const approved = new Set(client.approved_scopes ?? []);
  const badScope = scopes.some((s) => !KNOWN_SCOPES.has(s) || (RESTRICTED_SCOPES.has(s) && !approved.has(s)));
  if (scopes.length === 0 || badScope) {
    return fail('invalid_scope', 'The requested scope is invalid, unknown, or malformed.');
  }

  // PKCE (RFC 7636): Discord supports S256 only. A challenge without a method means `plain`.
  const challenge = params.get('code_challenge');
  const method = params.get('code_challenge_method');
  if (challenge !== null || method !== null) {
    if (challenge === null) return fail('invalid_request', 'Missing "code_challenge" in request.');
    if (method !== 'S256') return fail('invalid_request', 'Transform algorithm not supported.');
    if (!S256_CHALLENGE.test(challenge)) return fail('invalid_request', 'Invalid "code_challenge" in request.');
  }

  if (state.denyConsents > 0) {
    state.denyConsents--;
    state.counters.consentsDenied++;
    return fail('access_denied', 'The resource owner or authorization server denied the request');
  }

  // Adding a bot: the user picks a guild they manage (or the one guild_id names) and approves the
  // permissions; the bot joins then, and the callback names the guild and the permissions granted.
  let install: PendingConsent['install'];
  if (scopes.includes('bot')) {
    if (!client.bot) return fail('invalid_request', 'This application has no bot user.');
    const permissions = params.get('permissions') ?? '0';
    if (!/^\d{1,20}$/.test(permissions)) return fail('invalid_request', 'Invalid "permissions" in request.');
    const guilds = state.users.get(state.currentUserId)?.guilds ?? [];
    const wanted = params.get('guild_id');
    const guild = wanted === null ? guilds.find(canManage) : guilds.find((g) => g.id === wanted);
    if (!guild || !canManage(guild)) {
      return fail(
        'invalid_request',
        wanted === null ? 'You do not manage any server to add this bot to.' : 'You cannot add bots to that server.',
      );
    }
    install = { guild, permissions };
  }

  const consent = {
    code: { clientId, userId: state.currentUserId, redirectUri: requested, scopes, challenge },
    redirectUri,
    state: stateParam,
    install,
  };
  if (state.consentMode === 'page') return showConsent(ex, consent);
  redirect(ex, approve(state, consent));
}

/** The user said yes: install the bot if one was asked for, issue the code, and build the redirect. */
export function approve(state: EmulatorState, consent: Omit<PendingConsent, 'expiresAt'>): string {
  const { install } = consent;
  if (install) state.bots.install(consent.code.clientId, install.guild, install.permissions, state.now());
  const code = state.issueCode({ ...consent.code, guildId: install?.guild.id });
  return withParams(consent.redirectUri, {
    code,
    state: consent.state,
    guild_id: install?.guild.id ?? null,
    permissions: install?.permissions ?? null,
  });
}

/** The redirect URI with parameters added; `state` is echoed verbatim, and omitted if absent. */
export function withParams(uri: string, params: Record<string, string | null>): string {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return uri;
  }
  for (const [name, value] of Object.entries(params)) {
    if (value !== null) url.searchParams.append(name, value);
  }
  return url.toString();
}

function errorPage(ex: Exchange, title: string, detail: string): void {
  consentErrorPage(ex, 400, title, detail);
}
