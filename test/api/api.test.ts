// What the library's run promises its host process beyond what the CLI does: it does not take the
// host's signals unless asked, a piped child gets placeholders only, and a failure before the spawn
// rejects run() itself; the sandbox is the CLI's. In-process, against the emulator. (That login never opens a browser unless
// asked is checked on the packed package, test/package/library.test.ts.)
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openKeygate } from '../../src/index.js';
import { tempHome } from '../helpers/cli.js';
import { seedConnection } from '../helpers/seed.js';
import { startSession, type Session } from '../helpers/session.js';

let session: Session;
beforeAll(async () => {
  session = await startSession();
});
afterAll(async () => {
  await session?.close();
});

async function seed(home: string): Promise<string> {
  return (await seedConnection(session.emulator, home)).access_token;
}

describe('openKeygate()', () => {
  it('run: no SIGINT listener is added to the host; a piped child sees a placeholder, never the token', async () => {
    const home = tempHome();
    const token = await seed(home);
    const keygate = openKeygate({ home, env: session.envFor(home), stderr: () => undefined });
    const before = process.listenerCount('SIGINT');
    try {
      const { child, exit } = await keygate.run(
        process.execPath,
        ['-e', 'process.stdout.write(JSON.stringify(process.env)); process.exitCode = 3'],
        { stdio: 'pipe' },
      );
      let out = '';
      child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
      expect(process.listenerCount('SIGINT')).toBe(before);
      expect(await exit).toBe(3);
      const env = JSON.parse(out) as Record<string, string>;
      expect(env.DISCORD_ACCESS_TOKEN).toMatch(/^kgph_discord_default_/);
      expect(out).not.toContain(token);
      expect(await keygate.revealAccessToken('discord')).toBe(token);
    } finally {
      await keygate.close();
    }
  });

  it('run with forwardSignals: true does take them, for the run (the CLI)', async () => {
    const home = tempHome();
    await seed(home);
    const keygate = openKeygate({ home, env: session.envFor(home), stderr: () => undefined });
    const before = process.listenerCount('SIGINT');
    try {
      const { exit } = await keygate.run(process.execPath, ['-e', 'setTimeout(() => {}, 300)'], { forwardSignals: true });
      expect(process.listenerCount('SIGINT')).toBe(before + 1);
      expect(await exit).toBe(0);
      expect(process.listenerCount('SIGINT')).toBe(before);
    } finally {
      await keygate.close();
    }
  });

  it("run is sandboxed like `keygate run`: with sandbox: 'require' the child cannot see KEYGATE_HOME", async () => {
    const home = tempHome();
    await seed(home);
    const keygate = openKeygate({ home, env: session.envFor(home), stderr: () => undefined });
    try {
      // The sandbox lays an empty tmpfs over the home (only the run's public CA files come back): no vault.
      const probe = `process.stdout.write(String(require('node:fs').existsSync(${JSON.stringify(path.join(home, 'vault'))})))`;
      const read = async (sandbox: 'require' | 'off') => {
        const { child, exit } = await keygate.run(process.execPath, ['-e', probe], { stdio: 'pipe', sandbox });
        const out = child.stdout!.toArray();
        expect(await exit).toBe(0);
        return (await out).join('');
      };
      expect(await read('require')).toBe('false');
      expect(await read('off')).toBe('true');
    } finally {
      await keygate.close();
    }
  });

  it('a failure before the spawn rejects run() itself, with the closed error set', async () => {
    const home = tempHome();
    const keygate = openKeygate({ home, env: session.envFor(home), stderr: () => undefined });
    try {
      await expect(keygate.run(process.execPath, [])).rejects.toMatchObject({
        name: 'ConnectionNotFoundError',
        code: 'not_connected',
        exitCode: 3,
      });
      await seed(home);
      await expect(keygate.run('/no/such/command', [])).rejects.toMatchObject({
        code: 'error',
        message: 'command not found: /no/such/command',
      });
    } finally {
      await keygate.close();
    }
  });
});
