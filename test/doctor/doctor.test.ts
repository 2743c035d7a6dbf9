// `keygate doctor` against the emulator: every check seen passing and failing, through the real CLI.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator } from '../../src/emulator/index.js';
import { DEMO_CLIENT_ID } from '../../src/emulator/fixtures.js';
import { runCli, tempHome } from '../helpers/cli.js';
import { freePort } from '../helpers/browser.js';
import { startSession, type Session } from '../helpers/session.js';

let session: Session;
beforeAll(async () => {
  session = await startSession();
});
afterAll(() => session.close());

interface Check {
  id: string;
  verdict: 'pass' | 'fail' | 'skip';
  detail: string;
  fix?: string;
}

/** A connected home, and a callback port registered at the emulator for it. */
async function setup(): Promise<{ home: string; port: number; env: NodeJS.ProcessEnv }> {
  const home = tempHome();
  const r = await session.login(home);
  expect(r.code, r.stderr).toBe(0);
  const port = await freePort();
  session.emulator.controls.registerRedirectUri(DEMO_CLIENT_ID, `http://127.0.0.1:${port}/auth/callback/oauth`);
  return { home, port, env: session.envFor(home) };
}

async function doctor(
  env: NodeJS.ProcessEnv,
  port: number,
  args: string[] = [],
): Promise<{ code: number | null; checks: Map<string, Check>; stdout: string }> {
  const r = await runCli(['doctor', '--port', String(port), '--json', ...args], { env });
  expect(r.stderr).toBe('');
  const checks = new Map<string, Check>((JSON.parse(r.stdout).checks as Check[]).map((c) => [c.id, c]));
  return { code: r.code, checks, stdout: r.stdout };
}

