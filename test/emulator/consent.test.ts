// The consent page (consent mode 'page'): what a person is shown, and that only its own form, once,
// decides the outcome. The Chromium tests (test/browser/) click through the same page.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packageRoot } from '../../src/home.js';
import { DEMO_REDIRECT_URI, pkce, startHarness, type Harness } from './helpers.js';

let h: Harness;
let clock = Date.now();
beforeAll(async () => {
  h = await startHarness({ consent: 'page', now: () => clock });
});
afterAll(async () => {
  await h.close();
});

const meanings = (
  JSON.parse(fs.readFileSync(path.join(packageRoot, 'providers/discord.json'), 'utf8')) as { oauth2: { scopes: Record<string, string> } }
).oauth2.scopes;

async function showPage(
  params: Record<string, string | null> = {},
): Promise<{ id: string; text: string; headers: Record<string, unknown> }> {
  const res = await h.authorize({ scope: 'identify guilds', ...params });
  expect(res.status).toBe(200);
  const id = /name="consent" value="(\w+)"/.exec(res.text)?.[1];
  expect(id).toMatch(/^\w{32}$/);
  return { id: id!, text: res.text, headers: res.headers };
}

function decide(id: string, decision: string, headers: Record<string, string> = {}) {
  return h.call('/oauth2/authorize', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams({ consent: id, decision }).toString(),
  });
}

describe('the consent page', () => {
  it('names the app, the signed-in user, each scope with its meaning, the redirect, Authorize and Cancel', async () => {
    const { text } = await showPage({ scope: 'identify guilds email' });
    expect(text).toContain('<h1 id="app">Keygate Demo</h1>');
    expect(text).toContain('Signed in as <b id="user">alice</b>');
    for (const scope of ['identify', 'guilds', 'email']) {
      expect(text).toContain(`<b>${scope}</b><br><span class="muted">${meanings[scope].replace(/'/g, '&#39;')}</span>`);
    }
    expect(text).toContain(`redirected outside of Discord to: <span id="redirect">${DEMO_REDIRECT_URI}</span>`);
    expect(text).toMatch(/<button class="cancel" name="decision" value="cancel">Cancel<\/button>/);
    expect(text).toMatch(/<button class="authorize" name="decision" value="authorize">Authorize<\/button>/);
  });

  it('loads and runs nothing: no script, no external resource, a restrictive CSP', async () => {
    const { text, headers } = await showPage();
    expect(text).not.toMatch(/<script|<link|<img|<iframe|\ssrc=|\shref=|url\(/i);
    expect(headers['content-security-policy']).toBe(
      "default-src 'none'; style-src 'unsafe-inline'; form-action 'self' http://127.0.0.1:7998; frame-ancestors 'none'; base-uri 'none'",
    );
    expect(headers).toMatchObject({ 'x-frame-options': 'DENY', 'cache-control': 'no-store', 'referrer-policy': 'same-origin' });
  });

  it('Authorize sends a code for what was asked (PKCE and all) and the state; the consent is single-use', async () => {
    const { verifier, challenge } = pkce();
    const { id } = await showPage({ state: 's&1', code_challenge: challenge, code_challenge_method: 'S256' });
    const res = await decide(id, 'authorize');
    expect(res.status).toBe(303);
    const location = new URL(String(res.headers.location));
    expect(location.origin + location.pathname).toBe(DEMO_REDIRECT_URI);
    expect(location.searchParams.get('state')).toBe('s&1');
    const tokens = await h.token({
      grant_type: 'authorization_code',
      code: location.searchParams.get('code')!,
      redirect_uri: DEMO_REDIRECT_URI,
      code_verifier: verifier,
    });
    expect(tokens.json.scope).toBe('identify guilds');

    const replay = await decide(id, 'authorize');
    expect(replay.status).toBe(400);
    expect(replay.headers.location).toBeUndefined();
    expect(replay.text).toContain('This authorization request has expired');
  });

  it('Cancel sends error=access_denied with the state, and counts a denied consent', async () => {
    const before = h.emulator.controls.counters().consentsDenied;
    const { id } = await showPage({ state: 'st-9' });
    const res = await decide(id, 'cancel');
    expect(res.status).toBe(303);
    const location = new URL(String(res.headers.location));
    expect(Object.fromEntries(location.searchParams)).toEqual({
      error: 'access_denied',
      error_description: 'The resource owner or authorization server denied the request',
      state: 'st-9',
    });
    expect(h.emulator.controls.counters().consentsDenied).toBe(before + 1);
  });

  it('adding a bot: the page names the server, and only Authorize adds the bot', async () => {
    const ask = { scope: 'bot', permissions: '2048', guild_id: '197038439483310086' };
    const cancelled = await showPage(ask);
    expect(cancelled.text).toContain('Adds the bot to <b id="guild">Keygate Lab</b> with permissions 2048');
    expect((await decide(cancelled.id, 'cancel')).status).toBe(303);
    expect(h.emulator.controls.installations()).toEqual([]);

    const { id } = await showPage(ask);
    const res = await decide(id, 'authorize');
    const location = new URL(String(res.headers.location));
    expect(location.searchParams.get('guild_id')).toBe('197038439483310086');
    expect(location.searchParams.get('permissions')).toBe('2048');
    expect(h.emulator.controls.installations()).toEqual([
      { guild_id: '197038439483310086', guild_name: 'Keygate Lab', permissions: '2048' },
    ]);
  });

  it('refuses a submission from another origin, an unknown consent, and one older than ten minutes', async () => {
    const { id } = await showPage();
    const forged = await decide(id, 'authorize', { origin: 'https://evil.example' });
    expect(forged.status).toBe(403);
    expect(forged.headers.location).toBeUndefined();
    expect((await decide('x'.repeat(32), 'authorize')).status).toBe(400);

    clock += 10 * 60 * 1000 + 1;
    const late = await decide(id, 'authorize');
    expect(late.status).toBe(400);
    expect(late.headers.location).toBeUndefined();
  });

  it('still shows the error page, not the consent page, for an unregistered redirect URI, and says how to register it', async () => {
    const res = await h.authorize({ redirect_uri: 'http://127.0.0.1:8000/auth/callback/oauth' });
    expect(res.status).toBe(400);
    expect(res.text).toContain('Invalid OAuth2 redirect_uri');
    expect(res.text).toContain('restart it with --redirect-uri http://127.0.0.1:8000/auth/callback/oauth');
    expect(res.text).not.toContain('name="consent"');
  });
});
