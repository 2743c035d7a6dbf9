// `keygate mcp` as MCP clients run it: the built CLI as a real child process over stdio, driven by
// the official SDK's Client, against the Discord emulator. Checks that must send nothing read the
// emulator's counters; every response is scanned for the connection's secrets.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_CLIENT_SECRET } from '../../src/emulator/fixtures.js';
import { bin, runCli, tempHome } from '../helpers/cli.js';
import { startSession, type Session } from '../helpers/session.js';

let session: Session;
let home: string;
let env: NodeJS.ProcessEnv;
const clients: Client[] = [];
/** Every secret the vault held at any point; responses must contain none of them. */
const secrets = new Set<string>([DEMO_CLIENT_SECRET]);

async function collectSecrets(): Promise<void> {
  for (const field of ['access_token', 'refresh_token']) {
    const r = await runCli(['get', 'discord', '--field', field, '--reveal'], { env });
    expect(r.code, r.stderr).toBe(0);
    secrets.add(r.stdout.trim());
  }
}

/** Every response body the tests saw, for the secret scan at the end. */
const seen: string[] = [];
function record<T>(value: T): T {
  seen.push(JSON.stringify(value));
  return value;
}

async function connect(args: string[] = [], extraEnv: NodeJS.ProcessEnv = {}): Promise<{ client: Client; stderr: () => string }> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [bin, 'mcp', ...args],
    env: { ...env, ...extraEnv } as Record<string, string>,
    stderr: 'pipe',
  });
  let stderr = '';
  transport.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const client = new Client({ name: 'keygate-test', version: '1.0.0' });
  await client.connect(transport);
  clients.push(client);
  return { client, stderr: () => stderr };
}

const upstream = () => {
  const c = session.emulator.controls.counters();
  return { api: c.apiCalls, token: c.tokenRequests };
};

type Content = { type: string; text?: string; data?: string; mimeType?: string };
const text = (result: object) => ((result as { content?: Content[] }).content ?? []).map((c) => c.text ?? '').join('\n');

beforeAll(async () => {
  session = await startSession();
  home = tempHome();
  const login = await session.login(home);
  expect(login.code, login.stderr).toBe(0);
  env = session.envFor(home);
  await collectSecrets();
});

afterAll(async () => {
  for (const client of clients) await client.close().catch(() => {});
  // The scan: no token, refresh token or client secret in anything the server answered.
  const all = seen.join('\n');
  for (const secret of secrets) expect(all.includes(secret), 'a secret reached an MCP response').toBe(false);
  await session.close();
});

