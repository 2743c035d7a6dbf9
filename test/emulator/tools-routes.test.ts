// The emulator routes the tool catalogue uses, over HTTPS as any client sees them: Discord's
// answers for scopes (401 for a missing one), disabled widgets, unknown ids and bad parameters.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NO_WIDGET_GUILD_ID, WIDGET_GUILD_ID } from '../../src/emulator/tools-fixtures.js';
import { startHarness, type Harness } from './helpers.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.close());

describe('tool routes', () => {
  it('OIDC userinfo needs openid: 401 without it, claims (email with email) with it', async () => {
    const without = h.emulator.controls.issueTokens({ scopes: ['identify', 'email'] });
    expect(await h.api('/oauth2/userinfo', without.access_token)).toMatchObject({
      status: 401,
      json: { message: '401: Unauthorized', code: 0 },
    });
    const withOpenid = h.emulator.controls.issueTokens({ scopes: ['openid', 'email'] });
    const r = await h.api('/oauth2/userinfo', withOpenid.access_token);
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({
      sub: '80351110224678912',
      preferred_username: 'alice',
      email: 'alice@example.com',
      email_verified: true,
    });
  });

  it('entitlements need applications.entitlements (401 otherwise); an unknown application is 10002', async () => {
    const path = '/users/@me/applications/123456789012345678/entitlements';
    expect((await h.api(path, h.emulator.controls.issueTokens({ scopes: ['identify'] }).access_token)).status).toBe(401);
    const token = h.emulator.controls.issueTokens({ scopes: ['applications.entitlements'] }).access_token;
    expect((await h.api(path, token)).json).toHaveLength(3);
    expect(await h.api('/users/@me/applications/42/entitlements', token)).toMatchObject({ status: 404, json: { code: 10002 } });
    expect(await h.api(`${path}?limit=101`, token)).toMatchObject({ status: 400, json: { code: 50035 } });
  });

  it('widgets need no token: enabled → JSON and PNG, disabled → 403 50004, unknown → 404 10004', async () => {
    expect(await h.api(`/guilds/${WIDGET_GUILD_ID}/widget.json`)).toMatchObject({
      status: 200,
      json: { id: WIDGET_GUILD_ID, name: 'Discord API' },
    });
    expect(await h.api(`/guilds/${NO_WIDGET_GUILD_ID}/widget.json`)).toMatchObject({
      status: 403,
      json: { message: 'Widget Disabled', code: 50004 },
    });
    expect(await h.api(`/guilds/${NO_WIDGET_GUILD_ID}/widget.png`)).toMatchObject({ status: 403, json: { code: 50004 } });
    expect(await h.api('/guilds/42/widget.json')).toMatchObject({ status: 404, json: { message: 'Unknown Guild', code: 10004 } });
    const png = await h.api(`/guilds/${WIDGET_GUILD_ID}/widget.png?style=banner4`);
    expect(png.status).toBe(200);
    expect(png.headers['content-type']).toBe('image/png');
    expect(await h.api(`/guilds/${WIDGET_GUILD_ID}/widget.png?style=banner9`)).toMatchObject({
      status: 400,
      json: { code: 50035, errors: { style: {} } },
    });
  });

  it('no-token routes answer a bot token too; GET /users/{id} refuses a Bearer token with 401', async () => {
    const { token } = h.emulator.controls.botToken();
    expect((await h.api('/sticker-packs', undefined, { headers: { authorization: `Bot ${token}` } })).status).toBe(200);
    const user = h.emulator.controls.issueTokens();
    expect((await h.api('/users/80351110224678912', user.access_token)).status).toBe(401);
    expect((await h.api('/users/@me', user.access_token)).json).toMatchObject({ username: 'alice' });
  });

  it('unknown templates and invites are 10057 and 10006', async () => {
    expect(await h.api('/guilds/templates/nope')).toMatchObject({ status: 404, json: { code: 10057 } });
    expect(await h.api('/invites/nope')).toMatchObject({ status: 404, json: { code: 10006 } });
  });
});
