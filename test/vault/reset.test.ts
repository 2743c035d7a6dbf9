// Issue 16: a vault that silently started over, and a lost master key with no way forward. Through
// the real CLI against the emulator; every suggested way forward is run.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, tempHome } from '../helpers/cli.js';
import { startSession, type Session } from '../helpers/session.js';

let session: Session;
beforeAll(async () => {
  session = await startSession();
});
afterAll(() => session.close());

const passphrase = { KEYGATE_KEY_BACKEND: 'passphrase', KEYGATE_PASSPHRASE: 'correct horse' };

async function twoConnections(extra: NodeJS.ProcessEnv = {}): Promise<string> {
  const home = tempHome();
  for (const args of [[], ['--connection', 'work']]) {
    const r = await session.login(home, args, undefined, extra);
    expect(r.code, r.stderr).toBe(0);
  }
  return home;
}

describe('a deleted vault.json', () => {
  it('is not silently replaced while records exist that the new key cannot open', async () => {
    const home = await twoConnections(passphrase);
    const env = session.envFor(home, passphrase);
    const config = path.join(home, 'vault', 'vault.json');
    expect(JSON.parse(fs.readFileSync(config, 'utf8')).backend).toBe('passphrase');
    const backup = fs.readFileSync(config);
    fs.rmSync(config);

    const r = await runCli(['list'], { env });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      `keygate: the vault config ${config} is missing, and the key from KEYGATE_PASSPHRASE cannot open the 3 records already there (discord/default, discord/work, client credentials of discord) — ` +
        `restore ${config} from a backup (it records where the key is and the passphrase salt), or start over deliberately with \`keygate vault reset\` (the old files are kept aside)\n`,
    );
    expect(fs.existsSync(config)).toBe(false); // nothing was written

    // Way forward 1: restore it from the backup.
    fs.writeFileSync(config, backup);
    const restored = await runCli(['list'], { env });
    expect(restored.code).toBe(0);
    expect(restored.stdout).toMatch(/discord\s+default\s+connected/);
  });

  it('a key file vault re-creates its config when the key still opens the records', async () => {
    const home = await twoConnections();
    fs.rmSync(path.join(home, 'vault', 'vault.json'));
    const r = await runCli(['status'], { env: session.envFor(home) });
    expect(r.code, r.stderr).toBe(0);
  });
});

describe('keygate vault reset', () => {
  it('after a lost master key: confirmed, keeps the old files aside, lists the connections to log in again, and they can', async () => {
    const home = await twoConnections();
    const env = session.envFor(home);
    fs.rmSync(path.join(home, 'vault', 'master.key'));
    const lost = await runCli(['status'], { env });
    expect(lost.code).toBe(1);
    expect(lost.stderr).toBe(
      `keygate: master key file ${path.join(home, 'vault', 'master.key')} is missing — restore it from a backup (without it the vault cannot be decrypted), or start over with \`keygate vault reset\`\n`,
    );

    // Without a terminal it asks for --yes instead of guessing.
    const unconfirmed = await runCli(['vault', 'reset'], { env });
    expect(unconfirmed.code).toBe(2);
    expect(unconfirmed.stderr).toBe(
      `keygate: vault reset sets ${path.join(home, 'vault')} aside (2 connections will need a new login) and needs confirmation — run \`keygate vault reset --yes\`\n`,
    );
    expect(fs.existsSync(path.join(home, 'vault', 'vault.json'))).toBe(true);

    const reset = await runCli(['vault', 'reset', '--yes'], { env });
    expect(reset.code, reset.stderr).toBe(0);
    const aside = /aside in (\S+) \(/.exec(reset.stdout)![1];
    expect(reset.stdout).toBe(
      `Set the old vault aside in ${aside} (nothing was deleted; remove it yourself once you are sure).\nA fresh vault is created on next use.\n` +
        'Log in again (client credentials come from the environment or a prompt):\n  keygate login discord\n  keygate login discord --connection work\n',
    );
    expect(path.dirname(aside)).toBe(home);
    expect(fs.readdirSync(path.join(aside, 'connections', 'discord')).sort()).toEqual(['default.json', 'work.json']);
    expect(fs.existsSync(path.join(aside, 'vault.json'))).toBe(true);

    // The listed commands, run.
    for (const args of [[], ['--connection', 'work']]) {
      const r = await session.login(home, args);
      expect(r.code, r.stderr).toBe(0);
    }
    const status = await runCli(['status'], { env });
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/default\s+connected[\s\S]*work\s+connected/);
  });

  it('resets a passphrase vault whose vault.json is gone, after which login works', async () => {
    const extra = passphrase;
    const home = await twoConnections(extra);
    fs.rmSync(path.join(home, 'vault', 'vault.json'));
    const env = session.envFor(home, extra);
    expect((await runCli(['list'], { env })).code).toBe(1);
    expect((await runCli(['vault', 'reset', '--yes'], { env })).code).toBe(0);
    const r = await session.login(home, [], undefined, extra);
    expect(r.code, r.stderr).toBe(0);
    expect((await runCli(['list'], { env })).stdout).toMatch(/discord\s+default\s+connected/);
  });

  it('with no vault, says there is nothing to reset', async () => {
    const home = tempHome();
    const r = await runCli(['vault', 'reset', '--yes'], { env: session.envFor(home) });
    expect([r.code, r.stdout]).toEqual([0, `No vault in ${home}: nothing to reset. The first login creates one.\n`]);
  });
});
