// `keygate login / logout / list / get` end to end: the real CLI, the real callback server and the
// local Discord emulator, with an HTTP client playing the browser.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Emulator } from '../../src/emulator/index.js';
import { DEMO_CLIENT_SECRET } from '../../src/emulator/fixtures.js';
import { request } from 'undici';
import { DEMO_CLIENT_ID } from '../../src/emulator/fixtures.js';
import { runCli, tempHome, type CliResult } from '../helpers/cli.js';
import { freePort, type FakeBrowser } from '../helpers/browser.js';
import { startSession, type Session } from '../helpers/session.js';

let session: Session;
let emulator: Emulator;
let browser: FakeBrowser;
const outputs: string[] = [];

beforeAll(async () => {
  session = await startSession();
  ({ emulator, browser } = session);
});
afterAll(() => session.close());

const envFor = (home: string, extra: NodeJS.ProcessEnv = {}) => session.envFor(home, extra);

/** Runs the CLI; every output is kept for the no-secret-printed check, except `--reveal`'s stdout. */
async function cli(args: string[], env: NodeJS.ProcessEnv): Promise<CliResult> {
  const result = await runCli(args, { env });
  outputs.push(args.includes('--reveal') ? '' : result.stdout, result.stderr);
  return result;
}

async function login(
  home: string,
  args: string[],
  play: (url: string, port: number) => Promise<void>,
  extraEnv: NodeJS.ProcessEnv = {},
): Promise<CliResult> {
  const result = await session.login(home, args, play, extraEnv);
  outputs.push(result.stdout, result.stderr);
  return result;
}

const approve = async (url: string) => {
  const callback = await browser.authorize(url);
  const page = await browser.visit(callback);
  expect(page.status).toBe(200);
  expect(page.body).toContain('Connected');
};

