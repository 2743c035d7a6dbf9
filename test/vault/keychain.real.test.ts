// The one test that talks to a real Secret Service. CI runs it as:
//   dbus-run-session -- bash -c 'printf pw | gnome-keyring-daemon --unlock --components=secrets >/dev/null;
//                                KEYGATE_TEST_KEYCHAIN=1 npx vitest run test/vault'
// It creates one entry for a temp KEYGATE_HOME and deletes it afterwards.
import { afterAll, describe, expect, it } from 'vitest';
import { KEYCHAIN_SERVICE, keychainAccount, openVault, type Keychain } from '../../src/vault/index.js';
import { removeTempDirs, sampleRecord, tempHome } from './helpers.js';

afterAll(removeTempDirs);

const enabled = process.env.KEYGATE_TEST_KEYCHAIN === '1';

describe('real OS keychain', () => {
  it.skipIf(!enabled)(
    'stores the master key in the keychain and reads it back (skipped unless KEYGATE_TEST_KEYCHAIN=1: needs an unlocked Secret Service, and must never touch a user keychain)',
    async () => {
      const keytarModule = 'keytar';
      const keytar = ((await import(keytarModule)) as { default: Keychain }).default;
      const home = await tempHome();
      const account = keychainAccount(home);
      const lines: string[] = [];
      try {
        expect(await keytar.getPassword(KEYCHAIN_SERVICE, account)).toBeNull();
        const vault = await openVault({ home, env: { KEYGATE_KEY_BACKEND: 'keychain' }, stderr: (t) => lines.push(t) });
        await vault.write(sampleRecord('discord', 'default'));
        expect(await vault.backend()).toBe('keychain');
        expect(Buffer.from((await keytar.getPassword(KEYCHAIN_SERVICE, account)) ?? '', 'base64')).toHaveLength(32);

        const again = await openVault({ home, env: {} });
        expect((await again.read('discord', 'default'))?.tokens.access_token).toBe('at-discord-default-SECRETVALUE');
        expect(lines).toEqual([]);
      } finally {
        await keytar.deletePassword(KEYCHAIN_SERVICE, account);
      }
      expect(await keytar.getPassword(KEYCHAIN_SERVICE, account)).toBeNull();
    },
    15_000,
  );
});