describe('keygate mcp', () => {
  it('lists the 16 discord_* tools plus keygate_status, with schemas, scopes and annotations', async () => {
    const { client } = await connect();
    const { tools } = record(await client.listTools());
    const discord = tools.filter((t) => t.name.startsWith('discord_'));
    expect(discord).toHaveLength(16);
    expect(tools.map((t) => t.name)).toContain('keygate_status');
    expect(tools).toHaveLength(17);
    const guilds = tools.find((t) => t.name === 'discord_list_my_guilds')!;
    expect(guilds.inputSchema).toMatchObject({ type: 'object', properties: { limit: { type: 'integer', minimum: 1, maximum: 200 } } });
    expect(guilds.description).toMatch(/needs scopes: guilds/);
    expect(guilds.annotations).toMatchObject({ readOnlyHint: true, title: 'List my guilds' });
    // guilds.members.read was not granted: still listed, marked, and says the call returns the fix.
    const member = tools.find((t) => t.name === 'discord_get_my_guild_member')!;
    expect(member.description).toMatch(/NOT AVAILABLE with discord\/default \(missing guilds\.members\.read\)/);
    expect(tools.find((t) => t.name === 'discord_get_my_user')!.description).not.toMatch(/NOT AVAILABLE/);
  });

  it('calls a JSON tool: text plus structuredContent', async () => {
    const { client } = await connect();
    const result = record(await client.callTool({ name: 'discord_get_my_user', arguments: {} }));
    expect(result.isError).toBeFalsy();
    expect(result.structuredContent).toMatchObject({ username: 'alice', email: 'alice@example.com' });
    expect(JSON.parse(text(result))).toMatchObject({ id: '80351110224678912' });
    // An array answer stays text only (structuredContent must be an object).
    const guilds = record(await client.callTool({ name: 'discord_list_my_guilds', arguments: { limit: 2 } }));
    expect(guilds.isError).toBeFalsy();
    expect(JSON.parse(text(guilds))).toHaveLength(2);
    expect(guilds.structuredContent).toBeUndefined();
  });

  it('calls a tool that needs no token', async () => {
    const { client } = await connect();
    const result = record(await client.callTool({ name: 'discord_get_gateway', arguments: {} }));
    expect(result.isError).toBeFalsy();
    expect(result.structuredContent).toMatchObject({ url: expect.stringMatching(/^wss:\/\//) });
  });

  it('returns an image tool result as image content (a PNG)', async () => {
    const { client } = await connect();
    const result = record(
      await client.callTool({ name: 'discord_get_guild_widget_png', arguments: { guild_id: '81384788765712384', style: 'banner2' } }),
    );
    expect(result.isError, text(result)).toBeFalsy();
    const [image] = result.content as Content[];
    expect(image).toMatchObject({ type: 'image', mimeType: 'image/png' });
    expect(Buffer.from(image.data!, 'base64').subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
  });

  it('a missing scope is an error result with the login command, and sends nothing upstream', async () => {
    const { client } = await connect();
    const before = upstream();
    const result = record(await client.callTool({ name: 'discord_get_my_guild_member', arguments: { guild_id: '81384788765712384' } }));
    expect(result.isError).toBe(true);
    expect(text(result)).toMatch(/guilds\.members\.read/);
    expect(text(result)).toContain('keygate login discord --force --scopes identify,email,guilds,connections,guilds.members.read');
    expect(upstream()).toEqual(before);
  });

  it('invalid arguments are an error result with the schema message, and send nothing', async () => {
    const { client } = await connect();
    const before = upstream();
    for (const [args, message] of [
      [{ limit: 500 }, /parameter `limit` expected an integer from 1 to 200, got `500`/],
      [{ limt: 5 }, /unknown parameter `limt` \(did you mean `limit`\?\)/],
      [{ before: 'abc' }, /parameter `before` expected a snowflake id/],
    ] as const) {
      const result = record(await client.callTool({ name: 'discord_list_my_guilds', arguments: args }));
      expect(result.isError).toBe(true);
      expect(text(result)).toMatch(message);
    }
    const missing = record(await client.callTool({ name: 'discord_get_my_guild_member', arguments: {} }));
    expect(text(missing)).toMatch(/parameter `guild_id` is required/);
    expect(upstream()).toEqual(before);
  });

  it('an unknown tool is a protocol error, and the server keeps answering', async () => {
    const { client } = await connect();
    await expect(client.callTool({ name: 'discord_delete_everything', arguments: {} })).rejects.toThrow(
      /Unknown tool: discord_delete_everything/,
    );
    const result = record(await client.callTool({ name: 'discord_get_my_user', arguments: {} }));
    expect(result.isError).toBeFalsy();
  });

  it('keygate_status lists the connections without secrets', async () => {
    const { client } = await connect();
    const result = record(await client.callTool({ name: 'keygate_status', arguments: {} }));
    expect(result.isError).toBeFalsy();
    expect(result.structuredContent).toMatchObject({
      connections: [
        {
          provider: 'discord',
          connection: 'default',
          status: 'connected',
          account_name: 'alice',
          scopes: 'identify email guilds connections',
          served_by_this_server: true,
        },
      ],
    });
    expect(text(result)).toMatch(/^discord\/default: connected as alice/);
  });

  it('16 concurrent calls across a token expiry make exactly one refresh', async () => {
    const { client } = await connect();
    const { controls } = session.emulator;
    const before = controls.counters();
    controls.expireAllTokens();
    const results = await Promise.all(Array.from({ length: 16 }, () => client.callTool({ name: 'discord_get_my_user', arguments: {} })));
    for (const r of results) {
      record(r);
      expect(r.isError, text(r)).toBeFalsy();
      expect(r.structuredContent).toMatchObject({ username: 'alice' });
    }
    const after = controls.counters();
    expect(after.refreshes - before.refreshes).toBe(1);
    expect(after.invalidGrants - before.invalidGrants).toBe(0);
    await collectSecrets(); // the rotated tokens join the scan
  });

  it('two connections of one provider get one suffixed name each, acting for their own account', async () => {
    const work = await session.login(home, ['--connection', 'work', '--scopes', 'identify']);
    expect(work.code, work.stderr).toBe(0);
    await collectSecretsFor('work');
    const { client } = await connect(['--connection', 'discord/default', '--connection', 'discord/work']);
    const names = record(await client.listTools()).tools.map((t) => t.name);
    expect(names).toContain('discord_get_my_user_default');
    expect(names).toContain('discord_get_my_user_work');
    expect(names).not.toContain('discord_get_my_user');
    const mine = record(await client.callTool({ name: 'discord_get_my_user_work', arguments: {} }));
    expect(mine.structuredContent).toMatchObject({ username: 'alice' });
    expect(mine.structuredContent).not.toHaveProperty('email'); // identify only: this is the work connection
  });

  it('--tools limits what is exposed', async () => {
    const { client } = await connect(['--connection', 'discord/default', '--tools', 'get_my_user,discord_get_gateway']);
    const names = record(await client.listTools())
      .tools.map((t) => t.name)
      .sort();
    expect(names).toEqual(['discord_get_gateway', 'discord_get_my_user', 'keygate_status']);
  });

  it('survives garbage and unknown methods on stdin, keeps stdout to the protocol, and exits cleanly when stdin closes', async () => {
    const child = spawn(process.execPath, [bin, 'mcp', '--connection', 'discord/default'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    const send = (line: string) => child.stdin.write(`${line}\n`);
    const answered = async (id: number) => {
      for (let i = 0; i < 200 && !stdout.split('\n').some((l) => l.includes(`"id":${id}`)); i++)
        await new Promise((r) => setTimeout(r, 25));
      const line = stdout.split('\n').find((l) => l.includes(`"id":${id}`));
      expect(line, `no answer to id ${id}; stdout: ${stdout}`).toBeDefined();
      return JSON.parse(line!) as { result?: { tools?: unknown[] }; error?: { code: number } };
    };
    send('this is not json');
    send(
      '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"raw","version":"0"}}}',
    );
    expect((await answered(1)).result).toBeDefined();
    send('{"jsonrpc":"2.0","method":"notifications/initialized"}');
    send('{"jsonrpc":"2.0","id":2,"method":"no/such/method"}');
    expect((await answered(2)).error?.code).toBe(-32601);
    send('{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"nope","arguments":{}}}');
    expect((await answered(3)).error?.code).toBe(-32602);
    send('{"jsonrpc":"2.0","id":4,"method":"tools/list"}');
    expect((await answered(4)).result?.tools).toHaveLength(17);
    // Every stdout line is a JSON-RPC message.
    for (const line of stdout.split('\n').filter(Boolean)) expect(JSON.parse(line)).toMatchObject({ jsonrpc: '2.0' });
    seen.push(stdout);
    child.stdin.end();
    expect(await exited).toBe(0);
    // Nothing left behind: no lock directories in the vault.
    const leftovers = fs
      .readdirSync(home, { recursive: true })
      .map(String)
      .filter((f) => f.endsWith('.lock'));
    expect(leftovers).toEqual([]);
  });

  // Last: revokes every grant at the emulator.
  it('a connection revoked at Discord answers with the login command, after one refresh attempt', async () => {
    const { client } = await connect(['--connection', 'discord/work']);
    const before = session.emulator.controls.counters();
    session.emulator.controls.revokeAll();
    const gone = record(await client.callTool({ name: 'discord_get_my_user', arguments: {} }));
    expect(gone.isError).toBe(true);
    expect(text(gone)).toMatch(/revoked/);
    expect(text(gone)).toMatch(/keygate login discord --connection work/);
    expect(session.emulator.controls.counters().invalidGrants - before.invalidGrants).toBe(1);
    const status = record(await client.callTool({ name: 'keygate_status', arguments: {} }));
    expect(text(status)).toMatch(/discord\/work: revoked/);
  });
});

async function collectSecretsFor(connection: string): Promise<void> {
  for (const field of ['access_token', 'refresh_token']) {
    const r = await runCli(['get', 'discord', '--connection', connection, '--field', field, '--reveal'], { env });
    expect(r.code, r.stderr).toBe(0);
    secrets.add(r.stdout.trim());
  }
}

describe('keygate mcp --print-config', () => {
  it.each(['claude', 'cursor', 'vscode'])('prints a %s snippet naming this install by absolute path', async (client) => {
    const r = await runCli(['mcp', '--print-config', '--client', client, '--connection', 'discord/work'], { env });
    expect(r.code, r.stderr).toBe(0);
    const config = JSON.parse(r.stdout);
    const server = client === 'vscode' ? config.servers.keygate : config.mcpServers.keygate;
    if (client === 'vscode') expect(server.type).toBe('stdio');
    expect(server.command).toBe(process.execPath);
    expect(path.isAbsolute(server.args[0])).toBe(true);
    expect(fs.existsSync(server.args[0])).toBe(true);
    expect(server.args.slice(1)).toEqual(['mcp', '--connection', 'discord/work']);
    expect(server.env).toEqual({ KEYGATE_HOME: home });
    expect(r.stdout).not.toContain(DEMO_CLIENT_SECRET);
  });

  it('an unknown client is a usage error', async () => {
    const r = await runCli(['mcp', '--print-config', '--client', 'emacs'], { env });
    expect(r.code).toBe(2);
  });
});
