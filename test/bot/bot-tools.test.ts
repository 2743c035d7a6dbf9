// Tools that need a bot token (get_user for any id) through `keygate call` with a bot connection:
// the built CLI against the emulator, which answers GET /users/{id} only to `Bot <token>`.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, tempHome } from '../helpers/cli.js';
import { startSession, type Session } from '../helpers/session.js';

let session: Session;
beforeAll(async () => {
  session = await startSession();
});
afterAll(() => session.close());

describe('bot tools in keygate call', () => {
  it('get_user for another id uses the bot connection; @me still uses the user token', async () => {
    const home = tempHome();
    const env = session.envFor(home);
    const none = await runCli(['call', 'discord', 'get_user', '--param', 'user_id=80351110224678912'], { env });
    expect(none.code).toBe(3);
    expect(none.stderr).toContain('keygate login discord --bot');

    expect((await session.login(home)).code).toBe(0);
    const { token, token_id } = session.emulator.controls.botToken();
    expect((await runCli(['login', 'discord', '--bot'], { env: { ...env, DISCORD_BOT_TOKEN: token } })).code).toBe(0);
    const listed = JSON.parse((await runCli(['tools', 'list', 'discord', '--json'], { env })).stdout);
    expect(listed.tools.find((t: { name: string }) => t.name === 'get_user')).toMatchObject({
      callable: true,
      note: 'uses the bot connection',
    });

    const other = await runCli(['call', 'discord', 'get_user', '--param', 'user_id=80351110224678912'], { env });
    expect(other.code, other.stderr).toBe(0);
    expect(JSON.parse(other.stdout)).toMatchObject({ id: '80351110224678912', username: 'alice' });
    expect(session.emulator.controls.requestLog().at(-1)).toMatchObject({
      path: '/api/v10/users/80351110224678912',
      status: 200,
      tokenId: token_id,
    });

    const me = await runCli(['call', 'discord', 'get_user', '--param', 'user_id=@me'], { env });
    expect(me.code, me.stderr).toBe(0);
    expect(session.emulator.controls.requestLog().at(-1)!.tokenId).toMatch(/^tok_/);

    // A user connection named with --connection (as MCP passes the one it serves): the bot tool still
    // uses the bot connection; a user tool named with the bot connection is refused.
    const viaUser = await runCli(['call', 'discord', 'get_user', '--connection', 'default', '--param', 'user_id=80351110224678912'], {
      env,
    });
    expect(viaUser.code, viaUser.stderr).toBe(0);
    expect(session.emulator.controls.requestLog().at(-1)!.tokenId).toBe(token_id);
    const wrong = await runCli(['call', 'discord', 'get_my_user', '--connection', 'bot'], { env });
    expect(wrong.code).toBe(3);
    expect(wrong.stderr).toContain('get_my_user acts for a user, and discord/bot is a bot connection');
    expect(other.stdout + other.stderr + me.stdout + viaUser.stdout).not.toContain(token);
  });

  it('a reset bot token: the call exits 5, the connection is revoked with the reset hint', async () => {
    const home = tempHome();
    const env = session.envFor(home);
    const { token } = session.emulator.controls.botToken();
    expect((await runCli(['login', 'discord', '--bot'], { env: { ...env, DISCORD_BOT_TOKEN: token } })).code).toBe(0);
    session.emulator.controls.resetBotToken();
    const r = await runCli(['call', 'discord', 'get_user', '--param', 'user_id=80351110224678912'], { env });
    expect(r.code).toBe(5);
    expect(r.stderr).toMatch(
      /^keygate: discord\/bot is revoked \(.+\) — reset the token in the Developer Portal \(Bot → Reset Token\), then run `keygate login discord --bot`\n$/,
    );
    expect((await runCli(['get', 'discord', '--connection', 'bot', '--field', 'status'], { env })).stdout).toBe('revoked\n');
  });
});
