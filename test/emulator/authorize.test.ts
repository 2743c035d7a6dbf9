import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_CLIENT_ID, DEMO_REDIRECT_URI, pkce, startHarness, type Harness } from './helpers.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h.close();
});

function expectRedirectToCallback(location: URL | undefined): URL {
  expect(location).toBeDefined();
  expect(`${location!.origin}${location!.pathname}`).toBe(DEMO_REDIRECT_URI);
  return location!;
}

describe('GET /oauth2/authorize', () => {
  it('approves and redirects to the redirect URI with a code and the state, verbatim', async () => {
    const state = 'a b+c/d?e=f&g=%20ü';
    const res = await h.authorize({ state });
    expect(res.status).toBe(302);
    const location = expectRedirectToCallback(res.location);
    expect(location.searchParams.get('code')).toMatch(/^[A-Za-z0-9]{30}$/);
    expect(location.searchParams.get('state')).toBe(state);
  });

  it('omits state when none was sent', async () => {
    const res = await h.authorize({ state: null });
    expect(res.location?.searchParams.has('state')).toBe(false);
    expect(res.location?.searchParams.get('code')).toBeTruthy();
  });

  it.each(['/api', '/api/v10', '/api/v9'])('is also served at %s/oauth2/authorize', async (prefix) => {
    const res = await h.authorize({}, prefix);
    expect(res.status).toBe(302);
    expect(res.location?.searchParams.get('code')).toBeTruthy();
  });

  it('shows a 400 page for an unknown client, without redirecting', async () => {
    const res = await h.authorize({ client_id: '999' });
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    expect(res.headers.location).toBeUndefined();
    expect(res.text).toContain('Unknown Application');
  });

  it.each([
    ['another path', 'http://127.0.0.1:7998/auth/callback/other'],
    ['a trailing slash', `${DEMO_REDIRECT_URI}/`],
    ['localhost for 127.0.0.1', 'http://localhost:7998/auth/callback/oauth'],
    ['another port', 'http://127.0.0.1:7999/auth/callback/oauth'],
  ])('shows "Invalid OAuth2 redirect_uri" for %s, without redirecting', async (_, uri) => {
    const res = await h.authorize({ redirect_uri: uri });
    expect(res.status).toBe(400);
    expect(res.headers.location).toBeUndefined();
    expect(res.text).toContain('Invalid OAuth2 redirect_uri');
  });

  it('accepts a redirect URI registered later, by exact match', async () => {
    const uri = 'http://127.0.0.1:54321/cb';
    expect((await h.authorize({ redirect_uri: uri })).status).toBe(400);
    h.emulator.controls.registerRedirectUri(DEMO_CLIENT_ID, uri);
    const res = await h.authorize({ redirect_uri: uri });
    expect(res.status).toBe(302);
    expect(res.headers.location).toMatch(/^http:\/\/127\.0\.0\.1:54321\/cb\?code=/);
  });

  it('uses the only registered redirect URI when none is given', async () => {
    const res = await h.authorize({ redirect_uri: null, client_id: 'single' }).catch(() => undefined);
    expect(res?.status).toBe(400); // unknown client first
    h.emulator.controls.addClient({ client_id: 'single', client_secret: 's', redirect_uris: ['http://127.0.0.1:1/only'] });
    const ok = await h.authorize({ redirect_uri: null, client_id: 'single' });
    expect(ok.status).toBe(302);
    expect(ok.headers.location).toMatch(/^http:\/\/127\.0\.0\.1:1\/only\?code=/);
  });

  it.each([
    ['an unknown scope', 'identify bogus'],
    ['a scope with the wrong separator', 'identify,email'],
    ['no scope', ''],
    ['a scope Discord reserves for approved apps', 'identify relationships.read'],
  ])('redirects with error=invalid_scope for %s', async (_, scope) => {
    const res = await h.authorize({ scope });
    expect(res.status).toBe(302);
    const location = expectRedirectToCallback(res.location);
    expect(location.searchParams.get('error')).toBe('invalid_scope');
    expect(location.searchParams.get('error_description')).toBe('The requested scope is invalid, unknown, or malformed.');
    expect(location.searchParams.get('state')).toBe('st-123');
    expect(location.searchParams.has('code')).toBe(false);
  });

  it('grants restricted scopes to a client approved for them', async () => {
    h.emulator.controls.addClient({
      client_id: 'approved',
      client_secret: 's',
      redirect_uris: [DEMO_REDIRECT_URI],
      approved_scopes: ['rpc'],
    });
    const res = await h.authorize({ client_id: 'approved', scope: 'identify rpc' });
    expect(res.location?.searchParams.get('code')).toBeTruthy();
  });

  it('redirects with unsupported_response_type for response_type=token, invalid_request when missing', async () => {
    const token = await h.authorize({ response_type: 'token' });
    expect(token.location?.searchParams.get('error')).toBe('unsupported_response_type');
    const missing = await h.authorize({ response_type: null });
    expect(missing.location?.searchParams.get('error')).toBe('invalid_request');
  });

  it.each([
    ['plain PKCE', { code_challenge: pkce().verifier, code_challenge_method: 'plain' }],
    ['a challenge without a method (which means plain)', { code_challenge: pkce().challenge }],
    ['a method without a challenge', { code_challenge_method: 'S256' }],
    ['a malformed S256 challenge', { code_challenge: 'short', code_challenge_method: 'S256' }],
  ])('redirects with error=invalid_request for %s', async (_, params) => {
    const res = await h.authorize(params);
    const location = expectRedirectToCallback(res.location);
    expect(location.searchParams.get('error')).toBe('invalid_request');
    expect(location.searchParams.get('error_description')).toBeTruthy();
    expect(location.searchParams.get('state')).toBe('st-123');
  });

  it('denies the next consent once when told to', async () => {
    h.emulator.controls.denyNextConsent();
    const denied = await h.authorize({ state: 'xyz' });
    expect(denied.status).toBe(302);
    expect(denied.headers.location).toBe(
      `${DEMO_REDIRECT_URI}?error=access_denied&error_description=The+resource+owner+or+authorization+server+denied+the+request&state=xyz`,
    );
    const next = await h.authorize();
    expect(next.location?.searchParams.get('code')).toBeTruthy();
  });

  it('answers 405 to POST', async () => {
    const res = await h.call('/oauth2/authorize', { method: 'POST' });
    expect(res.status).toBe(405);
    expect(res.json).toEqual({ message: '405: Method Not Allowed', code: 0 });
  });

  it('counts authorize calls and denied consents', async () => {
    const before = h.emulator.controls.counters();
    h.emulator.controls.denyNextConsent();
    await h.authorize();
    await h.authorize({ client_id: 'nope' });
    const after = h.emulator.controls.counters();
    expect(after.authorizeCalls - before.authorizeCalls).toBe(2);
    expect(after.consentsDenied - before.consentsDenied).toBe(1);
  });
});
