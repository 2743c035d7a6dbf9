// Bot users, their tokens and their installations into guilds. A bot token belongs to an application
// and acts for its bot user; it never expires, and resetting it in the Developer Portal (here:
// `resetBotToken`) makes the old one answer 401 at once. Gateway sessions live here too, so a
// RESUME can find the session an IDENTIFY started.
import { randomBytes } from 'node:crypto';
import { randomToken } from './random.js';
import type { EmulatorBot, EmulatorClient, EmulatorGuild } from './types.js';

export interface BotToken {
  /** The emulator's name for the token, safe to log: `bot_<application id>_<generation>`. */
  id: string;
  value: string;
  clientId: string;
  bot: EmulatorBot;
}

export interface Installation {
  guild: EmulatorGuild;
  /** The permission integer granted on the consent page, as a decimal string. */
  permissions: string;
  installedAt: number;
}

export interface GatewaySession {
  id: string;
  clientId: string;
  /** Last sequence number the emulator sent in this session. */
  seq: number;
}

export class BotRegistry {
  private readonly tokens = new Map<string, BotToken>();
  private readonly current = new Map<string, BotToken>();
  private readonly generations = new Map<string, number>();
  private readonly installs = new Map<string, Map<string, Installation>>();
  private readonly sessions = new Map<string, GatewaySession>();

  /** Gives a client's bot its first token (a client without a bot has none). */
  register(client: EmulatorClient): void {
    if (client.bot && !this.current.has(client.client_id)) this.issue(client.client_id, client.bot);
  }

  /** The live token of a client's bot, or undefined when the client has no bot. */
  tokenOf(clientId: string): BotToken | undefined {
    return this.current.get(clientId);
  }

  lookup(value: string): BotToken | undefined {
    return this.tokens.get(value);
  }

  /** Bot → Reset Token: a new token; the old one stops working at once. */
  reset(clientId: string): BotToken | undefined {
    const old = this.current.get(clientId);
    if (!old) return undefined;
    this.tokens.delete(old.value);
    return this.issue(clientId, old.bot);
  }

  install(clientId: string, guild: EmulatorGuild, permissions: string, now: number): Installation {
    let guilds = this.installs.get(clientId);
    if (!guilds) this.installs.set(clientId, (guilds = new Map()));
    const installation = { guild, permissions, installedAt: now };
    guilds.set(guild.id, installation);
    return installation;
  }

  installations(clientId: string): Installation[] {
    return [...(this.installs.get(clientId)?.values() ?? [])];
  }

  startSession(clientId: string): GatewaySession {
    const session = { id: randomBytes(16).toString('hex'), clientId, seq: 0 };
    this.sessions.set(session.id, session);
    return session;
  }

  session(id: string): GatewaySession | undefined {
    return this.sessions.get(id);
  }

  private issue(clientId: string, bot: EmulatorBot): BotToken {
    const generation = (this.generations.get(clientId) ?? 0) + 1;
    this.generations.set(clientId, generation);
    // Discord's shape: base64 of the bot's user id, a timestamp part, an HMAC part.
    const value = `${Buffer.from(bot.id).toString('base64url')}.${randomToken(6)}.${randomToken(38)}`;
    const token = { id: `bot_${clientId}_${generation}`, value, clientId, bot };
    this.tokens.set(value, token);
    this.current.set(clientId, token);
    return token;
  }
}

/** ADMINISTRATOR (1 << 3) or MANAGE_GUILD (1 << 5): what adding a bot to a guild needs. */
export function canManage(guild: EmulatorGuild): boolean {
  if (guild.owner) return true;
  const bits = BigInt(guild.permissions ?? '0');
  return (bits & 0x28n) !== 0n;
}
