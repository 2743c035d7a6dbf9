// JSON bodies shaped like Discord's objects (https://discord.com/developers/docs/resources/user).
import { createHash } from 'node:crypto';
import type { EmulatorBot, EmulatorClient, EmulatorConnection, EmulatorGuild, EmulatorUser } from './types.js';

/** The partial user embedded in other objects (GET /oauth2/@me, guild members). */
export function partialUser(user: EmulatorUser): Record<string, unknown> {
  return {
    id: user.id,
    username: user.username,
    avatar: user.avatar ?? null,
    discriminator: '0',
    public_flags: user.flags ?? 0,
    flags: user.flags ?? 0,
    banner: null,
    accent_color: null,
    global_name: user.global_name,
    avatar_decoration_data: null,
    banner_color: null,
  };
}

/** GET /users/@me: `email` and `verified` only with the email scope. */
export function currentUser(user: EmulatorUser, withEmail: boolean): Record<string, unknown> {
  const body: Record<string, unknown> = {
    ...partialUser(user),
    mfa_enabled: user.mfa_enabled ?? false,
    locale: user.locale ?? 'en-US',
    premium_type: user.premium_type ?? 0,
  };
  if (withEmail) {
    body.email = user.email;
    body.verified = user.verified ?? true;
  }
  return body;
}

export function partialGuild(guild: EmulatorGuild, withCounts: boolean): Record<string, unknown> {
  const body: Record<string, unknown> = {
    id: guild.id,
    name: guild.name,
    icon: guild.icon ?? null,
    banner: null,
    owner: guild.owner ?? false,
    permissions: guild.permissions ?? '0',
    features: guild.features ?? [],
  };
  if (withCounts) {
    body.approximate_member_count = guild.approximate_member_count ?? 1;
    body.approximate_presence_count = guild.approximate_presence_count ?? 1;
  }
  return body;
}

export function guildMember(user: EmulatorUser, guild: EmulatorGuild): Record<string, unknown> {
  return {
    avatar: null,
    banner: null,
    communication_disabled_until: null,
    flags: 0,
    joined_at: guild.member?.joined_at ?? '2020-01-01T00:00:00.000000+00:00',
    nick: guild.member?.nick ?? null,
    pending: false,
    premium_since: null,
    roles: guild.member?.roles ?? [],
    unusual_dm_activity_until: null,
    user: partialUser(user),
    mute: false,
    deaf: false,
  };
}

export function connection(c: EmulatorConnection): Record<string, unknown> {
  return {
    id: c.id,
    name: c.name,
    type: c.type,
    friend_sync: c.friend_sync ?? false,
    integrations: [],
    show_activity: c.show_activity ?? true,
    two_way_link: c.two_way_link ?? false,
    verified: c.verified ?? true,
    visibility: c.visibility ?? 0,
    ...(c.revoked ? { revoked: true } : {}),
  };
}

export function application(client: EmulatorClient): Record<string, unknown> {
  return {
    id: client.client_id,
    name: client.name ?? 'Keygate Demo',
    icon: null,
    description: '',
    type: null,
    bot_public: false,
    bot_require_code_grant: false,
    // Discord's verify_key is the app's Ed25519 public key (hex); a stable stand-in will do.
    verify_key: verifyKey(client.client_id),
    flags: 0,
    hook: true,
  };
}

const verifyKeys = new Map<string, string>();
function verifyKey(clientId: string): string {
  let key = verifyKeys.get(clientId);
  if (key === undefined) {
    key = createHash('sha256').update(`verify-key:${clientId}`).digest('hex');
    verifyKeys.set(clientId, key);
  }
  return key;
}

/** Discord writes timestamps with microseconds and an explicit offset: 2021-01-23T02:33:17.017000+00:00. */
export function discordTimestamp(ms: number): string {
  return new Date(ms).toISOString().replace('Z', '000+00:00');
}

/** The owner of guilds the signed-in user does not own. */
export const OTHER_OWNER_ID = '41771983423143937';

/** A bot user as GET /users/@me (with its token) or GET /users/{id} shows it. */
export function botUser(bot: EmulatorBot): Record<string, unknown> {
  return {
    id: bot.id,
    username: bot.username,
    avatar: null,
    discriminator: bot.discriminator ?? '0000',
    public_flags: 0,
    flags: 0,
    bot: true,
    banner: null,
    accent_color: null,
    global_name: null,
    avatar_decoration_data: null,
    banner_color: null,
  };
}

/** GET /applications/@me with the bot token: the application, its bot and its owner. */
export function botApplication(client: EmulatorClient, bot: EmulatorBot, owner: EmulatorUser | undefined): Record<string, unknown> {
  return {
    ...application(client),
    bot_public: true,
    bot: botUser(bot),
    owner: owner ? partialUser(owner) : null,
    approximate_guild_count: 0,
    redirect_uris: client.redirect_uris,
    interactions_endpoint_url: null,
    install_params: { scopes: ['bot', 'applications.commands'], permissions: '0' },
  };
}

/**
 * The guild object Discord sends in the bot install's token response and in GUILD_CREATE
 * (https://discord.com/developers/docs/resources/guild#guild-object), with only the @everyone role.
 */
export function fullGuild(guild: EmulatorGuild, ownerId: string): Record<string, unknown> {
  return {
    id: guild.id,
    name: guild.name,
    icon: guild.icon ?? null,
    description: null,
    splash: null,
    discovery_splash: null,
    banner: null,
    features: guild.features ?? [],
    owner_id: ownerId,
    application_id: null,
    afk_channel_id: null,
    afk_timeout: 300,
    system_channel_id: null,
    system_channel_flags: 0,
    widget_enabled: false,
    widget_channel_id: null,
    verification_level: 0,
    default_message_notifications: 0,
    explicit_content_filter: 0,
    mfa_level: 0,
    premium_tier: 0,
    premium_subscription_count: 0,
    preferred_locale: 'en-US',
    rules_channel_id: null,
    public_updates_channel_id: null,
    safety_alerts_channel_id: null,
    vanity_url_code: null,
    nsfw_level: 0,
    roles: [
      {
        id: guild.id,
        name: '@everyone',
        color: 0,
        hoist: false,
        icon: null,
        unicode_emoji: null,
        position: 0,
        permissions: '1071698660929',
        managed: false,
        mentionable: false,
        flags: 0,
      },
    ],
    emojis: [],
    stickers: [],
  };
}
