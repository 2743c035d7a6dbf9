// A minimal Discord gateway on wss://gateway.discord.gg (and the resume host READY names), on the
// emulator's HTTPS server: HELLO, IDENTIFY → READY (+ GUILD_CREATE per installed guild), heartbeat
// ACK, RESUME → RESUMED, and Discord's close codes for a bad token (4004), a payload before
// IDENTIFY (4003), a second IDENTIFY (4005), an undecodable payload (4002) and an unknown opcode
// (4001). `compress=zlib-stream` compresses every server message with one shared zlib context,
// flushed with Z_SYNC_FLUSH, as Discord does. Framing is the `ws` package's; nothing here parses
// frames. https://discord.com/developers/docs/events/gateway
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import zlib from 'node:zlib';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { RESUME_GATEWAY_URL } from './bot-api.js';
import type { BotToken, GatewaySession } from './bots.js';
import { OTHER_OWNER_ID, botUser, fullGuild } from './payloads.js';
import type { EmulatorState } from './state.js';

/** Discord's interval: 41.25 s. Clients heartbeat on their own schedule; the emulator only answers. */
export const HEARTBEAT_INTERVAL_MS = 41_250;
const GATEWAY_HOST = /^gateway(?:-[a-z0-9-]+)?\.discord\.gg$/;
const RESUME_HOST = new URL(RESUME_GATEWAY_URL).host;

export const Op = { dispatch: 0, heartbeat: 1, identify: 2, resume: 6, invalidSession: 9, hello: 10, heartbeatAck: 11 } as const;

interface Payload {
  op: number;
  d?: unknown;
  s?: number | null;
  t?: string | null;
}

export interface Gateway {
  close(): void;
}

/** Serves WebSocket upgrades for the gateway hosts on `server`; any other upgrade gets 404. */
export function attachGateway(server: Server, state: EmulatorState): Gateway {
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: 4096 * 1024 });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    const host = (req.headers.host ?? '').toLowerCase().replace(/:443$/, '');
    if (!GATEWAY_HOST.test(host)) return refuse(socket, 404, 'Not Found');
    const query = new URLSearchParams((req.url ?? '').split('?')[1] ?? '');
    wss.handleUpgrade(req, socket, head, (ws) => {
      state.counters.gatewayConnections++;
      new GatewayConnection(ws, state, query, host === RESUME_HOST);
    });
  });
  return {
    close() {
      for (const client of wss.clients) client.terminate();
      wss.close();
    },
  };
}

function refuse(socket: Duplex, status: number, reason: string): void {
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}

class GatewayConnection {
  private session: GatewaySession | undefined;
  private deflate: zlib.Deflate | undefined;
  private sending: Promise<void> = Promise.resolve();

  constructor(
    private readonly ws: WebSocket,
    private readonly state: EmulatorState,
    query: URLSearchParams,
    private readonly resumeHost: boolean,
  ) {
    ws.on('error', () => ws.terminate());
    const version = query.get('v');
    const encoding = query.get('encoding');
    if (version !== null && version !== '10' && version !== '9') ws.close(4012, 'Invalid API version.');
    else if (encoding !== null && encoding !== 'json') ws.close(4002, 'Error while decoding payload.');
    else this.start(query);
  }

  private start(query: URLSearchParams): void {
    const ws = this.ws;
    if (query.get('compress') === 'zlib-stream') this.deflate = zlib.createDeflate();
    ws.on('close', () => this.deflate?.close());
    ws.on('message', (data, isBinary) => this.onMessage(data, isBinary));
    this.send({ op: Op.hello, d: { heartbeat_interval: HEARTBEAT_INTERVAL_MS }, s: null, t: null });
  }

  private onMessage(data: RawData, isBinary: boolean): void {
    let payload: Payload;
    try {
      if (isBinary) throw new Error('binary');
      payload = JSON.parse(Buffer.isBuffer(data) ? data.toString('utf8') : Buffer.from(data as ArrayBuffer).toString('utf8')) as Payload;
      if (typeof payload !== 'object' || payload === null || typeof payload.op !== 'number') throw new Error('shape');
    } catch {
      return this.close(4002, 'Error while decoding payload.');
    }
    const d = (payload.d ?? {}) as Record<string, unknown>;
    switch (payload.op) {
      case Op.heartbeat:
        return this.send({ op: Op.heartbeatAck });
      case Op.identify:
        return this.identify(d);
      case Op.resume:
        return this.resume(d);
      default:
        if (!this.session) return this.close(4003, 'Not authenticated.');
        // Presence, voice and member requests are accepted and ignored.
        if (![3, 4, 8].includes(payload.op)) this.close(4001, 'Unknown opcode.');
    }
  }

