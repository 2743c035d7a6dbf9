// keygate's CA: created once, key in the vault, name-constrained to provider hosts, regenerated when
// the hosts outgrow it; leaves cached; a certificate for any other host fails verification.
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import type net from 'node:net';
import path from 'node:path';
import tls from 'node:tls';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { loadCertificateAuthority } from '../../src/pki/certs.js';
import { isCovered, loadProxyCa } from '../../src/proxy/ca.js';
import type { Vault } from '../../src/vault/types.js';
import { removeTempDirs, tempDir, testVault } from '../fixtures/proxy-harness.js';

/** The vault, counting secret writes. */
function counting(vault: Vault): Vault & { writes: string[] } {
  const writes: string[] = [];
  return Object.assign(Object.create(vault) as Vault, {
    writes,
    writeSecret: (name: string, data: Buffer) => {
      writes.push(name);
      return vault.writeSecret(name, data);
    },
  });
}

afterAll(removeTempDirs);

describe('keygate CA', () => {
  it('is created once: key encrypted in the vault, certificate in KEYGATE_HOME/proxy/ca.pem', async () => {
    const home = tempDir();
    const vault = counting(await testVault(home));
    const ca = await loadProxyCa({ home, vault, hosts: ['discord.com'] });
    expect(ca.certPath).toBe(path.join(home, 'proxy', 'ca.pem'));
    expect(fs.readFileSync(ca.certPath, 'utf8')).toBe(ca.certPem);
    expect(vault.writes).toEqual(['proxy-ca-key']);
    // The private key is nowhere in clear under KEYGATE_HOME.
    for (const entry of fs.readdirSync(home, { recursive: true, withFileTypes: true })) {
      if (entry.isFile()) expect(fs.readFileSync(path.join(entry.parentPath, entry.name), 'utf8')).not.toContain('PRIVATE KEY');
    }
    const again = await loadProxyCa({ home, vault, hosts: ['discord.com'] });
    expect(again.certPem).toBe(ca.certPem);
    expect(vault.writes).toEqual(['proxy-ca-key']);
  });

  it('carries critical name constraints for exactly the provider hosts', async () => {
    const home = tempDir();
    const ca = await loadProxyCa({ home, vault: await testVault(home), hosts: ['discord.com', 'api.example.test'] });
    const { stdout } = await promisify(execFile)('openssl', ['x509', '-in', ca.certPath, '-noout', '-ext', 'nameConstraints']);
    expect(stdout).toMatch(/Name Constraints: critical/);
    expect(stdout).toContain('DNS:discord.com');
    expect(stdout).toContain('DNS:api.example.test');
    expect(ca.permittedHosts).toEqual(['api.example.test', 'discord.com']);
  });

  it('is regenerated when the provider hosts grow beyond its constraints', async () => {
    const home = tempDir();
    const vault = await testVault(home);
    const first = await loadProxyCa({ home, vault, hosts: ['discord.com'] });
    const same = await loadProxyCa({ home, vault, hosts: ['discord.com'] });
    expect(same.certPem).toBe(first.certPem);
    const grown = await loadProxyCa({ home, vault, hosts: ['discord.com', 'api.example.test'] });
    expect(grown.certPem).not.toBe(first.certPem);
    expect(fs.readFileSync(grown.certPath, 'utf8')).toBe(grown.certPem);
    await expect(grown.leaf('api.example.test')).resolves.toBeDefined();
  });

  it('caches leaves in memory and in the vault', async () => {
    const home = tempDir();
    const vault = counting(await testVault(home));
    const ca = await loadProxyCa({ home, vault, hosts: ['discord.com'] });
    const leaf = await ca.leaf('discord.com');
    expect(await ca.leaf('DISCORD.com')).toBe(leaf);
    const next = await loadProxyCa({ home, vault, hosts: ['discord.com'] });
    expect((await next.leaf('discord.com')).certPem).toBe(leaf.certPem);
    expect(vault.writes.filter((w) => w === 'proxy-leaf-certs')).toHaveLength(1);
    const cert = new X509Certificate(leaf.certPem);
    expect(cert.checkHost('discord.com')).toBe('discord.com');
    expect(cert.verify(new X509Certificate(ca.certPem).publicKey)).toBe(true);
  });

  it('refuses to issue for a host outside its constraints', async () => {
    const home = tempDir();
    const ca = await loadProxyCa({ home, vault: await testVault(home), hosts: ['discord.com'] });
    await expect(ca.leaf('evil.example')).rejects.toThrow(/may not issue a certificate for evil\.example/);
    expect(isCovered('cdn.discord.com', ['discord.com'])).toBe(true);
    expect(isCovered('notdiscord.com', ['discord.com'])).toBe(false);
  });

  it('a certificate its key signs for another host fails verification (openssl and a Node TLS client)', async () => {
    const home = tempDir();
    const vault = await testVault(home);
    const ca = await loadProxyCa({ home, vault, hosts: ['discord.com'] });
    // Sign with the CA key directly, as someone who stole it would.
    const stored = JSON.parse((await vault.readSecret('proxy-ca-key'))!.toString('utf8')) as { certPem: string; keyPem: string };
    const signer = await loadCertificateAuthority(stored);
    const rogue = await signer.issue(['evil.example']);
    const good = await signer.issue(['discord.com']);
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, 'rogue.pem'), rogue.certPem);
    fs.writeFileSync(path.join(dir, 'good.pem'), good.certPem);

    const verify = (file: string) =>
      promisify(execFile)('openssl', ['verify', '-CAfile', ca.certPath, file]).then(
        (r) => r.stdout + r.stderr,
        (err: { stdout: string; stderr: string }) => `FAILED ${err.stdout}${err.stderr}`,
      );
    expect(await verify(path.join(dir, 'good.pem'))).toMatch(/OK/);
    expect(await verify(path.join(dir, 'rogue.pem'))).toMatch(/FAILED[\s\S]*(permitted subtree violation|name constraints)/i);

    const server = tls.createServer({ cert: rogue.certPem, key: rogue.keyPem }, (socket) => socket.end());
    server.on('tlsClientError', () => undefined);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const error = await new Promise<Error | undefined>((resolve) => {
        const client = tls.connect(
          { port: (server.address() as net.AddressInfo).port, host: '127.0.0.1', servername: 'evil.example', ca: ca.certPem },
          () => {
            client.destroy();
            resolve(undefined);
          },
        );
        client.once('error', resolve);
      });
      expect(error).toBeDefined();
      expect(`${(error as NodeJS.ErrnoException).code} ${error!.message}`).toMatch(
        /PERMITTED_SUBTREE_VIOLATION|permitted subtree|name constraint/i,
      );
    } finally {
      server.close();
    }
  });
});
