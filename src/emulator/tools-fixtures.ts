// Data for the routes the tool catalogue calls that no other part of the emulator serves: guild
// widgets (one guild with the widget enabled, one with it disabled), a guild template, invites (one
// with a scheduled event), entitlements, sticker packs. Shapes follow Discord's docs
// (https://discord.com/developers/docs/resources/guild#guild-widget-object and the pages beside it).
import { DEMO_CLIENT_ID } from './fixtures.js';

/** alice's "Discord API" guild: widget enabled. */
export const WIDGET_GUILD_ID = '81384788765712384';
/** alice's "Keygate Lab" guild: widget disabled (Discord's default). */
export const NO_WIDGET_GUILD_ID = '197038439483310086';
export const TEMPLATE_CODE = 'hgM48av5Q69A';
export const INVITE_CODE = 'discord-api';
export const EVENT_INVITE_CODE = 'keygate-lab';
export const SCHEDULED_EVENT_ID = '1151214286386823248';
export const ENTITLEMENT_APPLICATION_ID = DEMO_CLIENT_ID;

export interface WidgetFixture {
  enabled: boolean;
  instant_invite: string | null;
  channels: Array<{ id: string; name: string; position: number }>;
  members: Array<{ id: string; username: string; status: 'online' | 'idle' | 'dnd'; avatar_url: string; channel_id?: string }>;
  presence_count: number;
}

export const WIDGETS: Record<string, WidgetFixture> = {
  [WIDGET_GUILD_ID]: {
    enabled: true,
    instant_invite: `https://discord.com/invite/${INVITE_CODE}`,
    channels: [
      { id: '705223355447697438', name: 'General voice', position: 0 },
      { id: '705223448020926474', name: 'Office hours', position: 1 },
    ],
    // Discord hides real ids in widgets: members get sequential ids per request.
    members: [
      {
        id: '0',
        username: 'alice',
        status: 'online',
        avatar_url: 'https://cdn.discordapp.com/widget-avatars/alice.png',
        channel_id: '705223355447697438',
      },
      { id: '1', username: 'bob', status: 'idle', avatar_url: 'https://cdn.discordapp.com/widget-avatars/bob.png' },
      { id: '2', username: 'carol', status: 'dnd', avatar_url: 'https://cdn.discordapp.com/widget-avatars/carol.png' },
    ],
    presence_count: 9731,
  },
  [NO_WIDGET_GUILD_ID]: { enabled: false, instant_invite: null, channels: [], members: [], presence_count: 4 },
};

export const TEMPLATES: Record<string, Record<string, unknown>> = {
  [TEMPLATE_CODE]: {
    code: TEMPLATE_CODE,
    name: 'Friends & Family',
    description: 'A cosy server for people you know',
    usage_count: 49_605,
    creator_id: '80351110224678912',
    creator: { id: '80351110224678912', username: 'alice', avatar: null, discriminator: '0', public_flags: 64, global_name: 'Alice' },
    created_at: '2020-04-02T21:10:38+00:00',
    updated_at: '2020-05-01T17:57:38+00:00',
    source_guild_id: '197038439483310086',
    serialized_source_guild: {
      name: 'Friends & Family',
      description: null,
      region: 'us-west',
      verification_level: 0,
      default_message_notifications: 0,
      explicit_content_filter: 0,
      preferred_locale: 'en-US',
      afk_timeout: 300,
      roles: [{ id: 0, name: '@everyone', permissions: '104324689', color: 0, hoist: false, mentionable: false }],
      channels: [
        { name: 'Text Channels', position: 1, type: 4, id: 1, parent_id: null, permission_overwrites: [] },
        {
          name: 'general',
          position: 1,
          type: 0,
          id: 2,
          parent_id: 1,
          topic: null,
          nsfw: false,
          rate_limit_per_user: 0,
          permission_overwrites: [],
        },
        { name: 'Voice Channels', position: 2, type: 4, id: 3, parent_id: null, permission_overwrites: [] },
        { name: 'General', position: 1, type: 2, id: 4, parent_id: 3, bitrate: 64000, user_limit: 0, permission_overwrites: [] },
      ],
      afk_channel_id: null,
      system_channel_id: 2,
      system_channel_flags: 0,
    },
    is_dirty: null,
  },
};

export interface InviteFixture {
  guild: {
    id: string;
    name: string;
    icon: string | null;
    features: string[];
    verification_level: number;
    nsfw_level: number;
    premium_subscription_count: number;
  };
  channel: { id: string; name: string; type: number };
  inviter?: Record<string, unknown>;
  approximate_member_count: number;
  approximate_presence_count: number;
  expires_at: string | null;
  scheduled_event?: Record<string, unknown>;
}

