// A provider keygate doesn't bundle, added purely from JSON: the file in test/fixtures/providers/ is
// copied into $KEYGATE_HOME/providers/, its hosts are pointed at the local emulator with
// KEYGATE_CONNECT_TO (the emulator answers for them, with a certificate naming them), and then the
// whole product works for it: login, a child served through the proxy with only a placeholder, and
// a refresh across an expiry, and the tools its file defines. No TypeScript in src/ knows the
// provider's name.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { createDispatcher } from '../../src/net.js';
import { DEMO_CLIENT_ID, DEMO_CLIENT_SECRET } from '../../src/emulator/fixtures.js';
import { startEmulator, type Emulator } from '../../src/emulator/index.js';
import { cliEnv, repoRoot, runCli, tempHome, type CliResult } from '../helpers/cli.js';
import { fakeBrowser, freePort, urlWatcher, type FakeBrowser } from '../helpers/browser.js';

const fixture = path.join(repoRoot, 'test', 'fixtures', 'providers', 'acme.json');
const definition = JSON.parse(fs.readFileSync(fixture, 'utf8'));
const name = path.basename(fixture, '.json');
const hosts = [new URL(definition.oauth2.token_url).hostname, ...definition.api.hosts];
const apiBase: string = definition.api.base_url;

let emulator: Emulator;
let browser: FakeBrowser;
beforeAll(async () => {
  emulator = await startEmulator({ dir: tempHome('keygate-emu-'), hosts });
  browser = fakeBrowser({ connectTo: emulator.connectToAll, caPath: emulator.caPath });
});
afterAll(async () => {
  await browser.close();
  await emulator.stop();
});

function homeWithProvider(): { home: string; env: NodeJS.ProcessEnv } {
  const home = tempHome();
  fs.mkdirSync(path.join(home, 'providers'));
  fs.copyFileSync(fixture, path.join(home, 'providers', `${name}.json`));
  const prefix = name.toUpperCase();
  const env = cliEnv(home, {
    KEYGATE_CONNECT_TO: emulator.connectToAll,
    NODE_EXTRA_CA_CERTS: emulator.caPath,
    [`${prefix}_CLIENT_ID`]: DEMO_CLIENT_ID,
    [`${prefix}_CLIENT_SECRET`]: DEMO_CLIENT_SECRET,
  });
  return { home, env };
}

async function login(env: NodeJS.ProcessEnv): Promise<CliResult> {
  const port = await freePort();
  emulator.controls.registerRedirectUri(DEMO_CLIENT_ID, `http://127.0.0.1:${port}/auth/callback/oauth`);
  const watcher = urlWatcher();
  const running = runCli(['login', name, '--no-browser', '--port', String(port)], { env, onStdout: watcher.onStdout });
  const raced = await Promise.race([watcher.url.then((url) => ({ url })), running.then((result) => ({ result }))]);
  if ('result' in raced) return raced.result;
  // The authorize host is sent to the emulator, so login prints the emulator's own address for a browser.
  expect(new URL(raced.url)).toMatchObject({
    hostname: '127.0.0.1',
    port: String(emulator.port),
    pathname: new URL(definition.oauth2.authorize_url).pathname,
  });
  await browser.visit(await browser.authorize(raced.url));
  return running;
}

function script(source: string): string {
  const file = path.join(tempHome('keygate-client-'), 'client.mjs');
  fs.writeFileSync(file, source);
  return file;
}

