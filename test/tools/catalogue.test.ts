// Every one of the 16 Discord tools called through `keygate call` against the emulator, with the
// body checked (and the PNG signature for the image). One connection holds every user scope the
// catalogue plans, obtained with `login --for-tools`.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_CLIENT_ID, DEMO_CLIENT_SECRET } from '../../src/emulator/fixtures.js';
import {
  EVENT_INVITE_CODE,
  INVITE_CODE,
  NO_WIDGET_GUILD_ID,
  SCHEDULED_EVENT_ID,
  TEMPLATE_CODE,
  WIDGET_GUILD_ID,
} from '../../src/emulator/tools-fixtures.js';
import { runCli, tempHome } from '../helpers/cli.js';
import { startSession, type Session } from '../helpers/session.js';

const ALL = [
  'get_my_user',
  'get_user',
  'get_openid_connect_userinfo',
  'list_my_guilds',
  'get_my_guild_member',
  'get_guild_widget',
  'get_guild_widget_png',
  'get_guild_template',
  'resolve_invite',
  'get_invite',
  'get_current_user_application_entitlements',
  'retrieve_user_connections',
  'get_my_oauth2_authorization',
  'get_oauth2_public_keys',
  'get_gateway',
  'list_sticker_packs',
];
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

let session: Session;
let env: NodeJS.ProcessEnv;
let home: string;

beforeAll(async () => {
  session = await startSession();
  home = tempHome();
  const r = await session.login(home, ['--for-tools', ALL.join(',')]);
  expect(r.code, r.stderr).toBe(0);
  env = session.envFor(home);
});
afterAll(() => session.close());

/** Everything every call printed, scanned for secrets at the end. */
const printed: string[] = [];
const call = async (tool: string, ...params: string[]) => {
  const r = await runCli(['call', 'discord', tool, ...params.flatMap((p) => ['--param', p])], { env });
  printed.push(r.stdout, r.stderr);
  return r;
};
const ok = async (tool: string, ...params: string[]) => {
  const r = await call(tool, ...params);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout);
};
const apiCalls = () => session.emulator.controls.counters().apiCalls;

