// A user token and a bot token selected together under `keygate run`: the built CLI as a real
// process, curl as the child, the emulator's echo target reporting which token and scheme arrived.
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Emulator, startEmulator } from '../../src/emulator/index.js';
import { openVault } from '../../src/vault/index.js';
import { cliEnv, runCli, tempHome } from '../helpers/cli.js';

let emulator: Emulator;
let home: string;
let env: NodeJS.ProcessEnv;
let userToken: string;
let botToken: { token: string; token_id: string };

beforeAll(async () => {
  home = tempHome();
  emulator = await startEmulator({ dir: path.join(home, 'emulator') });
  env = cliEnv(home, { KEYGATE_CONNECT_TO: emulator.connectToAll, NODE_EXTRA_CA_CERTS: emulator.caPath });
  const vault = await openVault({ home, env: { KEYGATE_KEY_BACKEND: 'keyfile' }, stderr: () => undefined, keychain: null });
  const issued = emulator.controls.issueTokens();
  userToken = issued.access_token;
  const now = new Date().toISOString();
  await vault.write({
    provider: 'discord',
    connection: 'default',
    tokens: {
      access_token: issued.access_token,
      refresh_token: issued.refresh_token,
      token_type: 'Bearer',
      expires_at: new Date(Date.now() + 86_400_000).toISOString(),
      scopes: issued.scope.split(' '),
    },
    account: { id: '80351110224678912', name: 'alice' },
    status: 'connected',
    created_at: now,
  });
  botToken = emulator.controls.botToken();
  await vault.write({
    provider: 'discord',
    connection: 'bot',
    kind: 'bot',
    application: { id: '123456789012345678', name: 'Keygate Demo' },
    installations: [],
    tokens: { access_token: botToken.token, token_type: 'Bot', scopes: [] },
    account: { id: '1171993355049885706', name: 'keygate-demo' },
    status: 'connected',
    created_at: now,
  });
}, 30_000);

afterAll(async () => {
  await emulator.stop();
});

const ECHO = 'https://discord.com/api/v10/__echo';

describe('keygate run with a user and a bot credential', () => {
  it('each placeholder reaches the emulator as its own token with its own scheme; crossing kinds is refused', async () => {
    const script = [
      `curl -sS -X POST -H "Authorization: Bearer $DISCORD_ACCESS_TOKEN" ${ECHO}; echo`,
      `curl -sS -X POST -H "Authorization: Bot $DISCORD_BOT_TOKEN" ${ECHO}; echo`,
      `curl -sS -X POST ${ECHO}; echo`,
      `curl -sS -X POST -H "Authorization: Bearer $DISCORD_BOT_TOKEN" ${ECHO}; echo`,
      `curl -sS -H "Authorization: Bot $DISCORD_BOT_TOKEN" https://discord.com/api/v10/users/@me; echo`,
      'env | grep -E "^DISCORD_(ACCESS|BOT)_TOKEN="',
    ].join('\n');
    const res = await runCli(['run', '--', 'sh', '-c', script], { env: { ...env, DISCORD_BOT_TOKEN: botToken.token }, timeoutMs: 30_000 });
    expect(res.code, res.stderr).toBe(0);
    const lines = res.stdout.trim().split('\n');
    const [asUser, asBot, implicit, crossed, me] = lines.slice(0, 5).map((l) => JSON.parse(l));
    expect(asUser).toMatchObject({ auth_scheme: 'Bearer', token_id: expect.stringMatching(/^tok_/) });
    expect(asBot).toMatchObject({ auth_scheme: 'Bot', token_id: botToken.token_id });
    // No Authorization and two credentials: the default user connection's token is added.
    expect(implicit).toMatchObject({ auth_scheme: 'Bearer', token_id: asUser.token_id });
    expect(crossed).toMatchObject({ error: 'keygate_placeholder_refused' });
    expect(crossed.message).toContain('$DISCORD_BOT_TOKEN is a bot token: send it as "Authorization: Bot $DISCORD_BOT_TOKEN"');
    expect(me).toMatchObject({ id: '1171993355049885706', bot: true });
    // The child saw placeholders only, the bot's under DISCORD_BOT_TOKEN (the inherited real one replaced).
    expect(lines.slice(5).sort()).toEqual([
      expect.stringMatching(/^DISCORD_ACCESS_TOKEN=kgph_discord_default_[0-9a-f]{32}$/),
      expect.stringMatching(/^DISCORD_BOT_TOKEN=kgph_discord_bot_[0-9a-f]{32}$/),
    ]);
    expect(res.stdout + res.stderr).not.toContain(botToken.token);
    expect(res.stdout + res.stderr).not.toContain(userToken);
    // The emulator saw each request with a real token, none with a placeholder.
    const log = emulator.controls.requestLog().filter((e) => e.path.endsWith('/__echo'));
    expect(log.map((e) => [e.status, e.tokenId])).toEqual([
      [200, asUser.token_id],
      [200, botToken.token_id],
      [200, asUser.token_id],
    ]);
  });

  it('with only the bot selected, a request without Authorization gets the bot token', async () => {
    const res = await runCli(['run', '--connection', 'discord/bot', '--', 'sh', '-c', `curl -sS -X POST ${ECHO}`], {
      env,
      timeoutMs: 30_000,
    });
    expect(res.code, res.stderr).toBe(0);
    expect(JSON.parse(res.stdout)).toMatchObject({ auth_scheme: 'Bot', token_id: botToken.token_id });
  });

  it('a real bot token exported for `login --bot` does not reach a child that runs without the bot', async () => {
    const res = await runCli(['run', '--connection', 'discord/default', '--', 'sh', '-c', 'echo "bot=${DISCORD_BOT_TOKEN:-unset}"'], {
      env: { ...env, DISCORD_BOT_TOKEN: botToken.token },
      timeoutMs: 30_000,
    });
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toBe('bot=unset\n');
  });
});
