// A real discord.js Client under `keygate run`, with only a placeholder for its token: REST through
// the proxy (Bot <placeholder> → Bot <real>), the gateway WebSocket through the relay (the
// placeholder replaced in IDENTIFY), `ready` against the emulator's gateway, and users.fetch().
// Then byte scans: the real token is in no byte the child could see or leave behind, and the
// emulator saw only the real token (never a placeholder).
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_BOT_ID, DEMO_CLIENT_ID } from '../../src/emulator/index.js';
import { freePort, urlWatcher } from '../helpers/browser.js';
import { runCli, tempHome } from '../helpers/cli.js';
import { startSession, type Session } from '../helpers/session.js';

const bot = path.resolve(import.meta.dirname, '..', 'fixtures', 'discord-bot.mjs');
const ALICE = '80351110224678912';
// The bot's own Node (default: the one running the tests). KEYGATE_TEST_CHILD_NODE=<path to node>
// runs the same child on another Node, e.g. 24, while keygate stays on this one.
const childNode = process.env.KEYGATE_TEST_CHILD_NODE ?? process.execPath;
let session: Session;
let home: string;
let token: string;
let tokenId: string;

beforeAll(async () => {
  session = await startSession();
  home = tempHome();
  ({ token, token_id: tokenId } = session.emulator.controls.botToken());
  const login = await runCli(['login', 'discord', '--bot'], { env: session.envFor(home, { DISCORD_BOT_TOKEN: token }) });
  expect(login.code, login.stderr).toBe(0);
  // Install it into Keygate Lab through the consent, as a user would.
  const port = await freePort();
  session.emulator.controls.registerRedirectUri(DEMO_CLIENT_ID, `http://127.0.0.1:${port}/auth/callback/oauth`);
  const watcher = urlWatcher();
  const running = runCli(['install', 'discord', '--no-browser', '--port', String(port), '--guild', '197038439483310086'], {
    env: session.envFor(home),
    onStdout: watcher.onStdout,
  });
  await session.browser.visit(await session.browser.authorize(await watcher.url));
  const installed = await running;
  expect(installed.code, installed.stderr).toBe(0);
}, 60_000);
afterAll(() => session.close());

/** The token as it could appear in bytes: in clear, base64, base64url, hex. */
function encodings(secret: string): Buffer[] {
  const raw = Buffer.from(secret);
  return [raw, Buffer.from(raw.toString('base64')), Buffer.from(raw.toString('base64url')), Buffer.from(raw.toString('hex'))];
}

function holds(bytes: Buffer, secret: string): boolean {
  return encodings(secret).some((e) => bytes.includes(e));
}

async function runBot(extraArgs: string[], dir?: string) {
  return runCli(['run', ...extraArgs, '--', childNode, bot, ALICE, ...(dir ? [dir] : [])], {
    env: session.envFor(home),
    timeoutMs: 40_000,
  });
}

describe('discord.js under keygate run', () => {
  it('emits ready against the emulator gateway and fetches a user, with only a placeholder (in the default sandbox)', async () => {
    session.emulator.controls.resetCounters();
    const res = await runBot([]);
    expect(res.code, res.stderr).toBe(0);
    const seen = JSON.parse(res.stdout.trim().split('\n').at(-1)!);
    expect(seen).toMatchObject({
      ready: DEMO_BOT_ID,
      tag: 'keygate-demo',
      guilds: ['197038439483310086'],
      fetched: { id: ALICE, username: 'alice' },
    });
    const counters = session.emulator.controls.counters();
    expect(counters.gatewayIdentifies).toBe(1);
    expect(counters.gatewayAuthFailures).toBe(0);
    expect(counters.unauthorized).toBe(0);
  }, 60_000);

  it('the real token only upstream: never in the child’s environment, output or files; the emulator saw only it', async () => {
    session.emulator.controls.resetCounters();
    const dir = tempHome('keygate-bot-files-');
    // Without the sandbox, so nothing but keygate's own design keeps the token from the child.
    const res = await runBot(['--no-sandbox'], dir);
    expect(res.code, res.stderr).toBe(0);
    // Everything the child could see or leave: its output, its environment (as process.env and as
    // /proc/self/environ), discord.js's debug log, and any other file in its directory.
    expect(holds(Buffer.from(res.stdout + res.stderr), token)).toBe(false);
    const files = fs.readdirSync(dir);
    expect(files).toEqual(expect.arrayContaining(['env.json', 'proc-environ', 'debug.log']));
    for (const file of files) expect(holds(fs.readFileSync(path.join(dir, file)), token), file).toBe(false);
    const env = JSON.parse(fs.readFileSync(path.join(dir, 'env.json'), 'utf8')) as Record<string, string>;
    expect(env.DISCORD_BOT_TOKEN).toMatch(/^kgph_discord_bot_[0-9a-f]{32}$/);
    // The emulator: the bot's REST calls and its IDENTIFY all carried the real token.
    const log = session.emulator.controls.requestLog();
    const bot = log.filter((e) => e.path === '/api/v10/gateway/bot' || e.path === `/api/v10/users/${ALICE}` || e.method === 'GATEWAY');
    expect(bot.map((e) => `${e.method} ${e.path}`).sort()).toEqual([
      'GATEWAY IDENTIFY',
      'GET /api/v10/gateway/bot',
      `GET /api/v10/users/${ALICE}`,
    ]);
    for (const entry of bot) expect(entry).toMatchObject({ status: 200, tokenId });
    expect(log.filter((e) => e.status === 401 || e.status === 4004)).toEqual([]);
    // keygate's own request log names the gateway upgrade, never a token.
    const keygateLog = await runCli(['log', '--json'], { env: session.envFor(home) });
    const { entries } = JSON.parse(keygateLog.stdout) as {
      entries: Array<{ host: string; status: number; action: string; connection: string | null }>;
    };
    expect(entries).toContainEqual(
      expect.objectContaining({ host: 'gateway.discord.gg', status: 101, action: 'relayed', connection: 'bot' }),
    );
    expect(holds(Buffer.from(keygateLog.stdout), token)).toBe(false);
  }, 60_000);
});