describe('the 16 Discord tools', () => {
  it('login --for-tools with all of them granted exactly the planned scopes', async () => {
    const granted = (await runCli(['get', 'discord', '--field', 'scopes'], { env })).stdout.trim().split(' ').sort();
    expect(granted).toEqual(['applications.entitlements', 'connections', 'guilds', 'guilds.members.read', 'identify', 'openid']);
    const listed = JSON.parse((await runCli(['tools', 'list', 'discord', '--json'], { env })).stdout);
    expect(listed.tools.map((t: { name: string }) => t.name)).toEqual(ALL);
    expect(listed.tools.every((t: { callable: boolean }) => t.callable)).toBe(true);
  });

  it('get_my_user', async () => {
    const body = await ok('get_my_user');
    expect(body).toMatchObject({ id: '80351110224678912', username: 'alice', global_name: 'Alice' });
    expect(body).not.toHaveProperty('email'); // not planned: email is optional for get_my_user
  });

  it('get_user: @me with the user token; another id needs a bot connection and sends nothing', async () => {
    expect(await ok('get_user', 'user_id=@me')).toMatchObject({ id: '80351110224678912', username: 'alice' });
    const before = apiCalls();
    const r = await call('get_user', 'user_id=80351110224678913');
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(
      /get_user with these parameters needs a Discord bot connection, and discord\/bot is not connected — run `keygate login discord --bot`/,
    );
    expect(apiCalls()).toBe(before);
  });

  it('get_openid_connect_userinfo (openid granted)', async () => {
    expect(await ok('get_openid_connect_userinfo')).toEqual({
      sub: '80351110224678912',
      preferred_username: 'alice',
      nickname: 'Alice',
      picture: 'https://cdn.discordapp.com/avatars/80351110224678912/8342729096ea3675442027381ff50dfe.png',
      locale: 'en-US',
    });
  });

  it('list_my_guilds', async () => {
    const body = await ok('list_my_guilds', 'limit=1', 'before=613425648685547541');
    expect(body).toEqual([expect.objectContaining({ id: NO_WIDGET_GUILD_ID, name: 'Keygate Lab', owner: true })]);
  });

  it('get_my_guild_member; an unknown guild is a 404 naming the id', async () => {
    expect(await ok('get_my_guild_member', `guild_id=${NO_WIDGET_GUILD_ID}`)).toMatchObject({
      nick: 'Al',
      user: { id: '80351110224678912' },
    });
    const r = await call('get_my_guild_member', 'guild_id=42');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('the user is not a member of that guild, or it does not exist (guild_id 42) — list the user');
  });

  it('get_guild_widget: enabled, disabled (403 with the admin hint), unknown (404 naming the id)', async () => {
    const body = await ok('get_guild_widget', `guild_id=${WIDGET_GUILD_ID}`);
    expect(body).toMatchObject({
      id: WIDGET_GUILD_ID,
      name: 'Discord API',
      instant_invite: `https://discord.com/invite/${INVITE_CODE}`,
      presence_count: 9731,
    });
    expect(body.members.map((m: { username: string }) => m.username)).toEqual(['alice', 'bob', 'carol']);
    const disabled = await call('get_guild_widget', `guild_id=${NO_WIDGET_GUILD_ID}`);
    expect(disabled.code).toBe(1);
    expect(disabled.stderr).toBe(
      `keygate: get_guild_widget: the guild's widget is disabled (guild_id ${NO_WIDGET_GUILD_ID}) — a server admin enables it in Server Settings → Widget\n`,
    );
    const unknown = await call('get_guild_widget', 'guild_id=42');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toBe('keygate: get_guild_widget: Discord found nothing for guild_id 42 (404: Unknown Guild) — check the id\n');
  });

  it('get_guild_widget_png: a PNG to --output, or to a pipe', async () => {
    const file = path.join(home, 'widget.png');
    const r = await runCli(
      ['call', 'discord', 'get_guild_widget_png', '--param', `guild_id=${WIDGET_GUILD_ID}`, '--param', 'style=banner2', '--output', file],
      { env },
    );
    expect(r.code, r.stderr).toBe(0);
    const image = fs.readFileSync(file);
    expect(r.stdout).toBe(`Wrote ${image.length} bytes (image/png) to ${file}\n`);
    expect(image.subarray(0, 8)).toEqual(PNG_SIGNATURE);
    expect(image.subarray(12, 16).toString('latin1')).toBe('IHDR');
    expect([image.readUInt32BE(16), image.readUInt32BE(20)]).toEqual([328, 76]);
    // stdout is a pipe here, so the bytes go there, unchanged.
    const piped = await runCli(['call', 'discord', 'get_guild_widget_png', '--param', `guild_id=${WIDGET_GUILD_ID}`], {
      env,
      binary: true,
    });
    expect(piped.code, piped.stderr).toBe(0);
    expect(piped.bytes!.subarray(0, 8)).toEqual(PNG_SIGNATURE);
    expect(piped.bytes!.readUInt32BE(16)).toBe(76); // the default style, shield
  });

  it('get_guild_template', async () => {
    expect(await ok('get_guild_template', `template_code=${TEMPLATE_CODE}`)).toMatchObject({
      code: TEMPLATE_CODE,
      name: 'Friends & Family',
      serialized_source_guild: { name: 'Friends & Family' },
    });
  });

  it('resolve_invite with counts, expiration and a scheduled event', async () => {
    const body = await ok(
      'resolve_invite',
      `invite_code=${EVENT_INVITE_CODE}`,
      'with_counts=true',
      'with_expiration=true',
      `guild_scheduled_event_id=${SCHEDULED_EVENT_ID}`,
    );
    expect(body).toMatchObject({
      code: EVENT_INVITE_CODE,
      guild: { id: NO_WIDGET_GUILD_ID, name: 'Keygate Lab' },
      approximate_member_count: 12,
      expires_at: '2030-01-01T00:00:00+00:00',
      guild_scheduled_event: { id: SCHEDULED_EVENT_ID, name: 'Keygate office hours' },
    });
    const plain = await ok('resolve_invite', `invite_code=${INVITE_CODE}`);
    expect(plain).not.toHaveProperty('approximate_member_count');
    expect(plain).not.toHaveProperty('guild_scheduled_event');
  });

  it('get_invite works and warns that it is deprecated', async () => {
    const r = await call('get_invite', `invite_code=${INVITE_CODE}`, 'with_counts=true');
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ code: INVITE_CODE, guild: { name: 'Discord API' }, approximate_presence_count: 9731 });
    expect(r.stderr).toBe('keygate: get_invite is deprecated; use resolve_invite\n');
  });

  it('get_current_user_application_entitlements with filters', async () => {
    const ids = (body: Array<{ id: string }>) => body.map((e) => e.id);
    const app = `application_id=${DEMO_CLIENT_ID}`;
    expect(ids(await ok('get_current_user_application_entitlements', app))).toEqual([
      '1019653849998299136',
      '1019653849998299137',
      '1019653849998299138',
    ]);
    expect(ids(await ok('get_current_user_application_entitlements', app, 'exclude_ended=true'))).toEqual([
      '1019653849998299136',
      '1019653849998299137',
    ]);
    expect(
      ids(
        await ok(
          'get_current_user_application_entitlements',
          app,
          'sku_ids=1019475255913222145,1019475255913222146',
          'exclude_deleted=false',
        ),
      ),
    ).toEqual(['1019653849998299137', '1019653849998299139']);
    expect(ids(await ok('get_current_user_application_entitlements', app, 'limit=1', 'after=1019653849998299136'))).toEqual([
      '1019653849998299137',
    ]);
  });

  it('retrieve_user_connections', async () => {
    expect((await ok('retrieve_user_connections')).map((c: { type: string; name: string }) => `${c.type}:${c.name}`)).toEqual([
      'github:alice',
      'steam:alice_plays',
    ]);
  });

  it('get_my_oauth2_authorization', async () => {
    const body = await ok('get_my_oauth2_authorization');
    expect(body.application.id).toBe(DEMO_CLIENT_ID);
    expect([...body.scopes].sort()).toEqual([
      'applications.entitlements',
      'connections',
      'guilds',
      'guilds.members.read',
      'identify',
      'openid',
    ]);
    expect(body.user.username).toBe('alice');
  });

  it('get_oauth2_public_keys: a JWKS with an RSA signing key', async () => {
    const { keys } = await ok('get_oauth2_public_keys');
    expect(keys).toHaveLength(1);
    expect(keys[0]).toMatchObject({ kty: 'RSA', use: 'sig', alg: 'RS256', e: 'AQAB' });
    expect(Buffer.from(keys[0].n, 'base64url')).toHaveLength(256);
  });

  it('get_gateway', async () => {
    expect(await ok('get_gateway')).toEqual({ url: 'wss://gateway.discord.gg' });
  });

  it('list_sticker_packs', async () => {
    const { sticker_packs: packs } = await ok('list_sticker_packs');
    expect(packs.map((p: { name: string }) => p.name)).toEqual(['Wumpus Beyond', 'Shiba Inu']);
    expect(packs[0].stickers[0]).toMatchObject({ name: 'Wave', pack_id: packs[0].id });
  });

  it('an image to a terminal is refused before anything is sent', async () => {
    // `script` gives the child a pseudo-terminal for stdout, as a user's shell would.
    const before = apiCalls();
    const { spawnSync } = await import('node:child_process');
    const command = `${process.execPath} ${path.resolve('bin/keygate.js')} call discord get_guild_widget_png --param guild_id=${WIDGET_GUILD_ID}`;
    const r = spawnSync('script', ['-qec', command, '/dev/null'], { env, encoding: 'utf8', timeout: 20_000 });
    expect(r.status).toBe(2);
    expect(r.stdout).toContain('get_guild_widget_png answers with an image, which would garble the terminal');
    expect(apiCalls()).toBe(before);
  });

  it('no call printed the access token, the refresh token or the client secret', async () => {
    const reveal = async (field: string) => (await runCli(['get', 'discord', '--field', field, '--reveal'], { env })).stdout.trim();
    const secrets = [await reveal('access_token'), await reveal('refresh_token'), DEMO_CLIENT_SECRET];
    expect(secrets.every((s) => s.length >= 16)).toBe(true);
    expect(printed.length).toBeGreaterThan(30);
    for (const secret of secrets) expect(printed.filter((text) => text.includes(secret))).toEqual([]);
  });
});