describe('a new provider from JSON alone', () => {
  it('no source file names it', () => {
    const named: string[] = [];
    const walk = (dir: string) => {
      for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
        const file = path.join(dir, entry.name);
        if (entry.isDirectory()) walk(file);
        else if (new RegExp(name, 'i').test(fs.readFileSync(file, 'utf8'))) named.push(file);
      }
    };
    walk(path.join(repoRoot, 'src'));
    expect(named).toEqual([]);
  });

  it('the emulator answers for its hosts with a certificate that names them', async () => {
    const dispatcher = createDispatcher({ env: { KEYGATE_CONNECT_TO: emulator.connectToAll }, ca: [emulator.caCertPem] });
    try {
      const res = await request(`${apiBase}/users/@me`, { dispatcher });
      await res.body.text();
      expect(res.statusCode).toBe(401); // TLS verified for the host name; no token, so Discord's 401
    } finally {
      await dispatcher.close();
    }
    await expect(startEmulator({ dir: tempHome('keygate-emu-'), hosts: ['example.com'] })).rejects.toThrow(/under \.test/);
  });

  it('is listed, validates, and works: login, run with injection, refresh across an expiry, its own tools, logout', async () => {
    const { home, env } = homeWithProvider();
    const validated = await runCli(['providers', 'validate', path.join(home, 'providers', `${name}.json`)], { env });
    expect(validated.code, validated.stdout).toBe(0);
    const listed = await runCli(['providers', 'list'], { env });
    expect(listed.stdout).toMatch(new RegExp(`^${name}\\s+${definition.display_name}\\s+custom\\s+oauth2\\s+ok$`, 'm'));

    // Login, with short-lived tokens so the run below crosses an expiry.
    emulator.controls.setTokenLifetime(10);
    let loggedIn: CliResult;
    try {
      loggedIn = await login(env);
    } finally {
      emulator.controls.setTokenLifetime(604800);
    }
    expect(loggedIn.code, loggedIn.stderr).toBe(0);
    expect(loggedIn.stdout).toContain(`Connected ${name}/default as alice (identify guilds)`);
    expect(await runCli(['get', name, '--field', 'status'], { env })).toMatchObject({ code: 0, stdout: 'connected\n' });

    // A child that sees only the placeholder makes one request, then (told by the test, once the
    // token has really expired) another: the proxy refreshes once and both succeed. Synchronised by
    // files, not by timing, so a slow machine only makes it wait longer.
    const loginToken = emulator.controls.requestLog().findLast((e) => e.path === '/api/v10/users/@me' && e.status === 200)?.tokenId;
    expect(loginToken).toBeDefined();
    const before = emulator.controls.counters();
    const logStart = emulator.controls.requestLog().length;
    const expiresAt = Date.parse((await runCli(['get', name, '--field', 'expires_at'], { env })).stdout.trim());
    const go = path.join(tempHome('keygate-go-'), 'go');
    const client = script(`
      import fs from 'node:fs';
      const placeholder = process.env.${definition.injection.placeholder_env};
      if (!placeholder || !placeholder.startsWith('kgph_')) throw new Error('no placeholder: ' + placeholder);
      const me = async () => {
        const res = await fetch('${apiBase}/users/@me', { headers: { authorization: 'Bearer ' + placeholder } });
        return { status: res.status, username: (await res.json()).username };
      };
      const first = await me();
      fs.writeFileSync(${JSON.stringify(go)} + '.ready', '');
      while (!fs.existsSync(${JSON.stringify(go)})) await new Promise((r) => setTimeout(r, 20));
      console.log(JSON.stringify([first, await me()]));
    `);
    let exited = false;
    const running = runCli(['run', '--', process.execPath, client], { env, timeoutMs: 60_000 }).finally(() => (exited = true));
    while (!fs.existsSync(`${go}.ready`) && !exited) await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, Math.max(0, expiresAt + 500 - Date.now())));
    fs.writeFileSync(go, '');
    const run = await running;
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout.trim())).toEqual([
      { status: 200, username: 'alice' },
      { status: 200, username: 'alice' },
    ]);
    const after = emulator.controls.counters();
    expect(after.refreshes - before.refreshes).toBe(1);
    expect(after.invalidGrants - before.invalidGrants).toBe(0);
    const seen = emulator.controls
      .requestLog()
      .slice(logStart)
      .filter((e) => e.path === '/api/v10/users/@me');
    expect(seen.map((e) => e.status)).toEqual([200, 200]);
    expect(seen[1].tokenId).not.toBe(loginToken); // after the expiry: the refreshed token
    expect((await runCli(['get', name, '--field', 'refreshed_at'], { env })).stdout.trim()).not.toBe('');

    const log = JSON.parse((await runCli(['log', '--json'], { env })).stdout);
    expect(log.entries.at(-1)).toMatchObject({
      host: definition.api.hosts[0],
      provider: name,
      connection: 'default',
      action: 'injected',
      status: 200,
    });

    // Tools defined in the file: listed, called through the vault, refused when a scope is missing.
    const tools = JSON.parse((await runCli(['tools', 'list', name, '--json'], { env })).stdout);
    expect(JSON.stringify(tools)).toContain('list_guilds');
    const callsBefore = emulator.controls.requestLog().length;
    const called = await runCli(['call', name, 'list_guilds', '--param', 'limit=1'], { env });
    expect(called.code, called.stderr).toBe(0);
    const guilds = JSON.parse(called.stdout);
    expect(Array.isArray(guilds) && guilds.length).toBe(1);
    const sent = emulator.controls
      .requestLog()
      .slice(callsBefore)
      .filter((e) => e.path.startsWith('/api/v10/users/@me/guilds'));
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({ status: 200 });
    const whoami = await runCli(['call', name, 'whoami'], { env });
    expect(JSON.parse(whoami.stdout)).toMatchObject({ username: 'alice' });
    const bad = await runCli(['call', name, 'list_guilds', '--param', 'limit=500'], { env });
    expect(bad.code).toBe(2);

    const logout = await runCli(['logout', name], { env });
    expect(logout.code, logout.stderr).toBe(0);
    expect(emulator.controls.counters().revocations - after.revocations).toBe(1);
    expect(await runCli(['get', name, '--field', 'status'], { env })).toMatchObject({ code: 0, stdout: 'not_connected\n' });
  }, 60_000);
});
