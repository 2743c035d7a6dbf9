// Bot connections end to end, with the built CLI as a real process against the emulator:
// login --bot from DISCORD_BOT_TOKEN, install into a guild through the loopback callback, list/get/
// status/logout, and a token reset showing as revoked with the hint to reset and log in again.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_BOT_ID, DEMO_CLIENT_ID } from '../../src/emulator/index.js';
import { freePort, urlWatcher } from '../helpers/browser.js';
import { runCli, tempHome } from '../helpers/cli.js';
import { startSession, type Session } from '../helpers/session.js';

let session: Session;
beforeAll(async () => {
  session = await startSession();
});
afterAll(async () => {
  await session.close();
});

function cli(home: string, args: string[], extra: NodeJS.ProcessEnv = {}) {
  return runCli(args, { env: session.envFor(home, extra), timeoutMs: 20_000 });
}

/** `keygate install discord ...` with the fake browser approving the consent. */
async function install(home: string, args: string[]) {
  const port = await freePort();
  session.emulator.controls.registerRedirectUri(DEMO_CLIENT_ID, `http://127.0.0.1:${port}/auth/callback/oauth`);
  const watcher = urlWatcher();
  const running = runCli(['install', 'discord', '--no-browser', '--port', String(port), ...args], {
    env: session.envFor(home),
    onStdout: watcher.onStdout,
  });
  const raced = await Promise.race([watcher.url.then((url) => ({ url })), running.then((result) => ({ result }))]);
  if ('result' in raced) return { ...raced.result, url: undefined };
  const callback = await session.browser.authorize(raced.url);
  const page = await session.browser.visit(callback);
  return { ...(await running), url: new URL(raced.url), page };
}

/** Every file under `dir`, as bytes. */
function allBytes(dir: string): Buffer {
  const out: Buffer[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) out.push(fs.readFileSync(path.join(entry.parentPath, entry.name)));
  }
  return Buffer.concat(out);
}