const inviter = {
  id: '80351110224678912',
  username: 'alice',
  avatar: '8342729096ea3675442027381ff50dfe',
  discriminator: '0',
  public_flags: 64,
  global_name: 'Alice',
};

export const INVITES: Record<string, InviteFixture> = {
  [INVITE_CODE]: {
    guild: {
      id: WIDGET_GUILD_ID,
      name: 'Discord API',
      icon: '2ccf5f8e1a5e4e9fa0a6cd5f2c7a2b7b',
      features: ['COMMUNITY', 'NEWS'],
      verification_level: 2,
      nsfw_level: 0,
      premium_subscription_count: 14,
    },
    channel: { id: '381887113391505410', name: 'welcome', type: 0 },
    approximate_member_count: 51842,
    approximate_presence_count: 9731,
    expires_at: null,
  },
  [EVENT_INVITE_CODE]: {
    guild: {
      id: NO_WIDGET_GUILD_ID,
      name: 'Keygate Lab',
      icon: null,
      features: [],
      verification_level: 0,
      nsfw_level: 0,
      premium_subscription_count: 0,
    },
    channel: { id: '705223448020926474', name: 'office-hours', type: 0 },
    inviter,
    approximate_member_count: 12,
    approximate_presence_count: 4,
    expires_at: '2030-01-01T00:00:00+00:00',
    scheduled_event: {
      id: SCHEDULED_EVENT_ID,
      guild_id: NO_WIDGET_GUILD_ID,
      channel_id: '705223448020926474',
      creator_id: '80351110224678912',
      name: 'Keygate office hours',
      description: 'Bring your OAuth questions',
      scheduled_start_time: '2030-01-02T17:00:00+00:00',
      scheduled_end_time: null,
      privacy_level: 2,
      status: 1,
      entity_type: 2,
      entity_id: null,
      entity_metadata: null,
      user_count: 7,
      image: null,
    },
  },
};

export const ENTITLEMENTS: Array<
  Record<string, unknown> & {
    id: string;
    application_id: string;
    user_id: string;
    sku_id: string;
    guild_id?: string;
    ends_at: string | null;
    deleted: boolean;
  }
> = [
  {
    id: '1019653849998299136',
    sku_id: '1019475255913222144',
    application_id: ENTITLEMENT_APPLICATION_ID,
    user_id: '80351110224678912',
    type: 8,
    deleted: false,
    starts_at: '2024-01-01T00:00:00+00:00',
    ends_at: '2030-01-01T00:00:00+00:00',
    consumed: false,
  },
  {
    id: '1019653849998299137',
    sku_id: '1019475255913222145',
    application_id: ENTITLEMENT_APPLICATION_ID,
    user_id: '80351110224678912',
    type: 4,
    deleted: false,
    starts_at: null,
    ends_at: null,
    consumed: false,
  },
  {
    id: '1019653849998299138',
    sku_id: '1019475255913222144',
    application_id: ENTITLEMENT_APPLICATION_ID,
    user_id: '80351110224678912',
    type: 8,
    deleted: false,
    starts_at: '2022-01-01T00:00:00+00:00',
    ends_at: '2023-01-01T00:00:00+00:00',
    consumed: false,
  },
  {
    id: '1019653849998299139',
    sku_id: '1019475255913222146',
    application_id: ENTITLEMENT_APPLICATION_ID,
    user_id: '80351110224678912',
    type: 1,
    deleted: true,
    starts_at: null,
    ends_at: null,
    consumed: false,
  },
];

const sticker = (id: string, name: string, tags: string, packId: string, sortValue: number) => ({
  id,
  pack_id: packId,
  name,
  description: `${name} from the pack`,
  tags,
  type: 1,
  format_type: 1,
  available: true,
  sort_value: sortValue,
});

export const STICKER_PACKS = [
  {
    id: '847199849233514549',
    stickers: [
      sticker('749054660769218631', 'Wave', 'wumpus, hello', '847199849233514549', 12),
      sticker('749054660769218632', 'Nap', 'wumpus, sleep', '847199849233514549', 13),
    ],
    name: 'Wumpus Beyond',
    sku_id: '847199849233514547',
    cover_sticker_id: '749054660769218631',
    description: 'Say hello to Wumpus!',
    banner_asset_id: '761773777976819732',
  },
  {
    id: '749043879713701898',
    stickers: [sticker('749052944682582036', 'Cat Wave', 'cat, hello', '749043879713701898', 1)],
    name: 'Shiba Inu',
    sku_id: '749043407997108384',
    cover_sticker_id: '749052944682582036',
    description: 'Get ready for the Shiba Inu!',
    banner_asset_id: '761773777976819733',
  },
];
