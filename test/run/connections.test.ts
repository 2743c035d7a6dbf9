// Which credentials a run gets, their placeholder variables, and the errors (with exit codes).
import { describe, expect, it } from 'vitest';
import { ConnectionNotFoundError, CredentialError, ExitCode, ProviderError, UsageError } from '../../src/errors.js';
import { getProvider } from '../../src/provider/index.js';
import { parseConnectionArgs, selectCredentials } from '../../src/run/connections.js';
import type { ConnectionRecord, ListedConnection } from '../../src/vault/types.js';

function record(provider: string, connection: string, status: ConnectionRecord['status'] = 'connected'): ConnectionRecord {
  return {
    provider,
    connection,
    tokens: {
      access_token: `at-${connection}-SECRET`,
      refresh_token: `rt-${connection}-SECRET`,
      token_type: 'Bearer',
      scopes: ['identify'],
    },
    account: null,
    status,
    created_at: '2025-01-01T00:00:00.000Z',
  };
}

function fakeVault(records: ConnectionRecord[], broken: ListedConnection[] = []) {
  return {
    list: async (): Promise<ListedConnection[]> => [
      ...records.map((r) => ({ provider: r.provider, connection: r.connection, record: r })),
      ...broken,
    ],
    read: async (p: string, c: string) => records.find((r) => r.provider === p && r.connection === c),
  };
}

const providers = new Map([['discord', await getProvider('discord', { home: '/nonexistent' })]]);

describe('selecting credentials', () => {
  it('defaults to the default connection of each connected (or expired) provider', async () => {
    const vault = fakeVault([record('discord', 'default', 'expired'), record('discord', 'work')]);
    const { credentials, secretValues } = await selectCredentials({ vault, providers });
    expect(credentials.map((c) => [c.provider, c.connection, c.envName])).toEqual([['discord', 'default', 'DISCORD_ACCESS_TOKEN']]);
    expect(credentials[0].placeholder).toMatch(/^kgph_discord_default_[0-9a-f]{32}$/);
    expect(secretValues).toEqual(['at-default-SECRET', 'rt-default-SECRET']);
  });

  it('uses exactly the --connection values, with a suffixed variable for named connections', async () => {
    const vault = fakeVault([record('discord', 'default'), record('discord', 'work-2')]);
    const { credentials } = await selectCredentials({
      vault,
      providers,
      connections: ['discord/work-2', 'discord/default', 'discord/work-2'],
    });
    expect(credentials.map((c) => c.envName)).toEqual(['DISCORD_ACCESS_TOKEN_WORK_2', 'DISCORD_ACCESS_TOKEN']);
    expect(new Set(credentials.map((c) => c.placeholder)).size).toBe(2);
  });

  it('placeholders are random per run', async () => {
    const vault = fakeVault([record('discord', 'default')]);
    const a = await selectCredentials({ vault, providers });
    const b = await selectCredentials({ vault, providers });
    expect(a.credentials[0].placeholder).not.toBe(b.credentials[0].placeholder);
  });

  it('refuses with exit 3 and a login hint when there is no credential', async () => {
    const err = await selectCredentials({ vault: fakeVault([record('discord', 'default', 'revoked')]), providers }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ConnectionNotFoundError);
    expect((err as ConnectionNotFoundError).exitCode).toBe(ExitCode.notConnected);
    expect((err as ConnectionNotFoundError).hint).toBe('run `keygate login discord`');
  });

  it('names the problem with an explicit --connection', async () => {
    const vault = fakeVault([record('discord', 'old', 'revoked')]);
    await expect(selectCredentials({ vault, providers, connections: ['discord/none'] })).rejects.toThrow(ConnectionNotFoundError);
    await expect(selectCredentials({ vault, providers, connections: ['discord/old'] })).rejects.toThrow(CredentialError);
    await expect(selectCredentials({ vault, providers, connections: ['nope/default'] })).rejects.toThrow(ProviderError);
  });

  it('rejects bad --connection syntax as a usage error naming the value', () => {
    for (const bad of ['discord', 'discord/', '/work', 'Discord/work', 'discord/work/x', 'discord/../x']) {
      expect(() => parseConnectionArgs([bad])).toThrow(UsageError);
      expect(() => parseConnectionArgs([bad])).toThrow(`got \`${bad}\``);
    }
  });

  it('warns about unreadable records instead of failing the run', async () => {
    const warnings: string[] = [];
    const vault = fakeVault(
      [record('discord', 'default')],
      [{ provider: 'discord', connection: 'default', error: new Error('tampered record') }],
    );
    await selectCredentials({ vault, providers, warn: (m) => warnings.push(m) });
    expect(warnings).toEqual(['skipping discord/default: tampered record']);
  });
});
