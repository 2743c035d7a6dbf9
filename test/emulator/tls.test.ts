import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import tls from 'node:tls';
import { promisify } from 'node:util';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDispatcher } from '../../src/net.js';
import { startEmulator } from '../../src/emulator/index.js';
import { loadCertificateAuthority } from '../../src/pki/certs.js';
import { startHarness, type Harness } from './helpers.js';

const run = promisify(execFile);

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h.close();
});

function handshake(servername: string, ca?: string): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port: h.emulator.port, servername, ca: ca ? [ca] : undefined });
    socket.once('secureConnect', () => resolve(socket));
    socket.once('error', reject);
  });
}

describe('the emulator certificate', () => {
  it('verifies for discord.com with the emulator CA', async () => {
    const socket = await handshake('discord.com', h.emulator.caCertPem);
    expect(socket.authorized).toBe(true);
    expect(socket.getPeerCertificate().subjectaltname).toContain('DNS:discord.com');
    socket.destroy();
  });

  it('does not verify without the emulator CA', async () => {
    await expect(handshake('discord.com')).rejects.toMatchObject({ code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' });
    const plain = createDispatcher({ env: { KEYGATE_CONNECT_TO: h.emulator.connectTo } });
    await expect(request('https://discord.com/api/v10/gateway', { dispatcher: plain })).rejects.toThrow();
    await plain.close();
  });

  it('does not verify for another host name, even with the CA', async () => {
    await expect(handshake('example.com', h.emulator.caCertPem)).rejects.toMatchObject({
      code: 'ERR_TLS_CERT_ALTNAME_INVALID',
    });
  });

  it('verifies for https://127.0.0.1:<port>, where a browser reaches the consent page', async () => {
    const socket = await new Promise<tls.TLSSocket>((resolve, reject) => {
      const s = tls.connect({ host: '127.0.0.1', port: h.emulator.port, ca: [h.emulator.caCertPem] });
      s.once('secureConnect', () => resolve(s));
      s.once('error', reject);
    });
    expect(socket.authorized).toBe(true);
    expect(socket.getPeerCertificate().subjectaltname).toContain('IP Address:127.0.0.1');
    socket.destroy();
    const { stdout } = await run('curl', [
      '--silent',
      '--show-error',
      '--cacert',
      h.emulator.caPath,
      `${h.emulator.origin}/api/v10/gateway`,
    ]);
    expect(JSON.parse(stdout)).toEqual({ url: 'wss://gateway.discord.gg' });
  });

  it('the CA vouches for no other IP address or host, even with its key (name constraints)', async () => {
    const key = await fs.readFile(path.join(h.dir, 'ca-key.pem'), 'utf8');
    const signer = await loadCertificateAuthority({ keyPem: key, certPem: h.emulator.caCertPem });
    const verify = async (names: string[]) => {
      const file = path.join(h.dir, `leaf-${names.join('-')}.pem`);
      await fs.writeFile(file, (await signer.issue(names)).certPem);
      return run('openssl', ['verify', '-CAfile', h.emulator.caPath, file]).then(
        (r) => r.stdout,
        (err: { stdout: string; stderr: string }) => `FAILED ${err.stdout}${err.stderr}`,
      );
    };
    // The subject CN is the first name, and OpenSSL checks a host-like CN against the DNS
    // constraints: each leaf leads with discord.com so only the IP address is on trial.
    expect(await verify(['discord.com', '127.0.0.1'])).toMatch(/: OK/);
    expect(await verify(['discord.com', '10.0.0.1'])).toMatch(/FAILED[\s\S]*(permitted subtree violation|name constraints)/i);
    expect(await verify(['discord.com', '192.168.1.1'])).toMatch(/FAILED[\s\S]*(permitted subtree violation|name constraints)/i);
    expect(await verify(['discord.com', '::1'])).toMatch(/FAILED[\s\S]*(subtree violation|name constraints)/i);
    expect(await verify(['evil.example'])).toMatch(/FAILED[\s\S]*(permitted subtree violation|name constraints)/i);
  });

  it('is reachable with curl --cacert --connect-to', async () => {
    const { stdout } = await run('curl', [
      '--silent',
      '--show-error',
      '--cacert',
      h.emulator.caPath,
      '--connect-to',
      h.emulator.connectTo,
      'https://discord.com/api/v10/gateway',
    ]);
    expect(JSON.parse(stdout)).toEqual({ url: 'wss://gateway.discord.gg' });
  });

  it('is refused by curl without the CA', async () => {
    const failure = await run('curl', ['--silent', '--connect-to', h.emulator.connectTo, 'https://discord.com/api/v10/gateway']).catch(
      (err: { code: number }) => err,
    );
    expect(failure).toMatchObject({ code: 60 }); // curl: peer certificate cannot be authenticated
  });
});

describe('the CA directory', () => {
  it('holds ca.pem (the certificate) and ca-key.pem (0600)', async () => {
    expect(h.emulator.caPath).toBe(path.join(h.dir, 'ca.pem'));
    expect(await fs.readFile(h.emulator.caPath, 'utf8')).toBe(h.emulator.caCertPem);
    const key = await fs.stat(path.join(h.dir, 'ca-key.pem'));
    expect(key.mode & 0o777).toBe(0o600);
  });

  it('is reused by the next emulator started on it', async () => {
    const again = await startEmulator({ dir: h.dir });
    try {
      expect(again.caCertPem).toBe(h.emulator.caCertPem);
      expect(again.port).not.toBe(h.emulator.port);
    } finally {
      await again.stop();
    }
  });

  it('gets a new CA when the key file is corrupt', async () => {
    const dir = path.join(h.dir, 'corrupt');
    await fs.mkdir(dir);
    await fs.writeFile(path.join(dir, 'ca-key.pem'), 'not a key');
    const emulator = await startEmulator({ dir });
    try {
      expect(await fs.readFile(path.join(dir, 'ca.pem'), 'utf8')).toBe(emulator.caCertPem);
      expect(await fs.readFile(path.join(dir, 'ca-key.pem'), 'utf8')).toContain('BEGIN PRIVATE KEY');
    } finally {
      await emulator.stop();
    }
  });

  it('is shared by emulators starting at the same time', async () => {
    const dir = path.join(h.dir, 'race');
    const emulators = await Promise.all(Array.from({ length: 4 }, () => startEmulator({ dir })));
    try {
      const cas = new Set(emulators.map((e) => e.caCertPem));
      expect(cas.size).toBe(1);
      expect(await fs.readFile(path.join(dir, 'ca.pem'), 'utf8')).toBe(emulators[0].caCertPem);
      expect((await fs.readdir(dir)).sort()).toEqual(['ca-key.pem', 'ca.pem']); // no temp files left
    } finally {
      await Promise.all(emulators.map((e) => e.stop()));
    }
  });
});

describe('the server', () => {
  it('keeps connections alive', async () => {
    const first = await h.api('/gateway');
    expect(first.headers.connection).toBe('keep-alive');
    expect(first.headers['keep-alive']).toMatch(/timeout=65/);
  });

  it('fails clearly when the port is taken', async () => {
    await expect(startEmulator({ dir: h.dir, port: h.emulator.port })).rejects.toThrow(/already in use/);
  });

  it('stops: the port refuses connections afterwards', async () => {
    const emulator = await startEmulator({ dir: h.dir });
    await emulator.stop();
    await emulator.stop(); // idempotent
    await expect(
      new Promise((resolve, reject) => {
        const s = tls.connect({ host: '127.0.0.1', port: emulator.port, servername: 'discord.com' });
        s.once('secureConnect', resolve);
        s.once('error', reject);
      }),
    ).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });
});
