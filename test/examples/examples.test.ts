// The examples run as written against the emulator: compiled by `npm test` (tsc -p examples) and
// started as users start them, with the package importing itself by name through its `exports`.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_CLIENT_ID } from '../../src/emulator/fixtures.js';
import { repoRoot, tempHome } from '../helpers/cli.js';
import { freePort } from '../helpers/browser.js';
import { startSession, type Session } from '../helpers/session.js';

const exec = promisify(execFile);
const dist = path.join(repoRoot, 'examples', 'dist');
let session: Session;

beforeAll(async () => {
  if (!fs.existsSync(path.join(dist, 'orchestrator.js')))
    throw new Error('examples/dist is missing: run `npx tsc -p examples/tsconfig.json` (npm test does)');
  session = await startSession();
});
afterAll(async () => {
  await session?.close();
});

describe('examples/', () => {
  const home = tempHome();

  it('orchestrator.ts: not connected, shows the login link, then runs the agent behind the proxy', async () => {
    const port = await freePort();
    session.emulator.controls.registerRedirectUri(DEMO_CLIENT_ID, `http://127.0.0.1:${port}/auth/callback/oauth`);
    let stdout = '';
    let approved: Promise<unknown> | undefined;
    const running = exec(process.execPath, [path.join(dist, 'orchestrator.js')], {
      env: session.envFor(home, { LOGIN_PORT: String(port) }),
      timeout: 60_000,
    });
    running.child.stdout!.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const url = /Open this link to connect Discord: (\S+)/.exec(stdout)?.[1];
      if (url && !approved) approved = session.browser.authorize(url).then((callback) => session.browser.visit(callback));
    });
    await running;
    await approved;
    expect(stdout).toContain('discord/default is not_connected');
    expect(stdout).toMatch(/Connected as alice \(identify email guilds connections\)/);
    expect(stdout).toMatch(/agent: HTTP 200, I am alice; my token variable holds kgph_… \(a placeholder\)/);
    expect(stdout).toContain('agent exited with 0');
  }, 90_000);

  it('agent-loop.ts: the scripted model calls two tools through keygate and answers from them', async () => {
    const { stdout } = await exec(process.execPath, [path.join(dist, 'agent-loop.js')], { env: session.envFor(home), timeout: 60_000 });
    expect(stdout).toMatch(/tools for the model: \d+ \(.*get_my_user.*\)/);
    expect(stdout).toContain('tool get_my_user({}) -> {"id"');
    expect(stdout).toMatch(/model: You are alice; two of your servers: \S.+\./);
  }, 60_000);
});
