// Clear metadata is read without the master key (list, get --field), so a tampered record file can
// hold anything there: terminal escape sequences must come out escaped, not interpreted.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { printable } from '../../src/commands/format.js';
import { openVault } from '../../src/vault/index.js';
import { cliEnv, runCli, tempHome } from '../helpers/cli.js';

let home: string;
const EVIL_NAME = 'alice\x1b]0;pwned\x07\x1b[2J\u202e';

beforeAll(async () => {
  home = tempHome();
  const vault = await openVault({ home, env: { KEYGATE_KEY_BACKEND: 'keyfile' }, stderr: () => undefined, keychain: null });
  // An account name as a provider could send it (authentic record), and a record whose clear
  // metadata was edited in the file (caught on decryption, but `get --field` reads it without).
  for (const connection of ['default', 'tampered']) {
    await vault.write({
      provider: 'discord',
      connection,
      tokens: { access_token: 'PrintableTestToken000000000000', token_type: 'Bearer', scopes: ['identify'] },
      account: { id: '1', name: EVIL_NAME },
      status: 'connected',
      created_at: new Date().toISOString(),
    });
  }
  const file = path.join(home, 'vault', 'connections', 'discord', 'tampered.json');
  const record = JSON.parse(fs.readFileSync(file, 'utf8')) as { meta: { status: string } };
  record.meta.status = 'connected\x1b[31m';
  fs.writeFileSync(file, JSON.stringify(record));
});

afterAll(() => fs.rmSync(home, { recursive: true, force: true }));

describe('clear metadata on the terminal', () => {
  it('printable escapes C0, DEL, C1 and bidi overrides, and leaves other text alone', () => {
    expect(printable(EVIL_NAME)).toBe('alice\\x1b]0;pwned\\x07\\x1b[2J\\u{202e}');
    expect(printable('Ålice 名前 ok')).toBe('Ålice 名前 ok');
    expect(printable('a\x7fb\x85c')).toBe('a\\x7fb\\x85c');
  });

  it('get --field and list print a tampered account name and status escaped', async () => {
    const env = cliEnv(home);
    const name = await runCli(['get', 'discord', '--field', 'account_name'], { env });
    expect(name.stdout).toBe('alice\\x1b]0;pwned\\x07\\x1b[2J\\u{202e}\n');
    const status = await runCli(['get', 'discord', '--connection', 'tampered', '--field', 'status'], { env });
    expect(status.stdout).toBe('connected\\x1b[31m\n');
    const list = await runCli(['list'], { env });
    expect(list.stdout).not.toMatch(/[\x1b\x07]/);
    expect(list.stdout).toContain('alice\\x1b]0;pwned\\x07\\x1b[2J\\u{202e}');
    expect(list.stdout).toMatch(/tampered\s+unreadable/);
  });
});
