import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TokenResponse } from '../../src/emulator/index.js';
import { DEMO_CLIENT_ID, startHarness, type Harness } from './helpers.js';

let h: Harness;
let all: TokenResponse;
beforeAll(async () => {
  h = await startHarness();
  all = await h.login('identify email guilds connections guilds.members.read');
});
afterAll(async () => {
  await h.close();
});

const UNAUTHORIZED = { message: '401: Unauthorized', code: 0 };

describe('GET /users/@me', () => {
  it('returns the user, with email and verified under the email scope', async () => {
    const res = await h.api('/users/@me', all.access_token);
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({
      id: '80351110224678912',
      username: 'alice',
      global_name: 'Alice',
      discriminator: '0',
      email: 'alice@example.com',
      verified: true,
    });
  });

  it('leaves out email and verified without the email scope', async () => {
    const tokens = await h.login('identify');
    const res = await h.api('/users/@me', tokens.access_token);
    expect(res.json.username).toBe('alice');
    expect(res.json).not.toHaveProperty('email');
    expect(res.json).not.toHaveProperty('verified');
  });

  it('works with the email scope alone', async () => {
    const tokens = await h.login('email');
    expect((await h.api('/users/@me', tokens.access_token)).json.email).toBe('alice@example.com');
  });

  it('is served under /api and /api/v9 too', async () => {
    for (const prefix of ['/api', '/api/v9']) {
      const res = await h.call(`${prefix}/users/@me`, { headers: { authorization: `Bearer ${all.access_token}` } });
      expect(res.status, prefix).toBe(200);
    }
  });

  it('reports another user after setCurrentUser', async () => {
    const h2 = await startHarness({
      users: [
        { id: '1', username: 'alice', global_name: null, email: null },
        { id: '2', username: 'bob', global_name: 'Bob', email: 'bob@example.com' },
      ],
    });
    try {
      h2.emulator.controls.setCurrentUser('2');
      const tokens = await h2.login('identify');
      expect((await h2.api('/users/@me', tokens.access_token)).json).toMatchObject({ id: '2', username: 'bob' });
    } finally {
      await h2.close();
    }
  });
});

describe('bearer token checks', () => {
  it.each([
    ['no Authorization header', undefined],
    ['a malformed header', 'Bearer'],
    ['an unknown token', 'Bearer abc'],
    ['a Bot token', `Bot ${'x'.repeat(30)}`],
    ['Basic credentials', 'Basic eDp5'],
  ])('answers 401 to %s', async (_, header) => {
    const res = await h.call('/api/v10/users/@me', { headers: header ? { authorization: header } : {} });
    expect(res.status).toBe(401);
    expect(res.json).toEqual(UNAUTHORIZED);
  });

  it('accepts the scheme in any case', async () => {
    const res = await h.call('/api/v10/users/@me', { headers: { authorization: `bearer ${all.access_token}` } });
    expect(res.status).toBe(200);
  });

  it('answers 401 to an expired token, and the refresh token still works', async () => {
    const tokens = await h.login('identify');
    h.emulator.controls.expireAllTokens();
    expect((await h.api('/users/@me', tokens.access_token)).json).toEqual(UNAUTHORIZED);
    const refreshed = await h.token({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token });
    expect((await h.api('/users/@me', refreshed.json.access_token)).status).toBe(200);
    all = await h.login('identify email guilds connections guilds.members.read');
  });

  it('answers a missing scope with 401, as Discord does', async () => {
    const tokens = await h.login('identify');
    for (const path of ['/users/@me/guilds', '/users/@me/connections', '/users/@me/guilds/81384788765712384/member']) {
      const res = await h.api(path, tokens.access_token);
      expect(res.status, path).toBe(401);
      expect(res.json).toEqual(UNAUTHORIZED);
    }
    const guildsOnly = await h.login('guilds');
    expect((await h.api('/users/@me', guildsOnly.access_token)).status).toBe(401);
  });

  it('counts 401s and API calls', async () => {
    h.emulator.controls.resetCounters();
    await h.api('/users/@me');
    await h.api('/users/@me', all.access_token);
    expect(h.emulator.controls.counters()).toMatchObject({ apiCalls: 2, unauthorized: 1 });
  });
});

describe('GET /oauth2/@me', () => {
  it('describes the authorization: application, scopes, expiry, user', async () => {
    const res = await h.api('/oauth2/@me', all.access_token);
    expect(res.status).toBe(200);
    expect(res.json.application).toMatchObject({ id: DEMO_CLIENT_ID, name: 'Keygate Demo' });
    expect(res.json.scopes).toEqual(['identify', 'email', 'guilds', 'connections', 'guilds.members.read']);
    expect(res.json.expires).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00$/);
    const days = (Date.parse(res.json.expires) - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(6.9);
    expect(days).toBeLessThanOrEqual(7);
    expect(res.json.user).toMatchObject({ id: '80351110224678912', username: 'alice' });
  });

  it('leaves out the user without identify', async () => {
    const tokens = await h.login('guilds');
    const res = await h.api('/oauth2/@me', tokens.access_token);
    expect(res.status).toBe(200);
    expect(res.json).not.toHaveProperty('user');
  });
});

