// `keygate login` opens the authorize URL through `open` with the browser command in BROWSER, and
// when that fails (no such command, a non-zero exit) it says so and keeps waiting on the URL it
// printed. The browser here is a recording script; test/browser/ drives a real Chromium.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_CLIENT_ID } from '../../src/emulator/fixtures.js';
import { freePort, urlWatcher } from '../helpers/browser.js';
import { repoRoot, runCli, tempHome } from '../helpers/cli.js';
import { startSession, type Session } from '../helpers/session.js';

const fakeBrowser = path.join(repoRoot, 'test', 'fixtures', 'fake-browser.mjs');
let session: Session;
beforeAll(async () => {
  session = await startSession();
});
afterAll(async () => {
  await session.close();
});

async function until<T>(probe: () => T | undefined, ms = 10_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** `keygate login discord` (browser on) with BROWSER=`browser`; approves through the printed URL. */
async function loginWith(browser: string, extra: NodeJS.ProcessEnv = {}) {
  const home = tempHome();
  const log = path.join(home, 'opened.log');
  const port = await freePort();
  session.emulator.controls.registerRedirectUri(DEMO_CLIENT_ID, `http://127.0.0.1:${port}/auth/callback/oauth`);
  const watcher = urlWatcher();
  let stderr = '';
  const running = runCli(['login', 'discord', '--port', String(port)], {
    env: session.envFor(home, { BROWSER: browser, FAKE_BROWSER_LOG: log, ...extra }),
    onStdout: watcher.onStdout,
    onStderr: (chunk) => (stderr += chunk),
  });
  const url = await watcher.url;
  return { url, log, running, stderr: () => stderr };
}

describe('opening the browser', () => {
  it('runs the BROWSER command with the printed URL', async () => {
    const { url, log, running } = await loginWith(fakeBrowser);
    const opened = await until(() => (fs.existsSync(log) ? fs.readFileSync(log, 'utf8') : undefined));
    expect(opened).toBe(`${url}\n`);
    expect(url.startsWith(`${session.emulator.origin}/oauth2/authorize?`)).toBe(true);
    await session.browser.visit(await session.browser.authorize(url));
    const r = await running;
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain('Connected discord/default as alice');
  });

  it.each([
    [
      'exits non-zero',
      fakeBrowser,
      { FAKE_BROWSER_EXIT: '3' },
      /^keygate: could not open a browser \(.*fake-browser\.mjs exited with 3\); open the URL above yourself$/m,
    ],
    [
      'does not exist',
      '/nonexistent/browser',
      {},
      /^keygate: could not open a browser \(spawn \/nonexistent\/browser ENOENT\); open the URL above yourself$/m,
    ],
  ])('when the browser command %s, says so and keeps waiting for the printed URL', async (_, browser, extra, message) => {
    const { url, running, stderr } = await loginWith(browser, extra);
    await until(() => (message.test(stderr()) ? true : undefined));
    // The login is still waiting: the URL printed works.
    await session.browser.visit(await session.browser.authorize(url));
    const r = await running;
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(message);
    expect(r.stdout).toContain('Connected discord/default as alice');
  });
});
