// The emulator's default data: one demo application and one signed-in user, "alice".
import type { EmulatorClient, EmulatorUser } from './types.js';

export const DEMO_CLIENT_ID = '123456789012345678';
/** Not a secret: the fixed, published secret of the emulator's demo application. */
export const DEMO_CLIENT_SECRET = 'emulator-demo-secret';
/** keygate's default login callback (port 7998). */
export const DEMO_REDIRECT_URI = 'http://127.0.0.1:7998/auth/callback/oauth';

/** The demo application's bot user. Its token is random per emulator run (controls.botToken()). */
export const DEMO_BOT_ID = '1171993355049885706';

export function defaultClients(): EmulatorClient[] {
  return [
    {
      client_id: DEMO_CLIENT_ID,
      client_secret: DEMO_CLIENT_SECRET,
      redirect_uris: [DEMO_REDIRECT_URI],
      name: 'Keygate Demo',
      bot: { id: DEMO_BOT_ID, username: 'keygate-demo', discriminator: '4821' },
    },
  ];
}

export function defaultUsers(): EmulatorUser[] {
  return [
    {
      id: '80351110224678912',
      username: 'alice',
      global_name: 'Alice',
      email: 'alice@example.com',
      verified: true,
      avatar: '8342729096ea3675442027381ff50dfe',
      locale: 'en-US',
      mfa_enabled: true,
      premium_type: 0,
      flags: 64,
      guilds: [
        {
          id: '81384788765712384',
          name: 'Discord API',
          icon: '2ccf5f8e1a5e4e9fa0a6cd5f2c7a2b7b',
          owner: false,
          permissions: '104189505',
          features: ['COMMUNITY', 'NEWS'],
          approximate_member_count: 51842,
          approximate_presence_count: 9731,
          member: { nick: null, roles: ['381870553235193857'], joined_at: '2016-03-21T17:40:07.519000+00:00' },
        },
        {
          id: '197038439483310086',
          name: 'Keygate Lab',
          icon: null,
          owner: true,
          permissions: '2251799813685247',
          features: [],
          approximate_member_count: 12,
          approximate_presence_count: 4,
          member: { nick: 'Al', roles: [], joined_at: '2016-07-01T09:12:44.102000+00:00' },
        },
        {
          id: '613425648685547541',
          name: 'Rust Community',
          icon: 'a_7c4a9e2f1d3b5a6c8e0f2a4b6c8d0e1f',
          owner: false,
          permissions: '1071698660929',
          features: ['COMMUNITY', 'DISCOVERABLE'],
          approximate_member_count: 30210,
          approximate_presence_count: 6122,
          member: { nick: null, roles: [], joined_at: '2020-02-11T18:03:00.000000+00:00' },
        },
      ],
      connections: [
        {
          id: 'alice-gh',
          name: 'alice',
          type: 'github',
          verified: true,
          visibility: 1,
          friend_sync: false,
          show_activity: true,
          two_way_link: false,
        },
        {
          id: '76561198000000000',
          name: 'alice_plays',
          type: 'steam',
          verified: true,
          visibility: 0,
          friend_sync: false,
          show_activity: true,
          two_way_link: false,
        },
      ],
    },
  ];
}
