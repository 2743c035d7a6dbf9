// The file vault against the store contract.
import { afterAll } from 'vitest';
import { openStore } from '../../src/store/index.js';
import { allFiles, removeTempDirs, tempHome } from '../vault/helpers.js';
import { storeContract } from './contract.js';

afterAll(removeTempDirs);

storeContract('files', {
  async fresh() {
    const home = await tempHome();
    const quiet = () => undefined;
    return {
      open: () =>
        openStore({ home, env: { KEYGATE_PASSPHRASE: 'right one', KEYGATE_KEY_BACKEND: 'passphrase' }, stderr: quiet, keychain: null }),
      wrongKey: () => openStore({ home, env: { KEYGATE_PASSPHRASE: 'wrong one' }, stderr: quiet, keychain: null }),
      raw: async () =>
        (await allFiles(home))
          .filter(({ file }) => !file.endsWith('.lock'))
          .map(({ file, bytes }) => `${file}\n${bytes.toString('utf8')}`)
          .sort()
          .join('\n'),
    };
  },
});
