import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TokenResponse } from '../../src/emulator/index.js';
import { DEMO_CLIENT_ID, startHarness, type Harness } from './helpers.js';

let h: Harness;
let tokens: TokenResponse;
beforeAll(async () => {
  h = await startHarness();
  tokens = await h.login();
});
afterAll(async () => {
  await h.close();
});

describe('rateLimitNext', () => {
  it('answers the next n API calls with Discord’s 429 body and headers, then recovers', async () => {
    h.emulator.controls.rateLimitNext(2, 1.5);
    for (let i = 0; i < 2; i++) {
      const res = await h.api('/users/@me', tokens.access_token);
      expect(res.status).toBe(429);
      expect(res.json).toEqual({ message: 'You are being rate limited.', retry_after: 1.5, global: false });
      expect(res.headers).toMatchObject({
        'retry-after': '2',
        'x-ratelimit-limit': '5',
        'x-ratelimit-remaining': '0',
        'x-ratelimit-reset-after': '1.500',
        'x-ratelimit-scope': 'user',
        'x-ratelimit-bucket': expect.any(String),
      });
      expect(Number(res.headers['x-ratelimit-reset'])).toBeCloseTo(Date.now() / 1000 + 1.5, 0);
    }
    expect((await h.api('/users/@me', tokens.access_token)).status).toBe(200);
  });

  it('rate-limits before checking the token, and leaves the token endpoint alone by default', async () => {
    h.emulator.controls.rateLimitNext(1);
    const refreshed = await h.token({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token });
    expect(refreshed.status).toBe(200);
    tokens = refreshed.json;
    const res = await h.api('/users/@me');
    expect(res.status).toBe(429);
    expect(res.json.retry_after).toBe(0.5);
  });

  it('can target the token endpoint', async () => {
    h.emulator.controls.rateLimitNext(1, 0.25, 'token');
    const res = await h.token({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token });
    expect(res.status).toBe(429);
    expect(res.headers['retry-after']).toBe('1');
    expect((await h.api('/users/@me', tokens.access_token)).status).toBe(200);
  });

  it('counts rate-limited answers', async () => {
    h.emulator.controls.resetCounters();
    h.emulator.controls.rateLimitNext(3, 0);
    for (let i = 0; i < 3; i++) await h.api('/gateway');
    expect(h.emulator.controls.counters()).toMatchObject({ rateLimited: 3, apiCalls: 3 });
  });
});

describe('failNext', () => {
  it('applies to the token endpoint by default, not the API', async () => {
    h.emulator.controls.failNext(1);
    expect((await h.api('/users/@me', tokens.access_token)).status).toBe(200);
    const res = await h.token({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token });
    expect(res.status).toBe(503);
  });

  it('can fail API calls with any error status', async () => {
    h.emulator.controls.failNext(1, 500, 'api');
    const res = await h.api('/users/@me', tokens.access_token);
    expect(res.status).toBe(500);
    expect(res.json).toEqual({ message: '500: Internal Server Error', code: 0 });
    expect((await h.api('/users/@me', tokens.access_token)).status).toBe(200);
  });

  it("with routes 'all' counts token and API calls alike", async () => {
    h.emulator.controls.resetCounters();
    h.emulator.controls.failNext(2, 502, 'all');
    expect((await h.api('/gateway')).status).toBe(502);
    expect((await h.revoke('whatever')).status).toBe(502);
    expect((await h.api('/gateway')).status).toBe(200);
    expect(h.emulator.controls.counters().injectedFailures).toBe(2);
  });

  it('rejects bad arguments with the bad value in the message', () => {
    expect(() => h.emulator.controls.failNext(-1)).toThrow('Expected `count` to be a non-negative integer, got `-1` (number)');
    expect(() => h.emulator.controls.failNext(1, 200)).toThrow(/`status`.*`200`/);
    expect(() => h.emulator.controls.rateLimitNext(1, -2)).toThrow(/retryAfterSeconds/);
    expect(() => h.emulator.controls.failNext(1, 503, 'both' as never)).toThrow(/`routes`/);
    expect(() => h.emulator.controls.setTokenLifetime(0)).toThrow(/positive integer/);
  });
});