describe('keygate login', () => {
  it('connects with the default scopes and prints the account and granted scopes', async () => {
    const home = tempHome();
    const before = emulator.controls.counters().codeExchanges;
    const r = await login(home, [], async (url) => {
      const parsed = new URL(url);
      // KEYGATE_CONNECT_TO sends discord.com to the emulator; a browser can only follow the real address.
      expect(parsed.origin + parsed.pathname).toBe(`${emulator.origin}/oauth2/authorize`);
      expect(parsed.searchParams.get('response_type')).toBe('code');
      expect(parsed.searchParams.get('code_challenge_method')).toBe('S256');
      expect(parsed.searchParams.get('state')).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(parsed.searchParams.get('scope')).toBe('identify email guilds connections');
      await approve(url);
    });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Redirect URI \(register exactly this with Discord\): http:\/\/127\.0\.0\.1:\d+\/auth\/callback\/oauth/);
    expect(r.stdout).toContain(`(KEYGATE_CONNECT_TO sends discord.com to 127.0.0.1:${emulator.port}, so the browser goes there.)`);
    expect(r.stdout).toContain('Connected discord/default as alice (identify email guilds connections)\n');
    expect(emulator.controls.counters().codeExchanges).toBe(before + 1);

    const status = await cli(['get', 'discord', '--field', 'status'], envFor(home));
    expect(status.stdout).toBe('connected\n');
    const json = JSON.parse((await cli(['get', 'discord', '--json'], envFor(home))).stdout);
    expect(json).toMatchObject({
      provider: 'discord',
      connection: 'default',
      status: 'connected',
      scopes: 'identify email guilds connections',
      account_name: 'alice',
      account_id: '80351110224678912',
    });
    expect(Date.parse(json.expires_at) - Date.now()).toBeGreaterThan(6 * 86_400_000);
    expect(json).not.toHaveProperty('access_token');
    const field = await cli(['get', 'discord', '--field', 'expires_at'], envFor(home));
    expect(field.stdout).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\n$/);

    const list = await cli(['list'], envFor(home));
    expect(list.stdout).toMatch(/discord\s+default\s+connected\s+alice\s+identify email guilds connections\s+expires in 6d/);
    expect(list.stdout).toContain('master key: keyfile');
    const listJson = JSON.parse((await cli(['list', '--json'], envFor(home))).stdout);
    expect(listJson.vault.key_backend).toBe('keyfile');
    expect(listJson.connections).toHaveLength(1);

    // A second login without --force does not replace the connection.
    const again = await cli(['login', 'discord', '--no-browser'], envFor(home));
    expect(again.code).toBe(1);
    expect(again.stderr).toBe(
      'keygate: discord/default is already connected as alice — run `keygate login discord --force` to replace it, or pass --connection <name> for another account\n',
    );
  });

  it('custom scopes and a named connection; the granted scopes are recorded', async () => {
    const home = tempHome();
    const r = await login(home, ['--scopes', 'identify,guilds', '--connection', 'work'], approve);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Connected discord/work as alice (identify guilds)');
    expect((await cli(['get', 'discord', '--connection', 'work', '--field', 'scopes'], envFor(home))).stdout).toBe('identify guilds\n');
    expect((await cli(['get', 'discord', '--field', 'status'], envFor(home))).stdout).toBe('not_connected\n');
  });

  it('an unknown scope is a usage error before anything starts', async () => {
    const r = await cli(['login', 'discord', '--no-browser', '--scopes', 'identify,emial'], envFor(tempHome()));
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('keygate: unknown Discord scope: emial — see `keygate providers inspect discord` for the list\n');
  });

  it('a forged state gets an error page and the real callback still succeeds', async () => {
    const home = tempHome();
    const r = await login(home, [], async (url, port) => {
      const forged = await browser.visit(`http://127.0.0.1:${port}/auth/callback/oauth?code=stolen&state=forged`);
      expect(forged.status).toBe(400);
      expect(forged.body).toContain('Login not recognised');
      const missing = await browser.visit(`http://127.0.0.1:${port}/auth/callback/oauth?code=stolen`);
      expect(missing.status).toBe(400);
      const wrongPath = await browser.visit(`http://127.0.0.1:${port}/`);
      expect(wrongPath.status).toBe(404);
      await approve(url);
    });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Connected discord/default as alice');
  });

  it('refuses a callback whose Host header is not 127.0.0.1/localhost (DNS rebinding)', async () => {
    const home = tempHome();
    const r = await login(home, [], async (url, port) => {
      const callback = await browser.authorize(url);
      const evil = await browser.visit(callback, { host: `evil.example:${port}` });
      expect(evil.status).toBe(421);
      const page = await browser.visit(callback);
      expect(page.status).toBe(200);
    });
    expect(r.code).toBe(0);
  });

  it('denied consent ends the login with exit 1 naming the error', async () => {
    emulator.controls.denyNextConsent();
    const home = tempHome();
    const r = await login(home, [], async (url) => {
      const callback = await browser.authorize(url);
      expect(new URL(callback).searchParams.get('error')).toBe('access_denied');
      const page = await browser.visit(callback);
      expect(page.body).toContain('access_denied');
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /^keygate: Discord did not authorize the login: access_denied .*— run `keygate login discord` again and approve access\n$/,
    );
    expect((await cli(['get', 'discord', '--field', 'status'], envFor(home))).stdout).toBe('not_connected\n');
  });

  it('a wrong client secret is reported as invalid_client before the browser step, and nothing is stored', async () => {
    const home = tempHome();
    const authorizeCalls = emulator.controls.counters().authorizeCalls;
    const r = await login(
      home,
      [],
      async () => {
        throw new Error('the authorize URL must not be printed for a client Discord refuses');
      },
      { DISCORD_CLIENT_SECRET: 'not-the-secret' },
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      `keygate: Discord does not accept client id ${DEMO_CLIENT_ID} with this secret (invalid_client) — check DISCORD_CLIENT_ID and DISCORD_CLIENT_SECRET: they must be the client id and secret on your app's OAuth2 page\n`,
    );
    expect(emulator.controls.counters().authorizeCalls).toBe(authorizeCalls);
    expect((await cli(['get', 'discord', '--field', 'status'], envFor(home))).stdout).toBe('not_connected\n');
  });

  it('times out with the redirect-URI hint when the callback never comes', async () => {
    const port = await freePort();
    const r = await cli(['login', 'discord', '--no-browser', '--port', String(port), '--timeout', '1'], envFor(tempHome()));
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      `keygate: no answer from Discord within 1 s — if the browser showed an error such as "Invalid OAuth2 redirect_uri", register exactly http://127.0.0.1:${port}/auth/callback/oauth in the app's OAuth2 settings (scheme, host, port and path must match; no trailing slash), then run login again\n`,
    );
  });

  it('a port in use is a clear error suggesting --port', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as net.AddressInfo).port;
    try {
      const r = await cli(['login', 'discord', '--no-browser', '--port', String(port)], envFor(tempHome()));
      expect(r.code).toBe(2);
      expect(r.stderr).toBe(
        `keygate: port ${port} on 127.0.0.1 is already in use — stop what is using it, or pass --port <n> (and register http://127.0.0.1:<n>/auth/callback/oauth with the provider)\n`,
      );
    } finally {
      blocker.close();
    }
  });

  it('logout revokes at the provider and deletes the record', async () => {
    const home = tempHome();
    expect((await login(home, [], approve)).code).toBe(0);
    const token = (await cli(['get', 'discord', '--field', 'access_token', '--reveal'], envFor(home))).stdout.trim();
    expect(token.length).toBeGreaterThan(20);
    const before = emulator.controls.counters().revocations;
    const r = await cli(['logout', 'discord'], envFor(home));
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('Logged out discord/default (revoked at Discord)\n');
    expect(emulator.controls.counters().revocations).toBe(before + 1);
    expect((await cli(['get', 'discord', '--field', 'status'], envFor(home))).stdout).toBe('not_connected\n');
    const again = await cli(['logout', 'discord'], envFor(home));
    expect(again.code).toBe(3);
  });

  it('no secret is printed by any command or stored in plain text', async () => {
    const home = tempHome();
    expect((await login(home, [], approve)).code).toBe(0);
    const access = (await cli(['get', 'discord', '--field', 'access_token', '--reveal'], envFor(home))).stdout.trim();
    const refresh = (await cli(['get', 'discord', '--field', 'refresh_token', '--reveal'], envFor(home))).stdout.trim();
    for (const args of [
      ['list'],
      ['list', '--json'],
      ['get', 'discord'],
      ['get', 'discord', '--json'],
      ['providers', 'inspect', 'discord'],
    ])
      await cli(args, envFor(home));
    const secrets = [access, refresh, DEMO_CLIENT_SECRET];
    for (const secret of secrets) {
      expect(secret.length).toBeGreaterThan(10);
      for (const text of outputs) expect(text).not.toContain(secret);
    }
    const files = fs.readdirSync(home, { recursive: true, withFileTypes: true }).filter((d) => d.isFile());
    expect(files.length).toBeGreaterThan(0);
    for (const file of files) {
      const bytes = fs.readFileSync(path.join(file.parentPath, file.name));
      for (const secret of secrets) {
        expect(bytes.includes(Buffer.from(secret))).toBe(false);
        expect(bytes.includes(Buffer.from(Buffer.from(secret).toString('base64')))).toBe(false);
      }
    }
  });

  it('without a TTY but with a browser, asks for the client credentials on a local form', async () => {
    const home = tempHome();
    const port = await freePort();
    emulator.controls.registerRedirectUri(DEMO_CLIENT_ID, `http://127.0.0.1:${port}/auth/callback/oauth`);
    // A graphical session is assumed (DISPLAY), so keygate tries a browser and serves the form.
    const env = envFor(home, { DISCORD_CLIENT_ID: undefined, DISCORD_CLIENT_SECRET: undefined, DISPLAY: ':99' });
    let printed = '';
    let setupSeen!: (url: string) => void;
    const setupUrl = new Promise<string>((resolve) => (setupSeen = resolve));
    const running = runCli(['login', 'discord', '--port', String(port)], {
      env,
      onStdout(chunk) {
        printed += chunk;
        const match = /(http:\/\/127\.0\.0\.1:\d+\/auth\/setup\?state=\S+)/.exec(printed);
        if (match) setupSeen(match[1]);
      },
    });
    const setup = await setupUrl;
    const form = await browser.visit(setup);
    expect(form.status).toBe(200);
    expect(form.body).toContain('name="client_secret" type="password"');
    const state = new URL(setup).searchParams.get('state')!;
    const post = (body: Record<string, string>, headers: Record<string, string> = {}) =>
      request(`http://127.0.0.1:${port}/auth/setup`, {
        method: 'POST',
        body: new URLSearchParams(body).toString(),
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      });
    const forged = await post({ state: 'forged', client_id: DEMO_CLIENT_ID, client_secret: DEMO_CLIENT_SECRET });
    expect(forged.statusCode).toBe(400);
    await forged.body.dump();
    const crossSite = await post(
      { state, client_id: DEMO_CLIENT_ID, client_secret: DEMO_CLIENT_SECRET },
      { origin: 'https://evil.example' },
    );
    expect(crossSite.statusCode).toBe(403);
    await crossSite.body.dump();
    const ok = await post({ state, client_id: DEMO_CLIENT_ID, client_secret: DEMO_CLIENT_SECRET }, { origin: `http://127.0.0.1:${port}` });
    expect(ok.statusCode).toBe(303);
    await ok.body.dump();
    const authorize = String(ok.headers.location);
    expect(authorize.startsWith(`${emulator.origin}/oauth2/authorize?`)).toBe(true);
    expect(new URL(authorize).searchParams.get('client_id')).toBe(DEMO_CLIENT_ID);
    const page = await browser.visit(await browser.authorize(authorize));
    expect(page.status).toBe(200);
    const r = await running;
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('Connected discord/default as alice');
    expect(r.stderr).not.toContain(DEMO_CLIENT_SECRET);
    // The credentials typed in the form were stored (encrypted): the next login needs neither env nor form.
    const second = await login(
      home,
      ['--connection', 'second'],
      async (url) => {
        await browser.visit(await browser.authorize(url));
      },
      { DISCORD_CLIENT_ID: undefined, DISCORD_CLIENT_SECRET: undefined },
    );
    expect(second.code, second.stderr).toBe(0);
  });
});
