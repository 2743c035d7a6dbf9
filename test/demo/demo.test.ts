// `keygate demo` is the README's main command: it must work end to end and clean up after itself.
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { cliEnv, runCli, tempHome } from '../helpers/cli.js';

describe('keygate demo', () => {
  it('logs in to the emulator, runs an agent through the proxy with only a placeholder, and cleans up', async () => {
    const home = tempHome();
    const r = await runCli(['demo'], { env: cliEnv(home), timeoutMs: 60_000 });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Connected discord/default as alice (identify email guilds connections)');
    expect(r.stdout).toMatch(/\[agent\] DISCORD_ACCESS_TOKEN=kgph_discord_default_[0-9a-f]+\n/);
    expect(r.stdout).toContain('[agent] GET https://discord.com/api/v10/users/@me -> 200, username alice');
    expect(r.stdout).toContain('(no Authorization header) -> 200, 3 guilds');
    expect(r.stdout).toContain('the real token is not in it');
    // The sandboxed agent tries to take the token and gets nothing (bwrap is installed where tests run).
    expect(r.stdout).toContain('[thief] $ keygate get discord --field access_token --reveal -> exit 3: nothing');
    expect(r.stdout).toContain('vault/master.key -> ENOENT');
    expect(r.stdout).toContain('keygate not among them; DISCORD_CLIENT_SECRET in any environ: no');
    expect(r.stdout).not.toContain('GOT THE TOKEN');
    expect(r.stdout).toMatch(/discord\.com\/api\/v10\/users\/@me\s+200\s+discord\/default\s+injected/);
    const tempDir = /Temporary KEYGATE_HOME: (\S+)\/home/.exec(r.stdout)?.[1];
    expect(tempDir).toBeDefined();
    expect(fs.existsSync(tempDir!)).toBe(false);
    // The user's own home is untouched.
    expect(fs.readdirSync(home)).toEqual([]);
  });
});
