// Every command on the PostgreSQL store, through the built CLI: a connection made on one "host"
// (one KEYGATE_HOME) is listed, read, checked, used and logged out from another.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/ports.js';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { bin, runCli, tempHome } from '../helpers/cli.js';
import { freshDatabase, sharedPostgres } from '../helpers/postgres.js';
import { startSession, type Session } from '../helpers/session.js';

let session: Session;
let url: string;
beforeAll(async () => {
  session = await startSession();
  // A password in the URL (trust auth ignores it) to prove it never reaches output or a child.
  url = (await freshDatabase(await sharedPostgres())).replace('postgres@', 'postgres:hunter2-db-password@');
});
afterAll(() => session.close());

const hostEnv = (home: string, extra: NodeJS.ProcessEnv = {}) =>
  session.envFor(home, { KEYGATE_STORE: url, KEYGATE_PASSPHRASE: 'fleet passphrase', KEYGATE_KEY_BACKEND: undefined, ...extra });

const FETCH_ME = `const r = await fetch('https://discord.com/api/v10/users/@me'); console.log(r.status, JSON.stringify(process.env));`;

describe('every command on a postgres:// store', () => {
  it('login on one host; list, get, status, run, call, tools, mcp and logout on another', async () => {
    const hostA = tempHome();
    const hostB = tempHome();
    const login = await session.login(hostA, [], undefined, {
      KEYGATE_STORE: url,
      KEYGATE_PASSPHRASE: 'fleet passphrase',
      KEYGATE_KEY_BACKEND: undefined,
    });
    expect(login.code, login.stderr).toBe(0);
    expect(login.stdout).toMatch(/Connected discord\/default as /);
    // Nothing of the vault lands in either home: the records live in the database.
    expect(fs.existsSync(path.join(hostA, 'vault'))).toBe(false);

    const env = hostEnv(hostB);
    const list = await runCli(['list', '--json'], { env });
    expect(list.code, list.stderr).toBe(0);
    const listed = JSON.parse(list.stdout) as {
      vault: { store: string; location: string; key_backend: string };
      connections: Array<{ connection: string; status: string }>;
    };
    expect(listed.vault).toMatchObject({ store: 'postgres', key_backend: 'passphrase' });
    expect(listed.vault.location).not.toContain('hunter2');
    expect(listed.connections).toEqual([expect.objectContaining({ connection: 'default', status: 'connected' })]);
    const human = await runCli(['list'], { env });
    expect(human.stdout).toMatch(/Vault: postgres:\/\/postgres@127\.0\.0\.1:\d+\/kg_\w+ \(master key: passphrase\)/);

    expect((await runCli(['get', 'discord', '--field', 'status'], { env })).stdout).toBe('connected\n');
    const json = JSON.parse((await runCli(['get', 'discord', '--json'], { env })).stdout) as { account_name: string };
    expect(json.account_name).toBeTruthy();
    const reveal = await runCli(['get', 'discord', '--field', 'access_token', '--reveal'], { env });
    expect(reveal.code, reveal.stderr).toBe(0);
    expect(reveal.stdout.trim().length).toBeGreaterThan(10);

    const status = await runCli(['status', '--json'], { env });
    expect(status.code, status.stderr).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({ healthy: true });

    const run = await runCli(['run', '--', process.execPath, '--input-type=module', '-e', FETCH_ME], { env, timeoutMs: 30_000 });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout.startsWith('200 ')).toBe(true);
    // The child never sees the store URL (it holds the database password) or the passphrase.
    expect(run.stdout).not.toContain('hunter2');
    expect(run.stdout).not.toContain('fleet passphrase');
    expect(run.stdout).not.toContain(reveal.stdout.trim());

    const call = await runCli(['call', 'discord', 'get_my_user'], { env });
    expect(call.code, call.stderr).toBe(0);
    expect(JSON.parse(call.stdout)).toMatchObject({ username: json.account_name });
    const tools = await runCli(['tools', 'list', 'discord', '--json'], { env });
    expect(tools.code, tools.stderr).toBe(0);
    expect(JSON.parse(tools.stdout).connections).toEqual([expect.objectContaining({ connection: 'default', status: 'connected' })]);

    // mcp: an MCP client over stdio, as agents run it.
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [bin, 'mcp'],
      env: env as Record<string, string>,
      stderr: 'pipe',
    });
    const mcp = new Client({ name: 'keygate-test', version: '1.0.0' });
    await mcp.connect(transport);
    try {
      const result = await mcp.callTool({ name: 'discord_get_my_user', arguments: {} });
      expect(result.isError, JSON.stringify(result)).toBeFalsy();
      expect(JSON.stringify(result.content)).toContain(json.account_name);
    } finally {
      await mcp.close();
    }

    const logout = await runCli(['logout', 'discord'], { env });
    expect(logout.code, logout.stderr).toBe(0);
    expect((await runCli(['get', 'discord', '--field', 'status'], { env: hostEnv(hostA) })).stdout).toBe('not_connected\n');
  }, 90_000);

  it('a host with the wrong passphrase fails clearly before reading or writing a secret', async () => {
    const hostA = tempHome();
    expect(
      (
        await session.login(hostA, ['--connection', 'keyed'], undefined, {
          KEYGATE_STORE: url,
          KEYGATE_PASSPHRASE: 'fleet passphrase',
          KEYGATE_KEY_BACKEND: undefined,
        })
      ).code,
    ).toBe(0);
    const wrong = hostEnv(tempHome(), { KEYGATE_PASSPHRASE: 'not the one' });
    const r = await runCli(['get', 'discord', '--connection', 'keyed', '--field', 'access_token', '--reveal'], { env: wrong });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /^keygate: KEYGATE_PASSPHRASE does not hold the master key of the shared store postgres:\/\/postgres@127\.0\.0\.1:\d+\/\w+; nothing was read or written — set KEYGATE_PASSPHRASE/,
    );
    const none = await runCli(['list'], { env: hostEnv(tempHome(), { KEYGATE_PASSPHRASE: undefined }) });
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/is keyed by KEYGATE_PASSPHRASE, which is not set/);
  }, 60_000);

  it('an unreachable database: one clear line, exit 1, no password, no stack', async () => {
    const port = await freePort();
    const env = hostEnv(tempHome(), { KEYGATE_STORE: `postgres://keygate:hunter2-db-password@127.0.0.1:${port}/keygate` });
    for (const args of [
      ['list'],
      ['get', 'discord', '--field', 'status'],
      ['get', 'discord', '--json'],
      ['status'],
      ['run', '--', 'true'],
    ]) {
      const r = await runCli(args, { env });
      expect(r.code, args.join(' ')).toBe(1);
      expect(r.stderr).toBe(
        `keygate: cannot reach the shared store postgres://keygate@127.0.0.1:${port}/keygate (ECONNREFUSED) — check that PostgreSQL is running and reachable from this host, then retry; nothing was changed\n`,
      );
    }
  }, 60_000);

  it('KEYGATE_STORE that is neither files nor postgres:// is a usage error that does not echo it', async () => {
    const r = await runCli(['list'], { env: hostEnv(tempHome(), { KEYGATE_STORE: 'mysql://root:topsecret@db/x' }) });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      'keygate: KEYGATE_STORE must be `files` or a postgres:// URL, got mysql: — unset it to use the local vault, or set it to postgres://user@host/db\n',
    );
  });

  it('the `store` setting selects the database without KEYGATE_STORE, and refuses a URL with a password', async () => {
    const home = tempHome();
    const env = session.envFor(home, { KEYGATE_PASSPHRASE: 'fleet passphrase', KEYGATE_KEY_BACKEND: undefined });
    const withPassword = await runCli(['config', 'set', 'store', url], { env });
    expect(withPassword.code).toBe(2);
    expect(withPassword.stderr).toMatch(/store.*a postgres:\/\/ URL without a password/);
    expect(withPassword.stderr).not.toContain('hunter2');
    expect(fs.existsSync(path.join(home, 'config.json')) ? fs.readFileSync(path.join(home, 'config.json'), 'utf8') : '').not.toContain(
      'hunter2',
    );

    const set = await runCli(['config', 'set', 'store', url.replace(':hunter2-db-password@', '@')], { env });
    expect(set.code, set.stderr).toBe(0);
    const list = await runCli(['list', '--json'], { env });
    expect(list.code, list.stderr).toBe(0);
    const listed = JSON.parse(list.stdout) as { vault: { store: string }; connections: Array<{ connection: string; status: string }> };
    expect(listed.vault.store).toBe('postgres');
    // The fast status path must not answer from the (empty) local files when the setting names the database.
    const expected = listed.connections.find((c) => c.connection === 'default')?.status ?? 'not_connected';
    expect((await runCli(['get', 'discord', '--field', 'status'], { env })).stdout).toBe(`${expected}\n`);
    expect(fs.existsSync(path.join(home, 'vault'))).toBe(false);
    // KEYGATE_STORE may hold the password; `config get` and `config list` show it masked.
    for (const args of [
      ['config', 'get', 'store'],
      ['config', 'list'],
      ['config', 'list', '--json'],
    ]) {
      const shown = await runCli(args, { env: { ...env, KEYGATE_STORE: url } });
      expect(shown.code, shown.stderr).toBe(0);
      expect(shown.stdout).toContain('postgres:***@');
      expect(shown.stdout).not.toContain('hunter2');
    }
  });
});
