// A real headless Chromium (Debian's /usr/bin/chromium, driven by playwright-core: nothing here can
// download a browser build) for the tests of the pages keygate shows a person. Each launch gets a
// fresh profile. It trusts the emulator's certificate only: its SPKI hash is passed in
// --ignore-certificate-errors-spki-list, which Chromium honours for exactly that key, so any other
// certificate error still fails the page.
import { X509Certificate, createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { chromium, type BrowserContext } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

/** base64(SHA-256(SubjectPublicKeyInfo)) of the certificate the server at 127.0.0.1:port presents. */
export function serverSpki(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => {
      const der = socket.getPeerCertificate().raw;
      socket.destroy();
      const spki = new X509Certificate(der).publicKey.export({ type: 'spki', format: 'der' });
      resolve(createHash('sha256').update(spki).digest('base64'));
    });
    socket.once('error', reject);
  });
}

export interface Chromium {
  context: BrowserContext;
  /** Every URL the browser requested, in order (to prove pages load nothing from elsewhere). */
  requested: string[];
  close(): Promise<void>;
}

export async function launchChromium(options: { trustSpki: string }): Promise<Chromium> {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'keygate-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    // The pages must work without JavaScript: the browser runs none.
    javaScriptEnabled: false,
    viewport: { width: 900, height: 720 },
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      `--ignore-certificate-errors-spki-list=${options.trustSpki}`,
    ],
  });
  const requested: string[] = [];
  context.on('request', (request) => requested.push(request.url()));
  return {
    context,
    requested,
    async close() {
      await context.close();
      fs.rmSync(profile, { recursive: true, force: true });
    },
  };
}