describe('keygate doctor', () => {
  it('passes every check on a healthy set-up (exit 0), in human form too', async () => {
    const { home, port, env } = await setup();
    fs.mkdirSync(path.join(home, 'proxy'), { mode: 0o700 });
    fs.copyFileSync(session.emulator.caPath, path.join(home, 'proxy', 'ca.pem'));
    const { code, checks } = await doctor(env, port);
    expect([...checks.values()].filter((c) => c.verdict !== 'pass')).toEqual([]);
    expect([...checks.keys()]).toEqual([
      'home',
      'key',
      'ca.extra',
      'ca.proxy',
      'sandbox',
      'port',
      'discord.client',
      'discord.redirect_uri',
      'discord.clock',
      'discord/default.connection',
    ]);
    expect(code).toBe(0);
    expect(checks.get('discord.redirect_uri')!.detail).toBe(`http://127.0.0.1:${port}/auth/callback/oauth is registered`);
    const human = await runCli(['doctor', '--port', String(port)], { env });
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/^✓ KEYGATE_HOME: /);
    expect(human.stdout).toContain('✓ connection discord/default: connected as alice; token accepted by the provider');
    expect(human.stdout).toContain('All checks passed.');
  });

  it('home: a world-writable KEYGATE_HOME fails with the chmod', async () => {
    const { home, port, env } = await setup();
    fs.chmodSync(home, 0o777);
    const { code, checks } = await doctor(env, port);
    expect(code).toBe(1);
    expect(checks.get('home')).toMatchObject({ verdict: 'fail', fix: `run \`chmod go-w ${home}\`` });
  });

  it('key: a master.key readable by others fails with the chmod; the vault refuses it too', async () => {
    const { home, port, env } = await setup();
    const keyFile = path.join(home, 'vault', 'master.key');
    fs.chmodSync(keyFile, 0o644);
    const { code, checks } = await doctor(env, port);
    expect(code).toBe(1);
    expect(checks.get('key')).toMatchObject({
      verdict: 'fail',
      detail: `${keyFile} is readable or writable by others (mode 0644)`,
      fix: `run \`chmod 600 ${keyFile}\``,
    });
    const status = await runCli(['status'], { env });
    expect(status.code).toBe(1);
    expect(status.stderr).toBe(
      `keygate: master key file ${keyFile} is readable or writable by others (mode 0644); keygate refuses it, as ssh does — run \`chmod 600 ${keyFile}\`\n`,
    );
    execFileSync('sh', ['-c', `chmod 600 ${keyFile}`]);
    expect((await runCli(['status'], { env })).code).toBe(0);
    expect((await doctor(env, port)).checks.get('key')!.verdict).toBe('pass');
  });

  it('key: a wrong passphrase fails with the vault error', async () => {
    const home = tempHome();
    const env = session.envFor(home, { KEYGATE_KEY_BACKEND: 'passphrase', KEYGATE_PASSPHRASE: 'right' });
    const first = await session.login(home, [], undefined, { KEYGATE_KEY_BACKEND: 'passphrase', KEYGATE_PASSPHRASE: 'right' });
    expect(first.code, first.stderr).toBe(0);
    const port = await freePort();
    const { checks } = await doctor({ ...env, KEYGATE_PASSPHRASE: 'wrong' }, port);
    expect(checks.get('key')).toMatchObject({ verdict: 'fail', detail: 'wrong KEYGATE_PASSPHRASE' });
    expect(checks.has('discord/default.connection')).toBe(false);
  });

  it('ca: a NODE_EXTRA_CA_CERTS without a certificate, and a damaged proxy CA, fail', async () => {
    const { home, port, env } = await setup();
    const notPem = path.join(home, 'not-a-ca.pem');
    fs.writeFileSync(notPem, 'hello');
    fs.mkdirSync(path.join(home, 'proxy'), { mode: 0o700 });
    fs.writeFileSync(path.join(home, 'proxy', 'ca.pem'), '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n');
    // keygate's own calls need the emulator CA, so it goes in the same file... minus the certificate.
    const { code, checks } = await doctor({ ...env, NODE_EXTRA_CA_CERTS: notPem }, port);
    expect(code).toBe(1);
    expect(checks.get('ca.extra')).toMatchObject({ verdict: 'fail', detail: `${notPem} holds no PEM certificate` });
    expect(checks.get('ca.proxy')).toMatchObject({ verdict: 'fail', detail: expect.stringContaining('does not parse') });
    // With no trust for the emulator, the provider checks say so, with the CA hint.
    expect(checks.get('discord.client')).toMatchObject({ verdict: 'fail', fix: expect.stringContaining('NODE_EXTRA_CA_CERTS') });
  });

  it('sandbox: no bwrap on PATH fails with how to install it', async () => {
    const { port, env } = await setup();
    const { checks } = await doctor({ ...env, PATH: '/nonexistent' }, port);
    expect(checks.get('sandbox')).toMatchObject({
      verdict: 'fail',
      detail: 'bubblewrap (bwrap) is not installed',
      fix: expect.stringContaining('apt-get install bubblewrap'),
    });
  });

  it('port: a callback port in use fails', async () => {
    const { port, env } = await setup();
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    try {
      const { code, checks } = await doctor(env, port);
      expect(code).toBe(1);
      expect(checks.get('port')).toMatchObject({ verdict: 'fail', detail: `127.0.0.1:${port} is in use (EADDRINUSE)` });
    } finally {
      server.close();
    }
  });

  it('client: a wrong client secret fails (client-credentials grant), before any browser', async () => {
    const home = tempHome();
    const port = await freePort();
    const { code, checks } = await doctor(session.envFor(home, { DISCORD_CLIENT_SECRET: 'wrong' }), port);
    expect(code).toBe(1);
    expect(checks.get('discord.client')).toMatchObject({
      verdict: 'fail',
      detail: `Discord does not accept client id ${DEMO_CLIENT_ID} with this secret (invalid_client) (from DISCORD_CLIENT_ID/_SECRET)`,
      fix: "set DISCORD_CLIENT_ID and DISCORD_CLIENT_SECRET to the values on your app's OAuth2 page",
    });
    const good = await doctor(session.envFor(home), port);
    expect(good.checks.get('discord.client')).toMatchObject({ verdict: 'pass' });
  });

  it('redirect URI: an unregistered port fails, naming the exact URI to register', async () => {
    const { env } = await setup();
    const port = await freePort(); // not registered at the emulator
    const { code, checks } = await doctor(env, port);
    expect(code).toBe(1);
    const uri = `http://127.0.0.1:${port}/auth/callback/oauth`;
    expect(checks.get('discord.redirect_uri')).toMatchObject({
      verdict: 'fail',
      detail: `Discord does not know ${uri}`,
      fix: `register exactly ${uri} in your app's OAuth2 settings (scheme, host, port and path; no trailing slash)`,
    });
    // The fix, done: register it, and the check passes.
    session.emulator.controls.registerRedirectUri(DEMO_CLIENT_ID, uri);
    expect((await doctor(env, port)).checks.get('discord.redirect_uri')!.verdict).toBe('pass');
  });

  it('clock: a provider whose Date is 10 minutes ahead fails', async () => {
    const skewed = await startEmulator({ dir: tempHome('keygate-emu-'), now: () => Date.now() + 600_000 });
    try {
      const home = tempHome();
      const env = session.envFor(home, { KEYGATE_CONNECT_TO: skewed.connectTo, NODE_EXTRA_CA_CERTS: skewed.caPath });
      const { code, checks } = await doctor(env, await freePort(), ['discord']);
      expect(code).toBe(1);
      expect(checks.get('discord.clock')).toMatchObject({
        verdict: 'fail',
        detail: expect.stringMatching(/^this machine's clock is (59\d|60\d) s behind discord\.com$/),
      });
      expect(checks.get('discord.client')!.verdict).toBe('pass');
    } finally {
      await skewed.stop();
    }
  });

  it('connections: a revoked connection fails with the login that fixes it; --connection narrows', async () => {
    const { home, port, env } = await setup();
    expect((await session.login(home, ['--connection', 'work'])).code).toBe(0);
    session.emulator.controls.revokeAll();
    const { code, checks } = await doctor(env, port, ['discord', '--connection', 'work']);
    expect(code).toBe(1);
    expect(checks.get('discord/work.connection')).toMatchObject({
      verdict: 'fail',
      detail: expect.stringMatching(/^revoked: /),
      fix: 'run `keygate login discord --connection work`',
    });
    expect(checks.has('discord/default.connection')).toBe(false);
    const missing = await doctor(env, port, ['discord', '--connection', 'nope']);
    expect(missing.checks.get('discord/nope.connection')).toMatchObject({
      verdict: 'fail',
      detail: 'not connected',
      fix: 'run `keygate login discord --connection nope`',
    });
  });
});
