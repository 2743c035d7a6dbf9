// Issue 16, "damage with no way forward": a record that fails authentication, logout while Discord
// is unreachable, what `get` claims about a damaged record, and one source for expires_at. Each
// suggested command is run and shown to work.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, tempHome } from '../helpers/cli.js';
import { startSession, type Session } from '../helpers/session.js';

let session: Session;
beforeAll(async () => {
  session = await startSession();
});
afterAll(() => session.close());

const recordFile = (home: string, connection = 'default') => path.join(home, 'vault', 'connections', 'discord', `${connection}.json`);

/** Changes one base64 character of the ciphertext (to another character of the alphabet). */
function damageCiphertext(file: string): void {
  const data = JSON.parse(fs.readFileSync(file, 'utf8'));
  data.ciphertext = (data.ciphertext[0] === 'A' ? 'B' : 'A') + data.ciphertext.slice(1);
  fs.writeFileSync(file, JSON.stringify(data, null, 2));
}

async function connected(connection = 'default'): Promise<{ home: string; env: NodeJS.ProcessEnv }> {
  const home = tempHome();
  const r = await session.login(home, connection === 'default' ? [] : ['--connection', connection]);
  expect(r.code, r.stderr).toBe(0);
  // Later logins run as a user would: no client credentials in the environment, no terminal.
  return { home, env: session.envFor(home, { DISCORD_CLIENT_ID: undefined, DISCORD_CLIENT_SECRET: undefined }) };
}

describe('a record that fails authentication', () => {
  it('status and list say unreadable with the fixing command; `login --force` replaces it', async () => {
    const { home, env } = await connected('work');
    damageCiphertext(recordFile(home, 'work'));
    const status = await runCli(['status'], { env });
    expect(status.code).toBe(5);
    expect(status.stdout).toMatch(/discord\s+work\s+unreadable/);
    expect(status.stdout).not.toMatch(/expired/);
    expect(status.stdout).toContain('run `keygate login discord --connection work --force` to replace it');
    const json = JSON.parse((await runCli(['status', '--json'], { env })).stdout);
    expect(json.connections[0]).toMatchObject({
      status: 'unreadable',
      healthy: false,
      hint: expect.stringContaining('keygate login discord --connection work --force'),
    });
    const list = await runCli(['list', '--json'], { env });
    expect(JSON.parse(list.stdout).connections[0]).toMatchObject({
      status: 'unreadable',
      hint: expect.stringContaining('keygate login discord --connection work --force'),
    });

    // Plain login refuses to overwrite it silently and names the same command.
    const plain = await session.login(home, ['--connection', 'work'], undefined, {
      DISCORD_CLIENT_ID: undefined,
      DISCORD_CLIENT_SECRET: undefined,
    });
    expect(plain.code).toBe(1);
    expect(plain.stderr).toMatch(
      /^keygate: discord\/work exists but cannot be read: .* — run `keygate login discord --connection work --force` to replace it\n$/,
    );

    // The way forward, exactly as suggested (stored client credentials, no terminal, no env).
    const exchanges = session.emulator.controls.counters().codeExchanges;
    const forced = await session.login(home, ['--connection', 'work', '--force'], undefined, {
      DISCORD_CLIENT_ID: undefined,
      DISCORD_CLIENT_SECRET: undefined,
    });
    expect(forced.code, forced.stderr).toBe(0);
    expect(forced.stdout).toContain('Connected discord/work as alice');
    expect(session.emulator.controls.counters().codeExchanges).toBe(exchanges + 1);
    const after = await runCli(['status'], { env });
    expect(after.code).toBe(0);
    expect(after.stdout).toMatch(/discord\s+work\s+connected/);
  });

  it('logout removes it, saying it could not be revoked', async () => {
    const { home, env } = await connected();
    damageCiphertext(recordFile(home));
    const r = await runCli(['logout', 'discord'], { env });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      /^Removed discord\/default: its record could not be read \(record discord\/default failed authentication .*\), so it could not be revoked at Discord; remove the app in Discord's settings if it still shows\n$/,
    );
    expect(fs.existsSync(recordFile(home))).toBe(false);
    expect((await runCli(['get', 'discord', '--field', 'status'], { env })).stdout).toBe('not_connected\n');
  });

  it('get --field status keeps its fast path but get --json says the record is unverified; status is the check', async () => {
    const { home, env } = await connected();
    damageCiphertext(recordFile(home));
    const fast = await runCli(['get', 'discord', '--field', 'status'], { env });
    expect(fast.stdout).toBe('connected\n'); // documented: the stored status, not decrypted
    const json = JSON.parse((await runCli(['get', 'discord', '--json'], { env })).stdout);
    expect(json).toMatchObject({ status: 'connected', verified: false, verified_by: 'keygate status' });
    const help = await runCli(['get', '--help'], { env });
    expect(help.stdout).toContain('a tampered record still shows its stored status');
    expect((await runCli(['status'], { env })).stdout).toMatch(/discord\s+default\s+unreadable/);
  });
});

describe('logout while the provider is unreachable', () => {
  it('keeps the record and exits 1; `logout --forget` deletes it locally', async () => {
    const { home, env } = await connected();
    const unreachable = { ...env, KEYGATE_CONNECT_TO: 'discord.com:443:127.0.0.1:1' };
    const r = await runCli(['logout', 'discord'], { env: unreachable });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      'keygate: could not revoke discord/default at Discord (revocation at discord.com failed: ECONNREFUSED); the connection was kept — ' +
        'run logout again once that is fixed, or `keygate logout discord --forget` to delete it here only (its grant stays valid at Discord until you remove the app in its settings)\n',
    );
    expect(fs.existsSync(recordFile(home))).toBe(true);
    expect((await runCli(['get', 'discord', '--field', 'status'], { env })).stdout).toBe('connected\n');

    const forget = await runCli(['logout', 'discord', '--forget'], { env: unreachable });
    expect(forget.code).toBe(0);
    expect(forget.stdout).toBe('Logged out discord/default (deleted locally; NOT revoked at the provider)\n');
    expect(forget.stderr).toMatch(/^keygate: warning: revocation at discord\.com failed: ECONNREFUSED/);
    expect(fs.existsSync(recordFile(home))).toBe(false);
  });

  it('with Discord reachable, plain logout revokes and deletes (the other way forward)', async () => {
    const { env } = await connected();
    const revocations = session.emulator.controls.counters().revocations;
    const r = await runCli(['logout', 'discord'], { env });
    expect([r.code, r.stdout]).toEqual([0, 'Logged out discord/default (revoked at Discord)\n']);
    expect(session.emulator.controls.counters().revocations).toBe(revocations + 1);
  });
});

describe('one source of truth for expires_at', () => {
  it('status --json, get and list print the same expires_at', async () => {
    const { env } = await connected();
    const status = JSON.parse((await runCli(['status', '--json'], { env })).stdout).connections[0].expires_at;
    const get = (await runCli(['get', 'discord', '--field', 'expires_at'], { env })).stdout.trim();
    const list = JSON.parse((await runCli(['list', '--json'], { env })).stdout).connections[0].expires_at;
    expect(status).toBe(get);
    expect(list).toBe(get);
  });
});
