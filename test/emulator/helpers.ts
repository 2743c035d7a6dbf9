// A running emulator plus a real HTTPS client that reaches it as https://discord.com, the way keygate
// does (KEYGATE_CONNECT_TO and the emulator's CA), and the OAuth2 steps most tests need.
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { request, type Agent } from 'undici';
import { createDispatcher } from '../../src/net.js';
import {
  DEMO_CLIENT_ID,
  DEMO_CLIENT_SECRET,
  DEMO_REDIRECT_URI,
  startEmulator,
  type Emulator,
  type EmulatorOptions,
  type TokenResponse,
} from '../../src/emulator/index.js';

export { DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_REDIRECT_URI };

export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: any;
}

export interface CallOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
}

export interface Harness {
  emulator: Emulator;
  dir: string;
  dispatcher: Agent;
  call(pathAndQuery: string, options?: CallOptions): Promise<Reply>;
  /** GET /oauth2/authorize with the demo client's defaults, overridden by `params` (null removes one). */
  authorize(params?: Record<string, string | null>, prefix?: string): Promise<Reply & { location?: URL }>;
  /** POST a form to the token endpoint, authenticated with the demo client by HTTP Basic. */
  token(params: Record<string, string>, options?: { auth?: 'basic' | 'body' | 'none'; secret?: string }): Promise<Reply>;
  revoke(token: string, options?: { secret?: string }): Promise<Reply>;
  /** authorize + code exchange, with PKCE. */
  login(scopes?: string): Promise<TokenResponse>;
  api(pathAndQuery: string, accessToken?: string, options?: CallOptions): Promise<Reply>;
  close(): Promise<void>;
}

export async function startHarness(options: Partial<EmulatorOptions> = {}): Promise<Harness> {
  const dir = options.dir ?? (await fs.mkdtemp(path.join(os.tmpdir(), 'keygate-emulator-test-')));
  const emulator = await startEmulator({ ...options, dir });
  const dispatcher = createDispatcher({ env: { KEYGATE_CONNECT_TO: emulator.connectTo }, ca: [emulator.caCertPem] });

  const call = async (pathAndQuery: string, callOptions: CallOptions = {}): Promise<Reply> => {
    const res = await request(`https://discord.com${pathAndQuery}`, {
      method: (callOptions.method ?? 'GET') as 'GET',
      headers: callOptions.headers,
      body: callOptions.body,
      dispatcher,
    });
    const text = await res.body.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: res.statusCode, headers: res.headers, text, json };
  };

  const basic = (secret = DEMO_CLIENT_SECRET) => `Basic ${Buffer.from(`${DEMO_CLIENT_ID}:${secret}`).toString('base64')}`;

  const harness: Harness = {
    emulator,
    dir,
    dispatcher,
    call,
    async authorize(params = {}, prefix = '') {
      const query = new URLSearchParams();
      const merged: Record<string, string | null> = {
        client_id: DEMO_CLIENT_ID,
        redirect_uri: DEMO_REDIRECT_URI,
        response_type: 'code',
        scope: 'identify email guilds connections',
        state: 'st-123',
        ...params,
      };
      for (const [k, v] of Object.entries(merged)) if (v !== null) query.set(k, v);
      const reply = await call(`${prefix}/oauth2/authorize?${query}`);
      const location = reply.headers.location;
      return { ...reply, location: typeof location === 'string' ? new URL(location) : undefined };
    },
    async token(params, tokenOptions = {}) {
      const auth = tokenOptions.auth ?? 'basic';
      const form = new URLSearchParams(params);
      if (auth === 'body') {
        form.set('client_id', DEMO_CLIENT_ID);
        form.set('client_secret', tokenOptions.secret ?? DEMO_CLIENT_SECRET);
      }
      const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
      if (auth === 'basic') headers.authorization = basic(tokenOptions.secret);
      return call('/api/oauth2/token', { method: 'POST', headers, body: form.toString() });
    },
    async revoke(value, revokeOptions = {}) {
      return call('/api/oauth2/token/revoke', {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(revokeOptions.secret) },
        body: new URLSearchParams({ token: value }).toString(),
      });
    },
    async login(scopes = 'identify email guilds connections') {
      const { verifier, challenge } = pkce();
      const auth = await harness.authorize({ scope: scopes, code_challenge: challenge, code_challenge_method: 'S256' });
      const code = auth.location?.searchParams.get('code');
      if (!code) throw new Error(`authorize did not return a code: ${auth.status} ${auth.headers.location ?? auth.text}`);
      const reply = await harness.token({
        grant_type: 'authorization_code',
        code,
        redirect_uri: DEMO_REDIRECT_URI,
        code_verifier: verifier,
      });
      if (reply.status !== 200) throw new Error(`code exchange failed: ${reply.status} ${reply.text}`);
      return reply.json as TokenResponse;
    },
    api(pathAndQuery, accessToken, callOptions = {}) {
      const headers = { ...callOptions.headers };
      if (accessToken !== undefined) headers.authorization = `Bearer ${accessToken}`;
      return call(`/api/v10${pathAndQuery}`, { ...callOptions, headers });
    },
    async close() {
      await dispatcher.close();
      await emulator.stop();
      if (!options.dir) await fs.rm(dir, { recursive: true, force: true });
    },
  };
  return harness;
}

export function pkce(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}
