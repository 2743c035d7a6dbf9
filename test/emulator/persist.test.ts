// The emulator's state file: applications, redirect URIs and tokens survive a restart on the same
// directory, rotated and revoked tokens stay dead, and an unreadable file is an error, not a reset.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { STATE_FILE, readSavedState } from '../../src/emulator/index.js';
import { DEMO_CLIENT_ID, startHarness, type Harness } from './helpers.js';

let dir: string;
const open: Harness[] = [];
afterEach(async () => {
  for (const h of open.splice(0)) await h.close();
  await fs.rm(dir, { recursive: true, force: true });
});

async function start(options: { persist?: boolean; redirectUris?: string[]; port?: number } = {}): Promise<Harness> {
  const h = await startHarness({ dir, persist: true, ...options });
  open.push(h);
  return h;
}

async function restart(h: Harness, options: { persist?: boolean; redirectUris?: string[] } = {}): Promise<Harness> {
  await h.close();
  open.splice(open.indexOf(h), 1);
  return start({ ...options, port: h.emulator.port });
}

describe('emulator state across restarts', () => {
  it('keeps tokens, registered redirect URIs and the port; rotated and revoked tokens stay dead', async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'keygate-emulator-persist-'));
    let h = await start({ redirectUris: ['http://127.0.0.1:8000/auth/callback/oauth'] });
    const first = await h.login();
    const rotated = await h.token({ grant_type: 'refresh_token', refresh_token: first.refresh_token });
    expect(rotated.status).toBe(200);
    const revokedPair = await h.login('identify');
    expect((await h.revoke(revokedPair.access_token)).status).toBe(200);
    h.emulator.controls.registerRedirectUri(DEMO_CLIENT_ID, 'http://127.0.0.1:9000/auth/callback/oauth');

    h = await restart(h);
    expect((await h.api('/users/@me', rotated.json.access_token)).json.username).toBe('alice');
    expect((await h.api('/users/@me', first.access_token)).status).toBe(401);
    expect((await h.api('/users/@me', revokedPair.access_token)).status).toBe(401);
    expect((await h.token({ grant_type: 'refresh_token', refresh_token: first.refresh_token })).json).toEqual({ error: 'invalid_grant' });
    const again = await h.token({ grant_type: 'refresh_token', refresh_token: rotated.json.refresh_token });
    expect(again.status).toBe(200);
    // Token ids keep counting, so the request log never reuses one.
    const ids = h.emulator.controls
      .requestLog()
      .filter((e) => e.path === '/api/oauth2/token')
      .map((e) => e.tokenId);
    expect(ids).toEqual([null, 'tok_6']);
    for (const port of [8000, 9000]) {
      const res = await h.authorize({ redirect_uri: `http://127.0.0.1:${port}/auth/callback/oauth` });
      expect(res.location?.searchParams.get('code')).toMatch(/^\w{30}$/);
    }

    const saved = readSavedState(dir)!;
    expect(saved.port).toBe(h.emulator.port);
    expect((await fs.stat(path.join(dir, STATE_FILE))).mode & 0o777).toBe(0o600);
  });

  it('starts from the fixtures without persist, and leaves no state file', async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'keygate-emulator-persist-'));
    let h = await start({ persist: false });
    const tokens = await h.login();
    h = await restart(h, { persist: false });
    expect((await h.api('/users/@me', tokens.access_token)).status).toBe(401);
    await expect(fs.access(path.join(dir, STATE_FILE))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('refuses an unreadable state file instead of silently starting afresh', async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'keygate-emulator-persist-'));
    await fs.writeFile(path.join(dir, STATE_FILE), '{"version": 1, "clients": "nope"');
    await expect(start()).rejects.toThrow(/state\.json is not valid JSON/);
    await fs.writeFile(path.join(dir, STATE_FILE), '{"version": 2}');
    await expect(start()).rejects.toThrow(/state\.json is not an emulator state file/);
  });
});
