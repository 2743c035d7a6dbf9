// Every command src/connection/hints.ts suggests for a connection state, run exactly as printed
// against a connection really in that state: it must succeed and leave the connection connected.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixCommand, fixHint, type ConnectionState } from '../../src/connection/hints.js';
import { runCli, tempHome } from '../helpers/cli.js';
import { startSession, type Session } from '../helpers/session.js';

let session: Session;
beforeAll(async () => {
  session = await startSession();
});
afterAll(() => session.close());

// As a user runs them later: no client credentials in the environment, no terminal.
const bare = { DISCORD_CLIENT_ID: undefined, DISCORD_CLIENT_SECRET: undefined };

/** A home where discord/<connection> is in `state` (client credentials stored by a first login). */
async function homeIn(state: ConnectionState, connection: string): Promise<string> {
  const home = tempHome();
  if (state === 'not_connected') {
    expect((await session.login(home, ['--connection', 'other'])).code).toBe(0);
    return home;
  }
  session.emulator.controls.setTokenLifetime(state === 'expired' ? 1 : 604800);
  const first = await session.login(home, ['--connection', connection]);
  session.emulator.controls.setTokenLifetime(604800);
  expect(first.code, first.stderr).toBe(0);
  const env = session.envFor(home, bare);
  if (state === 'revoked') {
    session.emulator.controls.revokeAll();
    await runCli(['status'], { env });
  } else if (state === 'expired') {
    await new Promise((resolve) => setTimeout(resolve, 1100));
    // The token has run out and the provider cannot be reached to refresh it (an untrusted
    // certificate is not retried, so this is quick).
    await runCli(['status'], { env: { ...env, NODE_EXTRA_CA_CERTS: undefined } });
  } else if (state === 'unreadable') {
    const file = path.join(home, 'vault', 'connections', 'discord', `${connection}.json`);
    const data = JSON.parse(fs.readFileSync(file, 'utf8'));
    data.ciphertext = (data.ciphertext[0] === 'A' ? 'B' : 'A') + data.ciphertext.slice(1);
    fs.writeFileSync(file, JSON.stringify(data));
  }
  return home;
}

describe('suggested commands work', () => {
  for (const state of ['not_connected', 'expired', 'revoked', 'unreadable'] as const) {
    for (const connection of ['default', 'work']) {
      it(`${state}, ${connection}: ${fixCommand('discord', connection, state)}`, async () => {
        const home = await homeIn(state, connection);
        const env = session.envFor(home, bare);
        // `expired` means "cannot be refreshed right now": look while the provider is still out of reach.
        const before = await runCli(['status', 'discord', '--connection', connection, '--json'], {
          env: state === 'expired' ? { ...env, NODE_EXTRA_CA_CERTS: undefined } : env,
        });
        if (state === 'not_connected') expect(before.code).toBe(3);
        else expect(JSON.parse(before.stdout).connections[0].status).toBe(state);
        expect(before.stdout + before.stderr).toContain(fixCommand('discord', connection, state));

        const [keygate, command, provider, ...args] = fixCommand('discord', connection, state)!.split(' ');
        expect([keygate, command, provider]).toEqual(['keygate', 'login', 'discord']);
        const r = await session.login(home, args, undefined, bare);
        expect(r.code, r.stderr).toBe(0);
        const after = await runCli(['status', 'discord', '--connection', connection], { env });
        expect(after.code, after.stdout).toBe(0);
      });
    }
  }

  it('a connected connection needs nothing; the hint text wraps the command', () => {
    expect(fixCommand('discord', 'default', 'connected')).toBeUndefined();
    expect(fixHint('discord', 'work', 'revoked')).toBe('run `keygate login discord --connection work`');
  });
});