describe('bot connections', () => {
  it('logs a bot in from DISCORD_BOT_TOKEN and installs it into a guild; list and get show it', async () => {
    const home = tempHome();
    const { token } = session.emulator.controls.botToken();
    const login = await cli(home, ['login', 'discord', '--bot'], { DISCORD_BOT_TOKEN: token });
    expect(login.code, login.stderr).toBe(0);
    expect(login.stdout).toContain('Connected discord/bot as keygate-demo, the bot of Keygate Demo (123456789012345678)');

    const result = await install(home, ['--guild', '197038439483310086', '--permissions', '2048']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.url!.searchParams.get('scope')).toBe('bot applications.commands');
    expect(result.url!.searchParams.get('permissions')).toBe('2048');
    expect(result.url!.searchParams.get('disable_guild_select')).toBe('true');
    expect('page' in result ? result.page.body : undefined).toContain('added keygate-demo to Keygate Lab');
    expect(result.stdout).toContain('Installed discord/bot (keygate-demo) in Keygate Lab (197038439483310086) with permissions 2048');
    expect(session.emulator.controls.installations()).toContainEqual({
      guild_id: '197038439483310086',
      guild_name: 'Keygate Lab',
      permissions: '2048',
    });

    const get = await cli(home, ['get', 'discord', '--connection', 'bot', '--json']);
    expect(JSON.parse(get.stdout)).toMatchObject({
      kind: 'bot',
      status: 'connected',
      account_id: DEMO_BOT_ID,
      account_name: 'keygate-demo',
      application_id: DEMO_CLIENT_ID,
      installations: [{ guild_id: '197038439483310086', guild_name: 'Keygate Lab', permissions: '2048' }],
    });
    const human = await cli(home, ['get', 'discord', '--connection', 'bot']);
    expect(human.stdout).toMatch(/installations\s+Keygate Lab \(197038439483310086\), permissions 2048/);
    const list = await cli(home, ['list']);
    expect(list.stdout).toMatch(/discord\s+bot\s+connected\s+keygate-demo \(bot\)\s+servers: Keygate Lab\s+never/);
    expect((await cli(home, ['get', 'discord', '--connection', 'bot', '--field', 'kind'])).stdout).toBe('bot\n');
    const status = await cli(home, ['status', 'discord', '--connection', 'bot']);
    expect(status.code, status.stdout).toBe(0);

    // The token is only ever in the encrypted vault: never printed, never in a file in clear.
    for (const out of [login, result, get, human, list, status]) expect(out.stdout + out.stderr).not.toContain(token);
    expect(allBytes(home).includes(Buffer.from(token))).toBe(false);
  });

  it('a reset token shows as revoked, with the hint to reset it and log in again; --force takes the new one and keeps the installations', async () => {
    const home = tempHome();
    const { token } = session.emulator.controls.botToken();
    expect((await cli(home, ['login', 'discord', '--bot', '--connection', 'helper'], { DISCORD_BOT_TOKEN: token })).code).toBe(0);
    expect((await install(home, ['--connection', 'helper'])).code).toBe(0);
    const fresh = session.emulator.controls.resetBotToken();

    const status = await cli(home, ['status', 'discord', '--connection', 'helper']);
    expect(status.code).toBe(5);
    expect(status.stdout).toMatch(/helper\s+revoked/);
    expect(status.stdout).toContain(
      'reset the token in the Developer Portal (Bot → Reset Token), then run `keygate login discord --bot --connection helper`',
    );
    expect((await cli(home, ['get', 'discord', '--connection', 'helper', '--field', 'status'])).stdout).toBe('revoked\n');
    const get = JSON.parse((await cli(home, ['get', 'discord', '--connection', 'helper', '--json'])).stdout);
    expect(get.hint).toContain('Bot → Reset Token');

    const again = await cli(home, ['login', 'discord', '--bot', '--connection', 'helper', '--force'], { DISCORD_BOT_TOKEN: fresh.token });
    expect(again.code, again.stderr).toBe(0);
    const after = JSON.parse((await cli(home, ['get', 'discord', '--connection', 'helper', '--json'])).stdout);
    expect(after).toMatchObject({ status: 'connected', installations: [{ guild_id: '197038439483310086' }] });
  });

  it('refuses a bad token (exit 5), a missing one without a terminal (exit 1), and a placeholder', async () => {
    const home = tempHome();
    const bad = await cli(home, ['login', 'discord', '--bot'], { DISCORD_BOT_TOKEN: 'MTE3.abcdef.not-a-real-token' });
    expect(bad.code).toBe(5);
    expect(bad.stderr).toMatch(
      /^keygate: Discord refused the bot token \(GET \/users\/@me: HTTP 401\) — copy the token again from the Developer Portal/,
    );
    const missing = await cli(home, ['login', 'discord', '--bot']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('set DISCORD_BOT_TOKEN');
    const placeholder = await cli(home, ['login', 'discord', '--bot'], { DISCORD_BOT_TOKEN: 'kgph_discord_bot_0011' });
    expect(placeholder.code).toBe(2);
    expect((await cli(home, ['get', 'discord', '--connection', 'bot', '--field', 'status'])).stdout).toBe('not_connected\n');
  });

  it('install needs a bot connection; logout deletes it locally and says a bot token is reset in the portal', async () => {
    const home = tempHome();
    const none = await cli(home, ['install', 'discord', '--no-browser']);
    expect(none.code).toBe(3);
    expect(none.stderr).toContain('keygate login discord --bot');
    const { token } = session.emulator.controls.botToken();
    expect((await cli(home, ['login', 'discord', '--bot'], { DISCORD_BOT_TOKEN: token })).code).toBe(0);
    const twice = await cli(home, ['login', 'discord', '--bot'], { DISCORD_BOT_TOKEN: token });
    expect(twice.code).toBe(1);
    expect(twice.stderr).toContain('already connected');
    const logout = await cli(home, ['logout', 'discord', '--connection', 'bot']);
    expect(logout.code).toBe(0);
    expect(logout.stdout).toContain('reset it in the Developer Portal');
    expect((await cli(home, ['get', 'discord', '--connection', 'bot', '--field', 'status'])).stdout).toBe('not_connected\n');
  });
});
