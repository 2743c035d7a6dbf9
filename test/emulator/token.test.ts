import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_REDIRECT_URI, pkce, startHarness, type Harness } from './helpers.js';

let h: Harness;
let clock = Date.now();
beforeAll(async () => {
  h = await startHarness({ now: () => clock });
});
afterAll(async () => {
  await h.close();
});

async function codeFor(params: Record<string, string | null> = {}): Promise<string> {
  const res = await h.authorize(params);
  const code = res.location?.searchParams.get('code');
  if (!code) throw new Error(`no code: ${res.headers.location}`);
  return code;
}

async function pkceCode(): Promise<{ code: string; verifier: string }> {
  const { verifier, challenge } = pkce();
  return { code: await codeFor({ code_challenge: challenge, code_challenge_method: 'S256' }), verifier };
}

function exchange(code: string, extra: Record<string, string> = {}, options?: Parameters<Harness['token']>[1]) {
  return h.token({ grant_type: 'authorization_code', code, redirect_uri: DEMO_REDIRECT_URI, ...extra }, options);
}

describe('POST /api/oauth2/token, authorization_code', () => {
  it('answers exactly Discord’s token response', async () => {
    const { code, verifier } = await pkceCode();
    const res = await exchange(code, { code_verifier: verifier });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/json');
    expect(res.headers['cache-control']).toBe('no-store');
    expect(Object.keys(res.json)).toEqual(['access_token', 'token_type', 'expires_in', 'refresh_token', 'scope']);
    expect(res.json).toMatchObject({ token_type: 'Bearer', expires_in: 604800, scope: 'identify email guilds connections' });
    expect(res.json.access_token).toMatch(/^[A-Za-z0-9]{30}$/);
    expect(res.json.refresh_token).toMatch(/^[A-Za-z0-9]{30}$/);
    expect(res.json.access_token).not.toBe(res.json.refresh_token);
  });

  it('grants the requested scopes, deduplicated, in request order', async () => {
    const code = await codeFor({ scope: 'guilds identify guilds' });
    expect((await exchange(code)).json.scope).toBe('guilds identify');
  });

  it('is also served at /api/v10/oauth2/token and authenticates by body', async () => {
    const code = await codeFor();
    const res = await h.call('/api/v10/oauth2/token', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code,
        redirect_uri: DEMO_REDIRECT_URI,
        client_id: DEMO_CLIENT_ID,
        client_secret: DEMO_CLIENT_SECRET,
      }).toString(),
    });
    expect(res.status).toBe(200);
  });

  it.each([
    ['a wrong secret by Basic', { auth: 'basic', secret: 'wrong' }],
    ['a wrong secret in the body', { auth: 'body', secret: 'wrong' }],
    ['no client authentication', { auth: 'none' }],
  ] as const)('answers 401 invalid_client to %s', async (_, options) => {
    const code = await codeFor();
    const res = await exchange(code, {}, options);
    expect(res.status).toBe(401);
    expect(res.json).toEqual({ error: 'invalid_client' });
  });

  it('answers a JSON body as Discord does: 400 unsupported_grant_type', async () => {
    const code = await codeFor();
    const res = await h.call('/api/oauth2/token', {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Basic ${Buffer.from(`${DEMO_CLIENT_ID}:${DEMO_CLIENT_SECRET}`).toString('base64')}`,
      },
      body: JSON.stringify({ grant_type: 'authorization_code', code, redirect_uri: DEMO_REDIRECT_URI }),
    });
    expect(res.status).toBe(400);
    expect(res.json).toEqual({ error: 'unsupported_grant_type', error_description: 'Grant type None is not supported' });
  });

  it('answers unsupported_grant_type to the password grant and to a missing grant_type', async () => {
    const other = await h.token({ grant_type: 'password' });
    expect(other.status).toBe(400);
    expect(other.json.error).toBe('unsupported_grant_type');
    expect((await h.token({})).json.error).toBe('unsupported_grant_type');
  });

  it('refuses a code used twice with invalid_grant', async () => {
    const code = await codeFor();
    expect((await exchange(code)).status).toBe(200);
    const again = await exchange(code);
    expect(again.status).toBe(400);
    expect(again.json).toEqual({ error: 'invalid_grant', error_description: 'Invalid "code" in request.' });
  });

  it('refuses an unknown code and a missing one', async () => {
    expect((await exchange('x'.repeat(30))).json.error).toBe('invalid_grant');
    const missing = await h.token({ grant_type: 'authorization_code', redirect_uri: DEMO_REDIRECT_URI });
    expect(missing.status).toBe(400);
    expect(missing.json.error).toBe('invalid_request');
  });

  it('refuses a code issued to another client', async () => {
    h.emulator.controls.addClient({ client_id: 'other', client_secret: 'other-secret', redirect_uris: [DEMO_REDIRECT_URI] });
    const code = await codeFor({ client_id: 'other' });
    const res = await exchange(code);
    expect(res.status).toBe(400);
    expect(res.json.error).toBe('invalid_grant');
  });

  it('refuses a code after ten minutes', async () => {
    const code = await codeFor();
    clock += 10 * 60 * 1000 + 1;
    const res = await exchange(code);
    expect(res.status).toBe(400);
    expect(res.json.error_description).toBe('Invalid "code" in request.');
  });

  it.each([
    ['a different redirect_uri', { redirect_uri: 'http://127.0.0.1:7998/other' }],
    ['a trailing slash', { redirect_uri: `${DEMO_REDIRECT_URI}/` }],
  ])('refuses %s at the token endpoint with invalid_grant', async (_, extra) => {
    const code = await codeFor();
    const res = await exchange(code, extra);
    expect(res.status).toBe(400);
    expect(res.json).toEqual({ error: 'invalid_grant', error_description: 'Invalid "redirect_uri" in request.' });
  });

  it('refuses a missing redirect_uri when the authorize request had one', async () => {
    const code = await codeFor();
    const res = await h.token({ grant_type: 'authorization_code', code });
    expect(res.json.error).toBe('invalid_grant');
  });

  describe('PKCE', () => {
    it('refuses a missing verifier', async () => {
      const { code } = await pkceCode();
      const res = await exchange(code);
      expect(res.status).toBe(400);
      expect(res.json.error).toBe('invalid_grant');
    });

    it('refuses a verifier that does not hash to the challenge', async () => {
      const { code } = await pkceCode();
      const res = await exchange(code, { code_verifier: pkce().verifier });
      expect(res.status).toBe(400);
      expect(res.json).toEqual({ error: 'invalid_grant', error_description: 'Invalid "code_verifier" in request.' });
    });

    it('refuses verifiers outside 43-128 unreserved characters, even when they hash right', async () => {
      for (const verifier of ['a'.repeat(42), 'a'.repeat(129), `${'a'.repeat(42)}!`]) {
        const { createHash } = await import('node:crypto');
        const challenge = createHash('sha256').update(verifier).digest('base64url');
        const code = await codeFor({ code_challenge: challenge, code_challenge_method: 'S256' });
        const res = await exchange(code, { code_verifier: verifier });
        expect(res.json.error, verifier).toBe('invalid_grant');
      }
    });

    it('accepts the 43- and 128-character extremes', async () => {
      const { createHash } = await import('node:crypto');
      for (const verifier of ['A-._~'.repeat(9).slice(0, 43), 'z'.repeat(128)]) {
        const challenge = createHash('sha256').update(verifier).digest('base64url');
        const code = await codeFor({ code_challenge: challenge, code_challenge_method: 'S256' });
        expect((await exchange(code, { code_verifier: verifier })).status).toBe(200);
      }
    });
  });
});

describe('POST /api/oauth2/token, refresh_token', () => {
  it('rotates: new tokens, and the old refresh token is refused with invalid_grant', async () => {
    const first = await h.login();
    const refreshed = await h.token({ grant_type: 'refresh_token', refresh_token: first.refresh_token });
    expect(refreshed.status).toBe(200);
    expect(refreshed.json).toMatchObject({ token_type: 'Bearer', expires_in: 604800, scope: first.scope });
    expect(refreshed.json.access_token).not.toBe(first.access_token);
    expect(refreshed.json.refresh_token).not.toBe(first.refresh_token);

    const reuse = await h.token({ grant_type: 'refresh_token', refresh_token: first.refresh_token });
    expect(reuse.status).toBe(400);
    expect(reuse.json).toEqual({ error: 'invalid_grant' });

    // The new refresh token works once.
    const next = await h.token({ grant_type: 'refresh_token', refresh_token: refreshed.json.refresh_token });
    expect(next.status).toBe(200);
  });

  it('retires the previous access token: a stale copy gets 401', async () => {
    const first = await h.login();
    expect((await h.api('/users/@me', first.access_token)).status).toBe(200);
    const refreshed = await h.token({ grant_type: 'refresh_token', refresh_token: first.refresh_token });
    expect((await h.api('/users/@me', first.access_token)).status).toBe(401);
    expect((await h.api('/users/@me', refreshed.json.access_token)).status).toBe(200);
  });

  it('refuses another client’s refresh token and a missing one', async () => {
    const tokens = await h.login();
    h.emulator.controls.addClient({ client_id: 'thief', client_secret: 'thief-secret', redirect_uris: [DEMO_REDIRECT_URI] });
    const stolen = await h.call('/api/oauth2/token', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'refresh_token',
        refresh_token: tokens.refresh_token,
        client_id: 'thief',
        client_secret: 'thief-secret',
      }).toString(),
    });
    expect(stolen.json).toEqual({ error: 'invalid_grant' });
    expect((await h.token({ grant_type: 'refresh_token' })).json.error).toBe('invalid_request');
    // The rightful owner can still refresh.
    expect((await h.token({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token })).status).toBe(200);
  });

  it('uses the lifetime in force when the tokens are issued', async () => {
    const tokens = await h.login();
    h.emulator.controls.setTokenLifetime(60);
    try {
      const refreshed = await h.token({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token });
      expect(refreshed.json.expires_in).toBe(60);
    } finally {
      h.emulator.controls.setTokenLifetime(604800);
    }
  });

  it('answers an injected 503 without consuming the refresh token (5xx is not revocation)', async () => {
    const tokens = await h.login();
    h.emulator.controls.failNext(2, 503, 'token');
    for (let i = 0; i < 2; i++) {
      const failed = await h.token({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token });
      expect(failed.status).toBe(503);
      expect(failed.json).toEqual({ message: '503: Service Unavailable', code: 0 });
    }
    const ok = await h.token({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token });
    expect(ok.status).toBe(200);
  });

  it('counts exchanges, refreshes and invalid grants', async () => {
    h.emulator.controls.resetCounters();
    const tokens = await h.login();
    await h.token({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token });
    await h.token({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token });
    await h.token({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token }, { secret: 'bad' });
    expect(h.emulator.controls.counters()).toMatchObject({
      tokenRequests: 4,
      codeExchanges: 1,
      refreshes: 1,
      invalidGrants: 1,
      invalidClients: 1,
    });
  });

  it('answers 405 to GET', async () => {
    expect((await h.call('/api/oauth2/token')).status).toBe(405);
  });
});
