// Shared helpers for the vault tests: temp homes, fake keychains, and a transpiled copy of the vault
// sources that child processes can import (Node 20 cannot run the .ts sources directly).
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Keychain } from '../../src/vault/index.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

const created: string[] = [];

export async function tempHome(): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'keygate-vault-test-'));
  created.push(dir);
  return dir;
}

/** Remove every temp dir this test file made (call from afterAll). */
export async function removeTempDirs(): Promise<void> {
  await Promise.all(created.splice(0).map((dir) => fs.rm(dir, { recursive: true, force: true })));
  built = undefined;
}

/** An in-memory keychain that counts calls, so tests can prove when the keychain was (not) touched. */
export function memoryKeychain(): Keychain & { entries: Map<string, string>; calls: number } {
  const entries = new Map<string, string>();
  const fake = {
    entries,
    calls: 0,
    async getPassword(service: string, account: string) {
      fake.calls++;
      return entries.get(`${service}/${account}`) ?? null;
    },
    async setPassword(service: string, account: string, password: string) {
      fake.calls++;
      entries.set(`${service}/${account}`, password);
    },
    async deletePassword(service: string, account: string) {
      fake.calls++;
      return entries.delete(`${service}/${account}`);
    },
  };
  return fake;
}

/** A keychain like a locked Secret Service: every call hangs forever. */
export function hangingKeychain(): Keychain {
  const never = () => new Promise<never>(() => undefined);
  return { getPassword: never, setPassword: never, deletePassword: never };
}

let built: Promise<string> | undefined;

/**
 * Transpile src/vault (and the two modules it imports) to a temp dir and return the path of its
 * index.js. The temp dir gets a node_modules symlink so `proper-lockfile` resolves.
 */
export function buildVaultForChildren(): Promise<string> {
  built ??= (async () => {
    const ts = (await import('typescript')).default;
    const out = await fs.mkdtemp(path.join(os.tmpdir(), 'keygate-vault-build-'));
    created.push(out);
    await fs.symlink(path.join(root, 'node_modules'), path.join(out, 'node_modules'), 'dir');
    const sources = [
      'src/errors.ts',
      'src/home.ts',
      'src/connection/hints.ts',
      ...(await fs.readdir(path.join(root, 'src/vault'))).filter((f) => f.endsWith('.ts')).map((f) => `src/vault/${f}`),
    ];
    for (const source of sources) {
      const text = await fs.readFile(path.join(root, source), 'utf8');
      const { outputText } = ts.transpileModule(text, {
        compilerOptions: { module: ts.ModuleKind.ES2022, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
        fileName: source,
      });
      const target = path.join(out, source.replace(/\.ts$/, '.js'));
      await fs.mkdir(path.dirname(target), { recursive: true });
      await fs.writeFile(target, outputText);
    }
    await fs.writeFile(path.join(out, 'package.json'), '{"type":"module"}\n');
    return path.join(out, 'src/vault/index.js');
  })();
  return built;
}

export const fixture = (name: string): string => path.join(root, 'test/vault/fixtures', name);

/** Every file under `dir`, recursively, with its bytes. */
export async function allFiles(dir: string): Promise<Array<{ file: string; bytes: Buffer }>> {
  const out: Array<{ file: string; bytes: Buffer }> = [];
  for (const entry of await fs.readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    const file = path.join(entry.parentPath, entry.name);
    out.push({ file, bytes: await fs.readFile(file) });
  }
  return out;
}

export function sampleRecord(provider: string, connection: string, accessToken = `at-${provider}-${connection}-SECRETVALUE`) {
  return {
    provider,
    connection,
    tokens: {
      access_token: accessToken,
      refresh_token: `rt-${provider}-${connection}-SECRETVALUE`,
      token_type: 'Bearer',
      expires_at: '2030-01-01T00:00:00.000Z',
      scopes: ['identify', 'email'],
    },
    account: { id: '42', name: 'alice' },
    status: 'connected' as const,
    created_at: '2025-01-01T00:00:00.000Z',
  };
}
