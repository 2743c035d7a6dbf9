import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from './helpers.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h.close();
});

describe('POST /api/oauth2/token/revoke', () => {
  it('revoking the access token kills the refresh token too', async () => {
    const tokens = await h.login();
    const res = await h.revoke(tokens.access_token);
    expect(res.status).toBe(200);
    expect(res.json).toEqual({});
    expect((await h.api('/users/@me', tokens.access_token)).status).toBe(401);
    const refresh = await h.token({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token });
    expect(refresh.status).toBe(400);
    expect(refresh.json).toEqual({ error: 'invalid_grant' });
  });

  it('revoking the refresh token kills the access token too', async () => {
    const tokens = await h.login();
    expect((await h.revoke(tokens.refresh_token)).status).toBe(200);
    expect((await h.api('/users/@me', tokens.access_token)).json).toEqual({ message: '401: Unauthorized', code: 0 });
    expect((await h.token({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token })).status).toBe(400);
  });

  it('leaves other authorizations alone', async () => {
    const revoked = await h.login();
    const kept = await h.login();
    await h.revoke(revoked.access_token);
    expect((await h.api('/users/@me', kept.access_token)).status).toBe(200);
  });

  it('answers 200 {} for an unknown token (RFC 7009)', async () => {
    const res = await h.revoke('not-a-token');
    expect(res.status).toBe(200);
    expect(res.json).toEqual({});
  });

  it('answers 401 invalid_client to a bad client, and revokes nothing', async () => {
    const tokens = await h.login();
    const res = await h.revoke(tokens.access_token, { secret: 'wrong' });
    expect(res.status).toBe(401);
    expect(res.json).toEqual({ error: 'invalid_client' });
    expect((await h.api('/users/@me', tokens.access_token)).status).toBe(200);
  });

  it('answers 400 invalid_request without a token', async () => {
    const res = await h.call('/api/v10/oauth2/token/revoke', {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from('123456789012345678:emulator-demo-secret').toString('base64')}`,
      },
      body: 'token_type_hint=access_token',
    });
    expect(res.status).toBe(400);
    expect(res.json.error).toBe('invalid_request');
  });

  it('counts revocations and logs the revoked token by id only', async () => {
    const tokens = await h.login();
    h.emulator.controls.resetCounters();
    await h.revoke(tokens.refresh_token);
    expect(h.emulator.controls.counters().revocations).toBe(1);
    const [entry] = h.emulator.controls.requestLog();
    expect(entry).toMatchObject({
      method: 'POST',
      path: '/api/oauth2/token/revoke',
      status: 200,
      tokenId: expect.stringMatching(/^tok_\d+$/),
    });
  });

  it('revokeAll() revokes every authorization', async () => {
    const a = await h.login();
    const b = await h.login();
    h.emulator.controls.revokeAll();
    expect((await h.api('/users/@me', a.access_token)).status).toBe(401);
    expect((await h.api('/users/@me', b.access_token)).status).toBe(401);
    expect((await h.token({ grant_type: 'refresh_token', refresh_token: b.refresh_token })).json.error).toBe('invalid_grant');
  });
});
