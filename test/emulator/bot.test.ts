// Bot tokens on the emulator's REST API, Reset Token, and the install flow (scope=bot).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_BOT_ID, DEMO_CLIENT_ID, DEMO_REDIRECT_URI } from '../../src/emulator/index.js';
import { pkce, startHarness, type Harness } from './helpers.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h.close();
});

const bot = (token: string) => ({ headers: { authorization: `Bot ${token}` } });

describe('bot token', () => {
  it('GET /users/@me returns the bot user and /applications/@me the application', async () => {
    const { token, token_id } = h.emulator.controls.botToken();
    const me = await h.api('/users/@me', undefined, bot(token));
    expect(me.status).toBe(200);
    expect(me.json).toMatchObject({ id: DEMO_BOT_ID, username: 'keygate-demo', bot: true });
    const app = await h.api('/applications/@me', undefined, bot(token));
    expect(app.status).toBe(200);
    expect(app.json).toMatchObject({ id: DEMO_CLIENT_ID, name: 'Keygate Demo', bot: { id: DEMO_BOT_ID } });
    expect(h.emulator.controls.requestLog().at(-1)).toMatchObject({ path: '/api/v10/applications/@me', status: 200, tokenId: token_id });
  });

  it('GET /gateway/bot gives the gateway URL and session limits; a Bearer token gets 401 there', async () => {
    const { token } = h.emulator.controls.botToken();
    const res = await h.api('/gateway/bot', undefined, bot(token));
    expect(res.json).toMatchObject({ url: 'wss://gateway.discord.gg', shards: 1, session_start_limit: { max_concurrency: 1 } });
    const user = h.emulator.controls.issueTokens();
    expect((await h.api('/gateway/bot', user.access_token)).status).toBe(401);
    expect((await h.api('/applications/@me', user.access_token)).status).toBe(401);
  });

  it('GET /users/{id} needs a bot token; an unknown id is 10013', async () => {
    const { token } = h.emulator.controls.botToken();
    const alice = await h.api('/users/80351110224678912', undefined, bot(token));
    expect(alice.json).toMatchObject({ id: '80351110224678912', username: 'alice' });
    expect(alice.json).not.toHaveProperty('email');
    expect((await h.api('/users/123', undefined, bot(token))).json).toEqual({ message: 'Unknown User', code: 10013 });
    const user = h.emulator.controls.issueTokens();
    expect((await h.api('/users/80351110224678912', user.access_token)).status).toBe(401);
  });

  it('a bot token sent as Bearer, or a user token sent as Bot, is not accepted', async () => {
    const { token } = h.emulator.controls.botToken();
    expect((await h.api('/users/@me', token)).status).toBe(401);
    const user = h.emulator.controls.issueTokens();
    expect((await h.api('/users/@me', undefined, bot(user.access_token))).status).toBe(401);
  });

  it('after Reset Token the old token answers 401 and the new one works', async () => {
    const old = h.emulator.controls.botToken().token;
    const fresh = h.emulator.controls.resetBotToken();
    expect(fresh.token).not.toBe(old);
    expect((await h.api('/users/@me', undefined, bot(old))).status).toBe(401);
    expect((await h.api('/users/@me', undefined, bot(fresh.token))).status).toBe(200);
    expect(h.emulator.controls.botToken().token_id).toBe(fresh.token_id);
  });

  it('the echo target reports the scheme, never the token', async () => {
    const { token, token_id } = h.emulator.controls.botToken();
    const res = await h.api('/__echo', undefined, { method: 'POST', body: 'x', headers: { authorization: `Bot ${token}` } });
    expect(res.json).toMatchObject({ token_id, auth_scheme: 'Bot' });
    expect(res.text).not.toContain(token);
  });
});

describe('install flow (scope=bot)', () => {
  it('adds the bot to the chosen guild; the callback and the token response name it', async () => {
    const { verifier, challenge } = pkce();
    const auth = await h.authorize({
      scope: 'bot applications.commands',
      permissions: '274877975552',
      guild_id: '197038439483310086',
      disable_guild_select: 'true',
      code_challenge: challenge,
      code_challenge_method: 'S256',
    });
    expect(auth.status).toBe(302);
    const params = auth.location!.searchParams;
    expect(params.get('guild_id')).toBe('197038439483310086');
    expect(params.get('permissions')).toBe('274877975552');
    expect(params.get('state')).toBe('st-123');
    const reply = await h.token({
      grant_type: 'authorization_code',
      code: params.get('code')!,
      redirect_uri: DEMO_REDIRECT_URI,
      code_verifier: verifier,
    });
    expect(reply.status).toBe(200);
    expect(reply.json).toMatchObject({
      token_type: 'Bearer',
      scope: 'bot applications.commands',
      guild: { id: '197038439483310086', name: 'Keygate Lab' },
    });
    expect(h.emulator.controls.installations()).toContainEqual({
      guild_id: '197038439483310086',
      guild_name: 'Keygate Lab',
      permissions: '274877975552',
    });
    const { token } = h.emulator.controls.botToken();
    const guilds = await h.api('/users/@me/guilds', undefined, bot(token));
    expect(guilds.json).toEqual([expect.objectContaining({ id: '197038439483310086', permissions: '274877975552' })]);
  });

  it('refuses a guild the user cannot manage, and bad permissions', async () => {
    const denied = await h.authorize({ scope: 'bot', guild_id: '81384788765712384' });
    expect(denied.location?.searchParams.get('error')).toBe('invalid_request');
    const bad = await h.authorize({ scope: 'bot', permissions: '-1' });
    expect(bad.location?.searchParams.get('error_description')).toMatch(/permissions/);
  });

  it('admin routes expose the bot token and Reset Token to out-of-process tests', async () => {
    const res = await h.call('/__emulator/bot-token', { method: 'POST', body: '{}' });
    expect(res.json).toMatchObject({ token: h.emulator.controls.botToken().token, bot_id: DEMO_BOT_ID });
  });
});