  private authenticate(d: Record<string, unknown>, what: string): BotToken | undefined {
    const token = typeof d.token === 'string' ? this.state.bots.lookup(d.token.replace(/^Bot /i, '')) : undefined;
    this.state.record('GATEWAY', what, token ? 200 : 4004, token?.id ?? null);
    if (!token) {
      this.state.counters.gatewayAuthFailures++;
      this.close(4004, 'Authentication failed.');
    }
    return token;
  }

  private identify(d: Record<string, unknown>): void {
    if (this.session) return this.close(4005, 'Already authenticated.');
    const token = this.authenticate(d, 'IDENTIFY');
    if (!token) return;
    if (!Number.isInteger(d.intents)) return this.close(4013, 'Invalid intent(s).');
    this.state.counters.gatewayIdentifies++;
    this.session = this.state.bots.startSession(token.clientId);
    const installations = this.state.bots.installations(token.clientId);
    this.dispatch('READY', {
      v: 10,
      user: { ...botUser(token.bot), verified: true, mfa_enabled: false, email: null },
      guilds: installations.map((i) => ({ id: i.guild.id, unavailable: true })),
      session_id: this.session.id,
      session_type: 'normal',
      resume_gateway_url: RESUME_GATEWAY_URL,
      ...(Array.isArray(d.shard) ? { shard: d.shard } : {}),
      application: { id: token.clientId, flags: 0 },
      private_channels: [],
      relationships: [],
      presences: [],
      guild_join_requests: [],
      geo_ordered_rtc_regions: ['us-east', 'us-central'],
      user_settings: {},
    });
    // Discord then sends each guild that READY listed as unavailable; discord.js waits for them.
    for (const { guild } of installations) {
      this.dispatch('GUILD_CREATE', {
        ...fullGuild(guild, guild.owner ? this.state.currentUserId : OTHER_OWNER_ID),
        joined_at: new Date(this.state.now()).toISOString(),
        large: false,
        unavailable: false,
        member_count: 1,
        members: [
          { user: botUser(token.bot), roles: [], joined_at: new Date(this.state.now()).toISOString(), deaf: false, mute: false, flags: 0 },
        ],
        channels: [],
        threads: [],
        presences: [],
        voice_states: [],
        stage_instances: [],
        guild_scheduled_events: [],
        soundboard_sounds: [],
      });
    }
  }

  private resume(d: Record<string, unknown>): void {
    if (this.session) return this.close(4005, 'Already authenticated.');
    const token = this.authenticate(d, 'RESUME');
    if (!token) return;
    const session = typeof d.session_id === 'string' ? this.state.bots.session(d.session_id) : undefined;
    // A session of another application, or one the emulator never started, cannot be resumed.
    if (!session || session.clientId !== token.clientId) return this.send({ op: Op.invalidSession, d: false, s: null, t: null });
    this.state.counters.gatewayResumes++;
    this.session = session;
    this.dispatch('RESUMED', { resumed_on: this.resumeHost ? 'resume_gateway_url' : 'gateway' });
  }

  private dispatch(t: string, d: unknown): void {
    this.send({ op: Op.dispatch, t, s: ++this.session!.seq, d });
  }

  private close(code: number, reason: string): void {
    // Pending (compressed) messages go out first.
    void this.sending.then(() => this.ws.close(code, reason));
  }

  private send(payload: Payload): void {
    const text = JSON.stringify({ s: null, t: null, d: null, ...payload });
    const deflate = this.deflate;
    if (!deflate) {
      this.sending = this.sending.then(() => void this.ws.send(text));
      return;
    }
    this.sending = this.sending.then(
      () =>
        new Promise<void>((resolve) => {
          const chunks: Buffer[] = [];
          const collect = (chunk: Buffer) => chunks.push(chunk);
          deflate.on('data', collect);
          deflate.write(text);
          deflate.flush(zlib.constants.Z_SYNC_FLUSH, () => {
            deflate.off('data', collect);
            // Ends with 00 00 ff ff: the client's signal that a whole message has arrived.
            if (this.ws.readyState === this.ws.OPEN) this.ws.send(Buffer.concat(chunks), { binary: true });
            resolve();
          });
        }),
    );
  }
}
