// Plays the browser in login tests: follows the authorize URL at the emulator (through
// KEYGATE_CONNECT_TO-style routing and the emulator's CA) and delivers the redirect to the callback.
import fs from 'node:fs';
import { request } from 'undici';
import { createDispatcher } from '../../src/net.js';

export interface FakeBrowser {
  /** GET the authorize URL; returns the Location of the emulator's redirect (or throws with its page). */
  authorize(url: string): Promise<string>;
  /** GET a URL on the callback server; returns status and body. */
  visit(url: string, headers?: Record<string, string>): Promise<{ status: number; body: string }>;
  close(): Promise<void>;
}

export function fakeBrowser(emulator: { connectTo: string; caPath: string }): FakeBrowser {
  const dispatcher = createDispatcher({ env: { KEYGATE_CONNECT_TO: emulator.connectTo }, ca: [fs.readFileSync(emulator.caPath, 'utf8')] });
  return {
    async authorize(url) {
      const response = await request(url, { dispatcher, maxRedirections: 0 } as Parameters<typeof request>[1]);
      const body = await response.body.text();
      const location = response.headers.location;
      if (response.statusCode !== 302 || typeof location !== 'string')
        throw new Error(`authorize answered ${response.statusCode}: ${body.slice(0, 200)}`);
      return location;
    },
    async visit(url, headers = {}) {
      const response = await request(url, { headers });
      return { status: response.statusCode, body: await response.body.text() };
    },
    close: () => dispatcher.close(),
  };
}

export { freePort } from '../../src/ports.js';

/** Resolves with the authorize URL once the login process has printed it. */
export function urlWatcher(): { onStdout: (chunk: string) => void; url: Promise<string> } {
  let buffer = '';
  let resolve!: (url: string) => void;
  const url = new Promise<string>((r) => (resolve = r));
  return {
    onStdout(chunk) {
      buffer += chunk;
      const match = /(https:\/\/\S+\/oauth2\/authorize\?\S+)/.exec(buffer);
      if (match) resolve(match[1]);
    },
    url,
  };
}
