// Bot tools over MCP: `keygate mcp` (the built CLI, the official SDK's client over stdio) with a user
// and a bot connection stored. The bot is not a selection of its own; get_user for another id uses it.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bin, runCli, tempHome } from '../helpers/cli.js';
import { startSession, type Session } from '../helpers/session.js';

let session: Session;
let client: Client;
let token: string;
let tokenId: string;

beforeAll(async () => {
  session = await startSession();
  const home = tempHome();
  expect((await session.login(home)).code).toBe(0);
  ({ token, token_id: tokenId } = session.emulator.controls.botToken());
  const env = session.envFor(home);
  expect((await runCli(['login', 'discord', '--bot'], { env: { ...env, DISCORD_BOT_TOKEN: token } })).code).toBe(0);
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [bin, 'mcp'],
    env: env as Record<string, string>,
    stderr: 'pipe',
  });
  client = new Client({ name: 'keygate-test', version: '1.0.0' });
  await client.connect(transport);
}, 60_000);
afterAll(async () => {
  await client?.close();
  await session.close();
});

describe('bot tools in keygate mcp', () => {
  it('lists get_user once, as available through the bot connection, and calls it with the bot token', async () => {
    const { tools } = await client.listTools();
    const names = tools.map((t) => t.name);
    expect(names).toContain('discord_get_user');
    expect(names.filter((n) => n.startsWith('discord_get_user'))).toEqual(['discord_get_user']);
    const getUser = tools.find((t) => t.name === 'discord_get_user')!;
    expect(getUser.description).toContain("uses discord's bot connection");
    expect(getUser.description).not.toContain('NOT AVAILABLE');

    const result = await client.callTool({ name: 'discord_get_user', arguments: { user_id: '80351110224678912' } });
    expect(result.isError).toBeFalsy();
    expect(result.structuredContent).toMatchObject({ id: '80351110224678912', username: 'alice' });
    expect(session.emulator.controls.requestLog().at(-1)).toMatchObject({ path: '/api/v10/users/80351110224678912', status: 200, tokenId });
    expect(JSON.stringify(result)).not.toContain(token);
  });
});
