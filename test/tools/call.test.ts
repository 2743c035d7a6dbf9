// `keygate call`, `tools list`, `scopes` and `login --for-tools` as users run them: the built CLI as a
// child process, logged in to the emulator. Checks that must send nothing are read off the
// emulator's counters (API calls and token-endpoint requests).
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, tempHome } from '../helpers/cli.js';
import { startSession, type Session } from '../helpers/session.js';

let session: Session;
let full: NodeJS.ProcessEnv; // identify email guilds connections (the defaults)
let identifyOnly: NodeJS.ProcessEnv;
let fullHome: string;

beforeAll(async () => {
  session = await startSession();
  fullHome = tempHome();
  const a = await session.login(fullHome);
  expect(a.code, a.stderr).toBe(0);
  full = session.envFor(fullHome);
  const home = tempHome();
  const b = await session.login(home, ['--scopes', 'identify']);
  expect(b.code, b.stderr).toBe(0);
  identifyOnly = session.envFor(home);
});
afterAll(() => session.close());

const upstream = () => {
  const c = session.emulator.controls.counters();
  return { api: c.apiCalls, token: c.tokenRequests };
};
const oneLineError = /^keygate: .+ — .+\n$/;

describe('keygate call', () => {
  it('get_my_user prints the user as JSON (email with the email scope)', async () => {
    const r = await runCli(['call', 'discord', 'get_my_user'], { env: full });
    expect(r.code, r.stderr).toBe(0);
    const body = JSON.parse(r.stdout);
    expect(body).toMatchObject({ id: '80351110224678912', username: 'alice', email: 'alice@example.com', verified: true });
    const narrow = JSON.parse((await runCli(['call', 'discord', 'get_my_user'], { env: identifyOnly })).stdout);
    expect(narrow.username).toBe('alice');
    expect(narrow).not.toHaveProperty('email');
  });

  it('list_my_guilds converts --param by the schema and keeps snowflakes as strings', async () => {
    const r = await runCli(
      ['call', 'discord', 'list_my_guilds', '--param', 'limit=2', '--param', 'with_counts=true', '--param', 'after=81384788765712384'],
      { env: full },
    );
    expect(r.code, r.stderr).toBe(0);
    const guilds = JSON.parse(r.stdout);
    expect(guilds.map((g: { id: string }) => g.id)).toEqual(['197038439483310086', '613425648685547541']);
    expect(guilds[0].approximate_member_count).toBe(12);
  });

  it('--input takes a JSON object, from the flag or stdin; --json wraps the answer', async () => {
    const r = await runCli(['call', 'discord', 'list_my_guilds', '--input', '-', '--json'], { env: full, input: '{"limit": 1}' });
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc).toMatchObject({ tool: 'list_my_guilds', status: 200 });
    expect(doc.body).toHaveLength(1);
  });

  it.each([
    [['list_my_guilds', '--param', 'limit=500'], /parameter `limit` expected an integer from 1 to 200, got `500`/],
    [['list_my_guilds', '--param', 'limit=abc'], /parameter `limit` expected an integer, got `abc`/],
    [['list_my_guilds', '--param', 'limt=5'], /unknown parameter `limt` \(did you mean `limit`\?\)/],
    [['list_my_guilds', '--param', 'before=12ab'], /parameter `before` expected a snowflake id/],
    [['list_my_guilds', '--param', 'with_counts=maybe'], /parameter `with_counts` expected true or false, got `maybe`/],
    [['get_my_guild_member'], /parameter `guild_id` is required/],
    [
      ['get_my_guild_member', '--input', '{"guild_id": 81384788765712384}'],
      /expected a string, got the number 8138478876571238\d \(JSON numbers past 2\^53 lose digits\); pass ids as strings/,
    ],
    [['get_my_guild_member', '--input', '[1]'], /--input must be a JSON object/],
    [['get_my_guild_member', '--input', '{oops'], /--input is not valid JSON/],
    [
      ['get_guild_widget_png', '--param', 'guild_id=1', '--param', 'style=banner9'],
      /parameter `style` expected one of shield, banner1, banner2, banner3, banner4/,
    ],
    [['get_guild_widget_png', '--param', 'guild_id=1', '--json'], /--json with an image needs --output <file>/],
    [['no_such_tool'], /discord has no tool "no_such_tool"/],
    [['get_my_usr'], /discord has no tool "get_my_usr" \(did you mean "get_my_user"\?\)/],
  ])('schema error %j exits 2 and sends nothing', async (args, message) => {
    const before = upstream();
    const r = await runCli(['call', 'discord', ...args], { env: full });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(oneLineError);
    expect(r.stderr).toMatch(message);
    expect(r.stdout).toBe('');
    expect(upstream()).toEqual(before);
  });

  it('a missing scope exits 5, sends nothing, and prints the login command keeping the granted scopes', async () => {
    const before = upstream();
    const r = await runCli(['call', 'discord', 'list_my_guilds'], { env: identifyOnly });
    expect(r.code).toBe(5);
    expect(r.stderr).toMatch(oneLineError);
    expect(r.stderr).toContain('list_my_guilds needs the scope guilds, which discord/default was not granted');
    expect(r.stderr).toContain('`keygate login discord --force --scopes identify,guilds`');
    expect(upstream()).toEqual(before);
  });

  it('a tool that needs no token works with no connection and no vault', async () => {
    const home = tempHome();
    const r = await runCli(['call', 'discord', 'get_gateway'], { env: session.envFor(home) });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ url: 'wss://gateway.discord.gg' });
    expect(fs.existsSync(path.join(home, 'vault'))).toBe(false);
  });

  it('a user tool with no connection exits 3 naming the login command', async () => {
    const r = await runCli(['call', 'discord', 'get_my_user', '--connection', 'work'], { env: full });
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('discord/work is not connected — run `keygate login discord --connection work`');
  });
});