describe('the request log', () => {
  it('records method, path, status and a token id, never a token, code or query', async () => {
    h.emulator.controls.resetCounters();
    const fresh = await h.login();
    await h.api('/users/@me?with=query', fresh.access_token);
    const log = h.emulator.controls.requestLog();
    expect(log.map((e) => `${e.method} ${e.path} ${e.status}`)).toEqual([
      'GET /oauth2/authorize 302',
      'POST /api/oauth2/token 200',
      'GET /api/v10/users/@me 200',
    ]);
    expect(log[0].tokenId).toBeNull();
    expect(log[1].tokenId).toMatch(/^tok_\d+$/);
    expect(log[2].tokenId).toBe(log[1].tokenId);
    expect(Date.parse(log[0].time)).toBeGreaterThan(Date.now() - 60_000);
    const text = JSON.stringify(log);
    expect(text).not.toContain(fresh.access_token);
    expect(text).not.toContain(fresh.refresh_token);
    expect(text).not.toContain('query');
  });
});

describe('the admin HTTP API', () => {
  const post = (path: string, body?: unknown) =>
    h.call(`/__emulator/${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });

  it('mints tokens, expires and revokes them', async () => {
    const minted = await post('tokens', { scopes: ['identify'] });
    expect(minted.status).toBe(200);
    expect(minted.json).toMatchObject({ token_type: 'Bearer', scope: 'identify' });
    expect((await h.api('/users/@me', minted.json.access_token)).status).toBe(200);

    expect((await post('expire')).json).toEqual({ ok: true });
    expect((await h.api('/users/@me', minted.json.access_token)).status).toBe(401);
    const refreshed = await h.token({ grant_type: 'refresh_token', refresh_token: minted.json.refresh_token });
    expect(refreshed.status).toBe(200);

    await post('revoke');
    expect((await h.api('/users/@me', refreshed.json.access_token)).status).toBe(401);
    tokens = h.emulator.controls.issueTokens();
  });

  it('injects rate limits, failures and denied consent', async () => {
    await post('rate-limit', { count: 1, retry_after: 2.5 });
    expect((await h.api('/gateway')).json.retry_after).toBe(2.5);
    await post('fail', { count: 1, status: 500, routes: 'api' });
    expect((await h.api('/gateway')).status).toBe(500);
    await post('deny-next-consent');
    expect((await h.authorize()).location?.searchParams.get('error')).toBe('access_denied');
  });

  it('registers clients and redirect URIs, sets the token lifetime', async () => {
    await post('clients', { client_id: 'admin-made', client_secret: 'x', redirect_uris: ['http://127.0.0.1:1/a'] });
    await post('redirect-uris', { client_id: 'admin-made', redirect_uri: 'http://127.0.0.1:1/b' });
    const res = await h.authorize({ client_id: 'admin-made', redirect_uri: 'http://127.0.0.1:1/b' });
    expect(res.status).toBe(302);
    await post('token-lifetime', { seconds: 120 });
    expect((await post('tokens', {})).json.expires_in).toBe(120);
    await post('token-lifetime', { seconds: 604800 });
  });

  it('reports counters and the log, and resets them; admin calls are not counted', async () => {
    expect((await post('reset')).status).toBe(200);
    await h.api('/gateway');
    const counters = await h.call('/__emulator/counters');
    expect(counters.json).toMatchObject({ apiCalls: 1, authorizeCalls: 0 });
    const log = await h.call('/__emulator/log');
    expect(log.json).toHaveLength(1);
    expect(log.json[0]).toMatchObject({ method: 'GET', path: '/api/v10/gateway', status: 200, tokenId: null });
  });

  it('answers bad input with 400 and the reason', async () => {
    const res = await post('fail', { count: 'two' });
    expect(res.status).toBe(400);
    expect(res.json.error).toContain('`count`');
    expect((await post('tokens', { client_id: 'nobody' })).status).toBe(400);
    expect((await post('redirect-uris', { client_id: DEMO_CLIENT_ID })).status).toBe(400);
    const broken = await h.call('/__emulator/rate-limit', { method: 'POST', body: '{not json' });
    expect(broken.status).toBe(400);
  });

  it('answers unknown admin routes with 404 and wrong methods with 405', async () => {
    expect((await h.call('/__emulator/nope')).status).toBe(404);
    expect((await h.call('/__emulator/counters', { method: 'POST' })).status).toBe(405);
  });
});
