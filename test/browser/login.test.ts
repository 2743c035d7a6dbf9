// The pages keygate shows a person, in a real headless Chromium with JavaScript off: the emulator's
// consent page, the login callback's result page and the /auth/setup client-credentials form. The
// emulator is the real `keygate emulator` command (consent page on), `keygate login` the real CLI,
// and the browser command login runs (BROWSER) hands the URL to Chromium.
//
// KEYGATE_UPDATE_SCREENSHOTS=1 writes the screenshots to docs/screenshots/ (linked from README).
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { Page, Response } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../helpers/browser.js';
import { launchChromium, serverSpki, type Chromium } from '../helpers/chromium.js';
import { bin, cliEnv, repoRoot, runCli, tempHome, type CliResult } from '../helpers/cli.js';

const fakeBrowser = path.join(repoRoot, 'test', 'fixtures', 'fake-browser.mjs');
const shots = process.env.KEYGATE_UPDATE_SCREENSHOTS === '1' ? path.join(repoRoot, 'docs', 'screenshots') : tempHome('keygate-shots-');
const meanings = (
  JSON.parse(fs.readFileSync(path.join(repoRoot, 'providers/discord.json'), 'utf8')) as { oauth2: { scopes: Record<string, string> } }
).oauth2.scopes;
const CALLBACK_CSP = "default-src 'none'; style-src 'unsafe-inline'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'";

let emulator: ChildProcess;
/** The lines `keygate emulator` told us to paste, as an environment. */
let emulatorEnv: Record<string, string>;
let origin: string;
let ports: number[];
let browser: Chromium;

beforeAll(async () => {
  ports = [await freePort(), await freePort(), await freePort()];
  const dir = tempHome('keygate-emu-browser-');
  emulator = spawn(
    process.execPath,
    [bin, 'emulator', '--dir', dir, ...ports.flatMap((p) => ['--redirect-uri', `http://127.0.0.1:${p}/auth/callback/oauth`])],
    {
      env: cliEnv(dir),
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  let banner = '';
  await new Promise<void>((resolve, reject) => {
    emulator.once('exit', (code) => reject(new Error(`keygate emulator exited with ${code}: ${banner}`)));
    emulator.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      banner += chunk;
      if (banner.includes('export DISCORD_CLIENT_SECRET=')) resolve();
    });
  });
  emulatorEnv = Object.fromEntries([...banner.matchAll(/^export (\w+)=(\S+)$/gm)].map((m) => [m[1], m[2]]));
  origin = /^Discord emulator on (https:\/\/127\.0\.0\.1:\d+),/m.exec(banner)![1]!;
  browser = await launchChromium({ trustSpki: await serverSpki(Number(new URL(origin).port)) });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  if (emulator && emulator.exitCode === null) {
    const exited = new Promise((resolve) => emulator.once('exit', resolve));
    emulator.kill('SIGTERM');
    await exited;
  }
});

/** `keygate login discord` with BROWSER set to a command that records the URL it is asked to open. */
function startLogin(port: number, env: NodeJS.ProcessEnv = {}) {
  const home = tempHome();
  const opened = path.join(home, 'opened.log');
  const result = runCli(['login', 'discord', '--port', String(port)], {
    env: cliEnv(home, { ...emulatorEnv, BROWSER: fakeBrowser, FAKE_BROWSER_LOG: opened, ...env }),
    timeoutMs: 60_000,
  });
  return { home, result, opened: () => waitForFile(opened, result) };
}

/** The URL keygate asked the browser command to open. */
async function waitForFile(file: string, result: Promise<CliResult>): Promise<string> {
  let done: CliResult | undefined;
  void result.then((r) => (done = r));
  const end = Date.now() + 30_000;
  while (!fs.existsSync(file)) {
    if (done) throw new Error(`login ended before opening a browser: ${done.stderr}`);
    if (Date.now() > end) throw new Error('login did not open a browser');
    await new Promise((r) => setTimeout(r, 25));
  }
  return fs.readFileSync(file, 'utf8').trim();
}

async function goto(page: Page, url: string): Promise<Response> {
  const response = await page.goto(url);
  expect(response, url).not.toBeNull();
  return response!;
}

/** The consent page, checked for what a person sees, and its headers. */
async function expectConsentPage(page: Page, response: Response, scopes: string[]): Promise<void> {
  expect(response.status()).toBe(200);
  expect(new URL(page.url()).origin).toBe(origin);
  expect(response.headers()['content-security-policy']).toMatch(
    /^default-src 'none'; style-src 'unsafe-inline'; form-action 'self' http:\/\/127\.0\.0\.1:\d+; frame-ancestors 'none'; base-uri 'none'$/,
  );
  expect(await page.title()).toBe('Discord | Authorize access to your account');
  expect(await page.locator('#app').innerText()).toBe('Keygate Demo');
  expect(await page.locator('#user').innerText()).toBe('alice');
  const items = await page.locator('#scopes li').allInnerTexts();
  expect(items.map((t) => t.replace(/\s+/g, ' ').trim())).toEqual(scopes.map((s) => `✓ ${s} ${meanings[s]}`));
  expect(await page.getByRole('button', { name: 'Authorize' }).isVisible()).toBe(true);
  expect(await page.getByRole('button', { name: 'Cancel' }).isVisible()).toBe(true);
}