describe('keygate tools list', () => {
  it('against an identify-only connection marks exactly the tools it cannot call', async () => {
    const r = await runCli(['tools', 'list', 'discord', '--json'], { env: identifyOnly });
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.connections).toEqual([{ provider: 'discord', connection: 'default', status: 'connected', granted_scopes: ['identify'] }]);
    expect(doc.tools).toHaveLength(16);
    const cannot = doc.tools
      .filter((t: { callable: boolean }) => !t.callable)
      .map((t: { name: string }) => t.name)
      .sort();
    expect(cannot).toEqual([
      'get_current_user_application_entitlements',
      'get_my_guild_member',
      'get_openid_connect_userinfo',
      'list_my_guilds',
      'retrieve_user_connections',
    ]);
    const guilds = doc.tools.find((t: { name: string }) => t.name === 'list_my_guilds');
    expect(guilds.missing_scopes).toEqual(['guilds']);
    const human = await runCli(['tools', 'list', 'discord'], { env: identifyOnly });
    expect(human.stdout).toMatch(/list_my_guilds\s+guilds\s+no: missing guilds/);
    expect(human.stdout).toMatch(/get_gateway\s+no token\s+yes/);
    expect(human.stdout).toMatch(/get_user\s+bot \(identify for @me\)\s+yes, partly/);
  });

  it('describe shows the parameter schema', async () => {
    const r = await runCli(['tools', 'describe', 'discord', 'list_my_guilds', '--json'], { env: full });
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.input_schema.properties.limit).toEqual({
      type: 'integer',
      minimum: 1,
      maximum: 200,
      default: 200,
      description: 'how many guilds to return (1-200)',
    });
    expect(doc.input_schema.additionalProperties).toBe(false);
    const human = await runCli(['tools', 'describe', 'discord', 'get_invite'], { env: full });
    expect(human.stdout).toContain('Deprecated: use resolve_invite');
    expect(human.stdout).toMatch(/invite_code\s+path, required/);
  });
});

