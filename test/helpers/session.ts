// An emulator plus a fake browser, and a `login` that drives the real CLI through the whole flow.
import { startEmulator, type Emulator } from '../../src/emulator/index.js';
import { DEMO_CLIENT_ID, DEMO_CLIENT_SECRET } from '../../src/emulator/fixtures.js';
import { cliEnv, runCli, tempHome, type CliResult } from './cli.js';
import { fakeBrowser, freePort, urlWatcher, type FakeBrowser } from './browser.js';

export interface Session {
  emulator: Emulator;
  browser: FakeBrowser;
  envFor(home: string, extra?: NodeJS.ProcessEnv): NodeJS.ProcessEnv;
  /** `keygate login discord --no-browser` with `play` acting as the browser once the URL is printed. */
  login(
    home: string,
    args?: string[],
    play?: (url: string, port: number) => Promise<void>,
    extraEnv?: NodeJS.ProcessEnv,
  ): Promise<CliResult>;
  close(): Promise<void>;
}

export async function startSession(options: { tokenLifetimeSeconds?: number } = {}): Promise<Session> {
  const emulator = await startEmulator({ dir: tempHome('keygate-emu-'), tokenLifetimeSeconds: options.tokenLifetimeSeconds });
  const browser = fakeBrowser(emulator);
  const envFor = (home: string, extra: NodeJS.ProcessEnv = {}) =>
    cliEnv(home, {
      KEYGATE_CONNECT_TO: emulator.connectToAll,
      NODE_EXTRA_CA_CERTS: emulator.caPath,
      DISCORD_CLIENT_ID: DEMO_CLIENT_ID,
      DISCORD_CLIENT_SECRET: DEMO_CLIENT_SECRET,
      ...extra,
    });
  const approve = async (url: string) => {
    const callback = await browser.authorize(url);
    await browser.visit(callback);
  };
  return {
    emulator,
    browser,
    envFor,
    async login(home, args = [], play = approve, extraEnv = {}) {
      const port = await freePort();
      emulator.controls.registerRedirectUri(DEMO_CLIENT_ID, `http://127.0.0.1:${port}/auth/callback/oauth`);
      const watcher = urlWatcher();
      const running = runCli(['login', 'discord', '--no-browser', '--port', String(port), ...args], {
        env: envFor(home, extraEnv),
        onStdout: watcher.onStdout,
      });
      const raced = await Promise.race([watcher.url.then((url) => ({ url })), running.then((result) => ({ result }))]);
      if ('result' in raced) return raced.result;
      await play(raced.url, port);
      return running;
    },
    async close() {
      await browser.close();
      await emulator.stop();
    },
  };
}
