// The emulator's gateway with a real WebSocket client over real TLS: HELLO, IDENTIFY → READY and
// GUILD_CREATE, heartbeat ACK, RESUME on the resume host, zlib-stream compression, and Discord's
// close codes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_BOT_ID, RESUME_GATEWAY_URL } from '../../src/emulator/index.js';
import { connectGateway, identify } from './gateway-client.js';
import { pkce, startHarness, type Harness } from './helpers.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h.close();
});

describe('gateway', () => {
  it('says HELLO, answers IDENTIFY with READY and heartbeats with ACK', async () => {
    const { token, token_id } = h.emulator.controls.botToken();
    const client = await connectGateway(h.emulator);
    const hello = await client.next();
    expect(hello).toMatchObject({ op: 10, d: { heartbeat_interval: 41_250 }, s: null, t: null });
    client.send({ op: 1, d: null });
    expect(await client.next()).toMatchObject({ op: 11 });
    client.send(identify(token));
    const ready = await client.next();
    expect(ready).toMatchObject({
      op: 0,
      t: 'READY',
      s: 1,
      d: { v: 10, user: { id: DEMO_BOT_ID, bot: true }, resume_gateway_url: RESUME_GATEWAY_URL },
    });
    expect(ready.d.session_id).toMatch(/^[0-9a-f]{32}$/);
    client.send({ op: 1, d: 1 });
    expect(await client.next()).toMatchObject({ op: 11 });
    expect(h.emulator.controls.requestLog().at(-1)).toMatchObject({ method: 'GATEWAY', path: 'IDENTIFY', status: 200, tokenId: token_id });
    client.ws.close(1000);
  });

  it('sends GUILD_CREATE for each guild the bot was installed into, and RESUMEs on the resume host', async () => {
    const { challenge } = pkce();
    const auth = await h.authorize({
      scope: 'bot applications.commands',
      permissions: '2048',
      code_challenge: challenge,
      code_challenge_method: 'S256',
    });
    expect(auth.location?.searchParams.get('guild_id')).toBe('197038439483310086');
    const { token } = h.emulator.controls.botToken();
    const first = await connectGateway(h.emulator);
    await first.next();
    first.send(identify(token));
    const ready = await first.next();
    expect(ready.d.guilds).toEqual([{ id: '197038439483310086', unavailable: true }]);
    const guild = await first.next();
    expect(guild).toMatchObject({
      op: 0,
      t: 'GUILD_CREATE',
      s: 2,
      d: { id: '197038439483310086', name: 'Keygate Lab', unavailable: false },
    });
    first.ws.terminate();

    const resumed = await connectGateway(h.emulator, { host: new URL(RESUME_GATEWAY_URL).host });
    await resumed.next();
    resumed.send({ op: 6, d: { token, session_id: ready.d.session_id, seq: 2 } });
    expect(await resumed.next()).toMatchObject({ op: 0, t: 'RESUMED', s: 3 });
    resumed.ws.close(1000);
  });

  it('closes with 4004 on a bad token, in IDENTIFY and in RESUME', async () => {
    const before = h.emulator.controls.counters().gatewayAuthFailures;
    const client = await connectGateway(h.emulator);
    await client.next();
    client.send(identify('kgph_discord_bot_0123456789abcdef'));
    expect(await client.closed).toEqual({ code: 4004, reason: 'Authentication failed.' });
    const again = await connectGateway(h.emulator);
    await again.next();
    again.send({ op: 6, d: { token: 'not-a-token', session_id: 'x', seq: 0 } });
    expect((await again.closed).code).toBe(4004);
    expect(h.emulator.controls.counters().gatewayAuthFailures).toBe(before + 2);
    expect(h.emulator.controls.requestLog().at(-1)).toMatchObject({ method: 'GATEWAY', path: 'RESUME', status: 4004, tokenId: null });
  });

  it('refuses a reset token with 4004, and an unknown session with INVALID_SESSION', async () => {
    const old = h.emulator.controls.botToken().token;
    const fresh = h.emulator.controls.resetBotToken().token;
    const client = await connectGateway(h.emulator);
    await client.next();
    client.send(identify(old));
    expect((await client.closed).code).toBe(4004);
    const other = await connectGateway(h.emulator);
    await other.next();
    other.send({ op: 6, d: { token: fresh, session_id: 'f'.repeat(32), seq: 0 } });
    expect(await other.next()).toMatchObject({ op: 9, d: false });
    other.ws.close(1000);
  });

  it('closes with 4003 for a payload before IDENTIFY, 4005 for a second IDENTIFY, 4002 for garbage', async () => {
    const { token } = h.emulator.controls.botToken();
    const early = await connectGateway(h.emulator);
    await early.next();
    early.send({ op: 3, d: { status: 'online' } });
    expect((await early.closed).code).toBe(4003);
    const twice = await connectGateway(h.emulator);
    await twice.next();
    twice.send(identify(token));
    await twice.next();
    twice.send(identify(token));
    expect((await twice.closed).code).toBe(4005);
    const garbage = await connectGateway(h.emulator);
    await garbage.next();
    garbage.ws.send('{not json');
    expect((await garbage.closed).code).toBe(4002);
  });

  it('compresses every message into one zlib stream with compress=zlib-stream', async () => {
    const { token } = h.emulator.controls.botToken();
    const client = await connectGateway(h.emulator, { query: '?v=10&encoding=json&compress=zlib-stream' });
    expect(await client.next()).toMatchObject({ op: 10 });
    client.send(identify(token));
    expect(await client.next()).toMatchObject({ t: 'READY' });
    expect(client.frames.length).toBeGreaterThanOrEqual(2);
    // The first frame starts the zlib stream (header 0x78); later ones continue it without a header.
    expect(client.frames[0][0]).toBe(0x78);
    expect(client.frames[1][0]).not.toBe(0x78);
    client.ws.close(1000);
  });

  it('refuses upgrades for hosts that are not the gateway', async () => {
    await expect(connectGateway(h.emulator, { host: 'discord.com' })).rejects.toThrow(/HTTP 404/);
  });
});