describe('tools from a user file', () => {
  it('a tool added in $KEYGATE_HOME/providers/discord.json is listed and callable', async () => {
    const home = tempHome();
    fs.mkdirSync(path.join(home, 'providers'));
    fs.writeFileSync(
      path.join(home, 'providers', 'discord.json'),
      JSON.stringify({
        tools: {
          my_connection_list: {
            description: 'My linked accounts, by a name I like.',
            path: '/users/@me/connections',
            scopes: ['connections'],
          },
        },
      }),
    );
    fs.cpSync(path.join(fullHome, 'vault'), path.join(home, 'vault'), { recursive: true });
    const env = session.envFor(home);
    const list = JSON.parse((await runCli(['tools', 'list', 'discord', '--json'], { env })).stdout);
    expect(list.tools).toHaveLength(17);
    expect(list.tools.find((t: { name: string }) => t.name === 'my_connection_list')).toMatchObject({
      callable: true,
      scopes: ['connections'],
      auth: 'user',
    });
    const r = await runCli(['call', 'discord', 'my_connection_list'], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).map((c: { type: string }) => c.type)).toEqual(['github', 'steam']);
  });

  it('a path parameter of `..` is refused before sending (it would reach another endpoint with the token)', async () => {
    const home = tempHome();
    fs.mkdirSync(path.join(home, 'providers'));
    // No pattern on purpose: the check must not depend on the tool author writing one.
    const tool = {
      description: 'A guild member, unchecked.',
      path: '/users/@me/guilds/{gid}/member',
      parameters: { properties: { gid: { type: 'string' } }, required: ['gid'] },
    };
    fs.writeFileSync(path.join(home, 'providers', 'discord.json'), JSON.stringify({ tools: { loose_member: tool } }));
    fs.cpSync(path.join(fullHome, 'vault'), path.join(home, 'vault'), { recursive: true });
    const before = upstream();
    for (const gid of ['..', '.']) {
      const r = await runCli(['call', 'discord', 'loose_member', '--param', `gid=${gid}`], { env: session.envFor(home) });
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toContain(`parameter \`gid\` cannot be \`${gid}\` (it goes in the URL path)`);
    }
    expect(upstream()).toEqual(before);
    // Slashes are encoded, so they stay inside the one segment.
    const r = await runCli(['call', 'discord', 'loose_member', '--param', 'gid=1/../../..'], { env: session.envFor(home) });
    expect(r.code).toBe(1);
    expect(session.emulator.controls.requestLog().at(-1)?.path).toBe('/api/v10/users/@me/guilds/1%2F..%2F..%2F../member');
  });

  it('a bad tool in a user file is a provider error naming the field', async () => {
    const home = tempHome();
    fs.mkdirSync(path.join(home, 'providers'));
    fs.writeFileSync(
      path.join(home, 'providers', 'discord.json'),
      JSON.stringify({ tools: { broken: { description: 'x', path: '/a/{id}' } } }),
    );
    const r = await runCli(['call', 'discord', 'broken'], { env: session.envFor(home) });
    expect(r.code).toBe(4);
    expect(r.stderr).toContain('$.tools.broken.path names {id}, which is not a parameter');
  });
});

describe('scopes planned from tools', () => {
  it('scopes --for-tools prints the smallest set and which tool needs each', async () => {
    const r = await runCli(['scopes', 'discord', '--for-tools', 'list_my_guilds,get_my_guild_member,get_gateway,get_user', '--json'], {
      env: full,
    });
    expect(r.code, r.stderr).toBe(0);
    const plan = JSON.parse(r.stdout);
    expect(plan.scopes).toEqual(['guilds', 'guilds.members.read', 'identify']);
    expect(plan.needed_by).toEqual({ guilds: ['list_my_guilds'], 'guilds.members.read': ['get_my_guild_member'], identify: ['get_user'] });
    expect(plan.no_token).toEqual(['get_gateway']);
    expect(plan.bot).toEqual(['get_user']);
    expect(plan.login_scopes).toEqual(['guilds', 'guilds.members.read', 'identify']);
  });

  it('login --for-tools requests the planned set plus identify to name the account', async () => {
    const home = tempHome();
    const r = await session.login(home, ['--for-tools', 'list_my_guilds']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('Scopes for list_my_guilds: guilds identify');
    expect(r.stdout).toContain('Connected discord/default as alice (guilds identify)');
  });

  it('--for-tools with --scopes is a usage error; an unknown tool too', async () => {
    const home = tempHome();
    const both = await runCli(['login', 'discord', '--for-tools', 'get_my_user', '--scopes', 'identify'], { env: session.envFor(home) });
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('--for-tools and --scopes cannot be combined');
    const unknown = await runCli(['scopes', 'discord', '--for-tools', 'get_my_usr'], { env: full });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('discord has no tool "get_my_usr"');
  });
});
