// The gateway relay under `keygate run`, with plain `ws` clients as the child: zlib-stream frames
// through, RESUME on the resume host READY named, placeholders only ever in IDENTIFY/RESUME tokens,
// Discord's close codes passed on, and a WebSocket to an API host refused instead of downgraded.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, tempHome } from '../helpers/cli.js';
import { startSession, type Session } from '../helpers/session.js';

const script = path.resolve(import.meta.dirname, '..', 'fixtures', 'gateway-scenarios.mjs');
// The bot's own Node (default: the one running the tests). KEYGATE_TEST_CHILD_NODE=<path to node>
// runs the same child on another Node, e.g. 24, while keygate stays on this one.
const childNode = process.env.KEYGATE_TEST_CHILD_NODE ?? process.execPath;
let session: Session;
let home: string;

beforeAll(async () => {
  session = await startSession();
  home = tempHome();
  expect((await session.login(home)).code).toBe(0);
  const { token } = session.emulator.controls.botToken();
  const login = await runCli(['login', 'discord', '--bot'], { env: session.envFor(home, { DISCORD_BOT_TOKEN: token }) });
  expect(login.code, login.stderr).toBe(0);
}, 60_000);
afterAll(() => session.close());

async function scenario(name: string) {
  const res = await runCli(['run', '--', childNode, script, name], { env: session.envFor(home), timeoutMs: 30_000 });
  expect(res.code, res.stderr).toBe(0);
  return res.stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line));
}

describe('gateway relay', () => {
  it('passes zlib-stream frames through and relays RESUME on the resume host READY named', async () => {
    const before = session.emulator.controls.counters();
    const [ready, resumed] = await scenario('compressed-resume');
    expect(ready).toMatchObject({ step: 'ready', hello: 10, t: 'READY', resume: 'wss://gateway-us-east1-b.discord.gg' });
    // Every server message arrived as a binary frame of one zlib stream, inflated by the client.
    expect(ready.frames.binary).toBeGreaterThanOrEqual(2);
    expect(ready.frames.text).toBe(0);
    expect(resumed).toMatchObject({ step: 'resumed', t: 'RESUMED', d: { resumed_on: 'resume_gateway_url' } });
    const after = session.emulator.controls.counters();
    expect(after.gatewayIdentifies - before.gatewayIdentifies).toBe(1);
    expect(after.gatewayResumes - before.gatewayResumes).toBe(1);
  });

  it('a placeholder outside an IDENTIFY/RESUME token, or a user placeholder in IDENTIFY, closes the client and never goes upstream', async () => {
    const before = session.emulator.controls.counters();
    const steps = await scenario('misplaced');
    expect(steps).toEqual([
      { step: 'heartbeat', op: 11 },
      { step: 'presence', close: { code: 4004, reason: 'Authentication failed.' } },
      { step: 'user-identify', close: { code: 4004, reason: 'Authentication failed.' } },
    ]);
    const after = session.emulator.controls.counters();
    // The emulator closes with 4004 itself when a placeholder reaches it: it never did.
    expect(after.gatewayAuthFailures).toBe(before.gatewayAuthFailures);
    expect(after.gatewayIdentifies).toBe(before.gatewayIdentifies);
  });

  it("passes Discord's 4004 on when the real token was reset", async () => {
    const other = tempHome();
    const { token } = session.emulator.controls.botToken();
    expect((await runCli(['login', 'discord', '--bot'], { env: session.envFor(other, { DISCORD_BOT_TOKEN: token }) })).code).toBe(0);
    session.emulator.controls.resetBotToken();
    const res = await runCli(['run', '--', childNode, script, 'bad-token'], { env: session.envFor(other), timeoutMs: 30_000 });
    expect(JSON.parse(res.stdout.trim())).toEqual({ step: 'identify', close: { code: 4004, reason: 'Authentication failed.' } });
    // The emulator got the real (reset) token, not a placeholder: it logged the failure with no token id.
    expect(session.emulator.controls.requestLog().at(-1)).toMatchObject({ method: 'GATEWAY', path: 'IDENTIFY', status: 4004 });
    // Log the current bot back in for the other tests.
    const fresh = session.emulator.controls.botToken().token;
    expect((await runCli(['login', 'discord', '--bot', '--force'], { env: session.envFor(home, { DISCORD_BOT_TOKEN: fresh }) })).code).toBe(
      0,
    );
  });

  it('a WebSocket upgrade to the API host is refused with 501, never sent on as a plain request with a token', async () => {
    const before = session.emulator.controls.requestLog().length;
    const [api] = await scenario('api-upgrade');
    expect(api.status).toBe(501);
    expect(JSON.parse(api.body)).toMatchObject({ error: 'keygate_upgrade_refused' });
    expect(session.emulator.controls.requestLog().length).toBe(before);
  });

  it('a gateway host added by a provider file after login never gets the bot token (the login binding decides)', async () => {
    const other = tempHome();
    const { token } = session.emulator.controls.botToken();
    expect((await runCli(['login', 'discord', '--bot'], { env: session.envFor(other, { DISCORD_BOT_TOKEN: token }) })).code).toBe(0);
    // Edited afterwards (by the user, or by anything that can write KEYGATE_HOME): the relay now
    // serves another host, which the emulator also answers for.
    fs.mkdirSync(path.join(other, 'providers'), { recursive: true });
    fs.writeFileSync(
      path.join(other, 'providers', 'discord.json'),
      JSON.stringify({ bot: { gateway_hosts: ['gateway-us-east1-b.discord.gg'] } }),
    );
    const before = session.emulator.controls.counters();
    const res = await runCli(['run', '--', childNode, script, 'identify-at', 'gateway-us-east1-b.discord.gg'], {
      env: session.envFor(other),
      timeoutMs: 30_000,
    });
    expect(res.code, res.stderr).toBe(0);
    expect(JSON.parse(res.stdout.trim())).toEqual({ step: 'identify-at', close: { code: 4004, reason: 'Authentication failed.' } });
    const after = session.emulator.controls.counters();
    expect(after.gatewayIdentifies).toBe(before.gatewayIdentifies);
    expect(after.gatewayAuthFailures).toBe(before.gatewayAuthFailures);
    expect(res.stderr).toContain('provider file differs from where discord/bot was bound at login');
  });
});