describe('GET /users/@me/guilds', () => {
  it('lists partial guilds sorted by id', async () => {
    const res = await h.api('/users/@me/guilds', all.access_token);
    expect(res.status).toBe(200);
    expect(res.json.map((g: { id: string }) => g.id)).toEqual(['81384788765712384', '197038439483310086', '613425648685547541']);
    expect(res.json[0]).toEqual({
      id: '81384788765712384',
      name: 'Discord API',
      icon: expect.any(String),
      banner: null,
      owner: false,
      permissions: '104189505',
      features: ['COMMUNITY', 'NEWS'],
    });
  });

  it('pages with after, before and limit', async () => {
    const ids = async (query: string) =>
      (await h.api(`/users/@me/guilds?${query}`, all.access_token)).json.map((g: { id: string }) => g.id);
    expect(await ids('limit=1')).toEqual(['81384788765712384']);
    expect(await ids('after=81384788765712384&limit=1')).toEqual(['197038439483310086']);
    expect(await ids('after=197038439483310086')).toEqual(['613425648685547541']);
    expect(await ids('before=613425648685547541&limit=1')).toEqual(['197038439483310086']);
    expect(await ids('before=81384788765712384')).toEqual([]);
  });

  it('adds approximate counts with with_counts=true', async () => {
    const res = await h.api('/users/@me/guilds?with_counts=true', all.access_token);
    expect(res.json[1]).toMatchObject({ approximate_member_count: 12, approximate_presence_count: 4 });
  });

  it.each(['0', '201', 'ten'])('refuses limit=%s with Invalid Form Body', async (limit) => {
    const res = await h.api(`/users/@me/guilds?limit=${limit}`, all.access_token);
    expect(res.status).toBe(400);
    expect(res.json).toMatchObject({ message: 'Invalid Form Body', code: 50035, errors: { limit: { _errors: [expect.any(Object)] } } });
  });
});

describe('GET /users/@me/guilds/{id}/member', () => {
  it('returns the member object', async () => {
    const res = await h.api('/users/@me/guilds/197038439483310086/member', all.access_token);
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ nick: 'Al', roles: [], user: { id: '80351110224678912' } });
  });

  it('answers 404 Unknown Guild for a guild the user is not in', async () => {
    const res = await h.api('/users/@me/guilds/1/member', all.access_token);
    expect(res.status).toBe(404);
    expect(res.json).toEqual({ message: 'Unknown Guild', code: 10004 });
  });
});

describe('other routes', () => {
  it('lists connections', async () => {
    const res = await h.api('/users/@me/connections', all.access_token);
    expect(res.status).toBe(200);
    expect(res.json.map((c: { type: string }) => c.type)).toEqual(['github', 'steam']);
  });

  it('serves /gateway without a token', async () => {
    const res = await h.api('/gateway');
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ url: 'wss://gateway.discord.gg' });
  });

  it('answers unknown routes with 404 before checking the token', async () => {
    for (const path of ['/api/v10/users/@me/nope', '/api/v10/channels/1/messages', '/nope', '/api/v8/users/@me']) {
      const res = await h.call(path);
      expect(res.status, path).toBe(404);
      expect(res.json).toEqual({ message: '404: Not Found', code: 0 });
    }
  });

  it('answers a wrong method with 405', async () => {
    const res = await h.api('/users/@me', all.access_token, { method: 'DELETE' });
    expect(res.status).toBe(405);
    expect(res.json).toEqual({ message: '405: Method Not Allowed', code: 0 });
  });
});

describe('/api/v10/__echo (upload target)', () => {
  it('reads the whole body and reports its size and sha256', async () => {
    const body = randomBytes(3 * 1024 * 1024 + 7);
    const res = await h.api('/__echo?x=1', all.access_token, {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream', 'x-custom': 'kept' },
      body,
    });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({
      method: 'POST',
      query: 'x=1',
      bytes: body.length,
      sha256: createHash('sha256').update(body).digest('hex'),
      token_id: expect.stringMatching(/^tok_\d+$/),
      headers: { 'content-type': 'application/octet-stream', 'x-custom': 'kept' },
    });
    expect(res.json.headers).not.toHaveProperty('authorization');
  });

  it('requires a valid token', async () => {
    const res = await h.api('/__echo', undefined, { method: 'PUT', body: 'hello' });
    expect(res.status).toBe(401);
  });
});
