// A connection written straight into a vault from tokens the emulator issued: for tests about what
// comes after login (run, the library, clients), without the authorize round trip.
import type { Emulator } from '../../src/emulator/index.js';
import type { TokenResponse } from '../../src/emulator/types.js';
import { openVault } from '../../src/vault/index.js';

export async function seedConnection(emulator: Emulator, home: string, connection = 'default'): Promise<TokenResponse> {
  const tokens = emulator.controls.issueTokens();
  const vault = await openVault({ home, env: { KEYGATE_KEY_BACKEND: 'keyfile' }, stderr: () => undefined, keychain: null });
  await vault.write({
    provider: 'discord',
    connection,
    tokens: {
      access_token: tokens.access_token,
      refresh_token: tokens.refresh_token,
      token_type: 'Bearer',
      expires_at: new Date(Date.now() + 86_400_000).toISOString(),
      scopes: tokens.scope.split(' '),
    },
    account: { id: '80351110224678912', name: 'alice' },
    status: 'connected',
    created_at: new Date().toISOString(),
  });
  return tokens;
}