/** Click a button and wait until the browser has navigated to (and loaded) the page at `prefix`. */
async function click(page: Page, button: string, prefix: string): Promise<Response> {
  const response = page.waitForResponse((r) => r.url().startsWith(prefix));
  await Promise.all([page.waitForURL((u) => u.href.startsWith(prefix)), page.getByRole('button', { name: button }).click()]);
  return response;
}

function expectOnlyLocalRequests(callbackPort: number): void {
  const allowed = [origin, `http://127.0.0.1:${callbackPort}`];
  for (const url of browser.requested) expect(allowed, url).toContain(new URL(url).origin);
}

async function newPage(): Promise<Page> {
  browser.requested.length = 0;
  return browser.context.newPage();
}

describe('in Chromium', () => {
  it('the whole login: keygate opens the URL, consent is clicked, the callback page shows success, the CLI prints Connected', async () => {
    const port = ports[0];
    const login = startLogin(port);
    const url = await login.opened();
    expect(url.startsWith(`${origin}/oauth2/authorize?`), `${url} vs ${origin}`).toBe(true);

    const page = await newPage();
    await expectConsentPage(page, await goto(page, url), ['identify', 'email', 'guilds', 'connections']);
    await page.screenshot({ path: path.join(shots, 'consent.png') });

    const callback = await click(page, 'Authorize', `http://127.0.0.1:${port}/auth/callback/oauth?`);
    expect(callback.status()).toBe(200);
    expect(callback.headers()['content-security-policy']).toBe(CALLBACK_CSP);
    expect(await page.locator('h1').innerText()).toBe('Connected');
    expect(await page.locator('p').innerText()).toBe('keygate connected discord/default as alice. You can close this tab.');
    await page.screenshot({ path: path.join(shots, 'callback-connected.png') });
    expectOnlyLocalRequests(port);
    await page.close();

    const r = await login.result;
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('Connected discord/default as alice (identify email guilds connections)\n');
    const status = await runCli(['get', 'discord', '--field', 'status'], { env: cliEnv(login.home) });
    expect(status.stdout).toBe('connected\n');
  }, 90_000);

  it('a denied consent: Cancel, the callback page says so, the CLI exits 1', async () => {
    const port = ports[1];
    const login = startLogin(port);
    const page = await newPage();
    await expectConsentPage(page, await goto(page, await login.opened()), ['identify', 'email', 'guilds', 'connections']);

    const callback = await click(page, 'Cancel', `http://127.0.0.1:${port}/auth/callback/oauth?`);
    expect(callback.status()).toBe(400);
    expect(callback.headers()['content-security-policy']).toBe(CALLBACK_CSP);
    expect(new URL(page.url()).searchParams.get('error')).toBe('access_denied');
    expect(await page.locator('h1').innerText()).toBe('Login cancelled');
    expect(await page.locator('p').innerText()).toBe('Discord answered: access_denied. You can close this tab.');
    await page.screenshot({ path: path.join(shots, 'callback-denied.png') });
    expectOnlyLocalRequests(port);
    await page.close();

    const r = await login.result;
    expect(r.code).toBe(1);
    expect(r.stdout).not.toContain('Connected');
    expect(r.stderr).toMatch(
      /^keygate: Discord did not authorize the login: access_denied .*— run `keygate login discord` again and approve access\n$/,
    );
  }, 90_000);

  it('the /auth/setup form: client ID and secret typed in, on to consent, then connected', async () => {
    const port = ports[2];
    const { DISCORD_CLIENT_ID: clientId, DISCORD_CLIENT_SECRET: clientSecret } = emulatorEnv;
    const login = startLogin(port, { DISCORD_CLIENT_ID: undefined, DISCORD_CLIENT_SECRET: undefined });
    const url = await login.opened();
    expect(url).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:${port}/auth/setup\\?state=[\\w-]{43}$`));

    const page = await newPage();
    const form = await goto(page, url);
    expect(form.status()).toBe(200);
    expect(form.headers()['content-security-policy']).toBe(
      `default-src 'none'; style-src 'unsafe-inline'; form-action 'self' ${origin}; frame-ancestors 'none'; base-uri 'none'`,
    );
    expect(await page.locator('h1').innerText()).toBe('Discord app credentials');
    expect(await page.locator('body').innerText()).toContain("keygate needs your Discord app's OAuth2 client ID and secret");
    await page.getByLabel('Client ID').fill(clientId);
    await page.getByLabel('Client secret').fill(clientSecret);
    expect(await page.getByLabel('Client secret').getAttribute('type')).toBe('password');
    await page.screenshot({ path: path.join(shots, 'setup.png') });

    const consent = await click(page, 'Continue to Discord', `${origin}/oauth2/authorize?`);
    await expectConsentPage(page, consent, ['identify', 'email', 'guilds', 'connections']);
    expect(new URL(page.url()).searchParams.get('client_id')).toBe(clientId);
    await click(page, 'Authorize', `http://127.0.0.1:${port}/auth/callback/oauth?`);
    expect(await page.locator('h1').innerText()).toBe('Connected');
    expectOnlyLocalRequests(port);
    await page.close();

    const r = await login.result;
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('Connected discord/default as alice');
    expect(r.stdout + r.stderr).not.toContain(clientSecret);
  }, 90_000);
});
