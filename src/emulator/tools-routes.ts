// The REST routes only the tool catalogue uses: guild widgets (JSON and PNG), templates, invites,
// entitlements, OpenID Connect userinfo and keys, sticker packs. api.ts asks toolRoute() after its
// own table. Answers and error codes follow Discord's docs: 403 50004 "Widget Disabled", 404 10004
// "Unknown Guild", 10006 "Unknown Invite", 10057 "Unknown Guild Template".
import { generateKeyPairSync, type JsonWebKey } from 'node:crypto';
import { crc32, deflateSync } from 'node:zlib';
import type { ApiRoute } from './api.js';
import { json, type Exchange } from './http.js';
import type { AccessToken } from './state.js';
import { ENTITLEMENTS, INVITES, STICKER_PACKS, TEMPLATES, WIDGETS } from './tools-fixtures.js';
import type { EmulatorGuild, EmulatorUser } from './types.js';

const WIDGET = /\/guilds\/(\d{1,20})\/widget\.(json|png)$/;
const TEMPLATE = /\/guilds\/templates\/([A-Za-z0-9_-]{1,100})$/;
const INVITE = /\/invites\/([A-Za-z0-9_-]{1,100})$/;
const ENTITLEMENTS_PATH = /\/users\/@me\/applications\/(\d{1,20})\/entitlements$/;

const STATIC = new Map<string, ApiRoute>([
  ['/oauth2/userinfo', { method: 'GET', scopes: ['openid'], handle: userinfo }],
  ['/oauth2/keys', { method: 'GET', scopes: null, handle: (ex) => json(ex, 200, { keys: [signingKey()] }) }],
  ['/sticker-packs', { method: 'GET', scopes: null, handle: (ex) => json(ex, 200, { sticker_packs: STICKER_PACKS }) }],
]);

/** The route for `path` (under /api/v10), or undefined when it is not one of these. */
export function toolRoute(path: string): ApiRoute | undefined {
  const fixed = STATIC.get(path);
  if (fixed) return fixed;
  let m = WIDGET.exec(path);
  if (m) {
    const [, guildId, kind] = m as unknown as [string, string, string];
    return { method: 'GET', scopes: null, handle: (ex) => (kind === 'json' ? widgetJson(ex, guildId) : widgetPng(ex, guildId)) };
  }
  if ((m = TEMPLATE.exec(path))) {
    const code = m[1];
    return {
      method: 'GET',
      scopes: null,
      handle: (ex) =>
        TEMPLATES[code] ? json(ex, 200, TEMPLATES[code]) : json(ex, 404, { message: 'Unknown Guild Template', code: 10057 }),
    };
  }
  if ((m = INVITE.exec(path))) {
    const code = m[1];
    return { method: 'GET', scopes: null, handle: (ex) => invite(ex, code) };
  }
  if ((m = ENTITLEMENTS_PATH.exec(path))) {
    const applicationId = m[1];
    return {
      method: 'GET',
      scopes: ['applications.entitlements'],
      handle: (ex, token, user) => entitlements(ex, token, user, applicationId),
    };
  }
  return undefined;
}

function findGuild(ex: Exchange, id: string): EmulatorGuild | undefined {
  for (const user of ex.state.users.values()) {
    const guild = user.guilds?.find((g) => g.id === id);
    if (guild) return guild;
  }
  return undefined;
}

/** The widget of a known guild, or the error Discord answers; undefined once the answer is sent. */
function enabledWidget(ex: Exchange, guildId: string): { guild: EmulatorGuild; widget: (typeof WIDGETS)[string] } | undefined {
  const guild = findGuild(ex, guildId);
  if (!guild) return void json(ex, 404, { message: 'Unknown Guild', code: 10004 });
  const widget = WIDGETS[guildId];
  if (!widget?.enabled) return void json(ex, 403, { message: 'Widget Disabled', code: 50004 });
  return { guild, widget };
}

/** https://discord.com/developers/docs/resources/guild#get-guild-widget */
function widgetJson(ex: Exchange, guildId: string): void {
  const found = enabledWidget(ex, guildId);
  if (!found) return;
  const { guild, widget } = found;
  json(ex, 200, {
    id: guild.id,
    name: guild.name,
    instant_invite: widget.instant_invite,
    channels: widget.channels,
    members: widget.members.map((m) => ({ ...m, discriminator: '0000', avatar: null })),
    presence_count: widget.presence_count,
  });
}

/** Widget image sizes by style, roughly Discord's. */
const STYLES: Record<string, [number, number]> = {
  shield: [76, 20],
  banner1: [320, 82],
  banner2: [328, 76],
  banner3: [320, 100],
  banner4: [320, 152],
};

function widgetPng(ex: Exchange, guildId: string): void {
  const style = new URLSearchParams(ex.query).get('style') ?? 'shield';
  const size = STYLES[style];
  if (!size) {
    return json(ex, 400, {
      message: 'Invalid Form Body',
      code: 50035,
      errors: {
        style: {
          _errors: [
            {
              code: 'BASE_TYPE_CHOICES',
              message: `Value must be one of {${Object.keys(STYLES)
                .map((s) => `'${s}'`)
                .join(', ')}}.`,
            },
          ],
        },
      },
    });
  }
  if (!enabledWidget(ex, guildId)) return;
  // Blurple background with a lighter band: enough to be a real, decodable image.
  const image = png(size[0], size[1], (_x, y) => (y < size[1] / 3 ? [114, 137, 218] : [88, 101, 242]));
  ex.res.writeHead(200, { 'content-type': 'image/png', 'content-length': image.length });
  ex.res.end(image);
  ex.state.record(ex.method, ex.path, 200, ex.tokenId);
}

/** https://discord.com/developers/docs/resources/invite#get-invite */
function invite(ex: Exchange, code: string): void {
  const found = INVITES[code];
  if (!found) return json(ex, 404, { message: 'Unknown Invite', code: 10006 });
  const query = new URLSearchParams(ex.query);
  const yes = (name: string) => /^(true|1)$/i.test(query.get(name) ?? '');
  const body: Record<string, unknown> = { type: 0, code, guild: found.guild, guild_id: found.guild.id, channel: found.channel };
  if (found.inviter) body.inviter = found.inviter;
  if (yes('with_counts')) {
    body.approximate_member_count = found.approximate_member_count;
    body.approximate_presence_count = found.approximate_presence_count;
  }
  if (yes('with_expiration')) body.expires_at = found.expires_at;
  const eventId = query.get('guild_scheduled_event_id');
  if (eventId !== null && found.scheduled_event?.id === eventId) body.guild_scheduled_event = found.scheduled_event;
  json(ex, 200, body);
}

/** https://discord.com/developers/docs/topics/oauth2#get-current-authorization-information: OIDC claims. */
function userinfo(ex: Exchange, token: AccessToken, user: EmulatorUser): void {
  const body: Record<string, unknown> = {
    sub: user.id,
    preferred_username: user.username,
    nickname: user.global_name,
    picture: user.avatar ? `https://cdn.discordapp.com/avatars/${user.id}/${user.avatar}.png` : null,
    locale: user.locale ?? 'en-US',
  };
  if (token.grant.scopeSet.has('email')) {
    body.email = user.email;
    body.email_verified = user.verified ?? true;
  }
  json(ex, 200, body);
}

/** https://discord.com/developers/docs/resources/entitlement#list-entitlements, for the token's user. */
function entitlements(ex: Exchange, _token: AccessToken, user: EmulatorUser, applicationId: string): void {
  if (!ex.state.clients.has(applicationId)) return json(ex, 404, { message: 'Unknown Application', code: 10002 });
  const query = new URLSearchParams(ex.query);
  const limitText = query.get('limit') ?? '100';
  const limit = Number(limitText);
  if (!/^\d+$/.test(limitText) || limit < 1 || limit > 100) {
    return json(ex, 400, {
      message: 'Invalid Form Body',
      code: 50035,
      errors: { limit: { _errors: [{ code: 'NUMBER_TYPE_MAX', message: 'int value should be between 1 and 100.' }] } },
    });
  }
  const skus = query.get('sku_ids')?.split(',').filter(Boolean);
  const guildId = query.get('guild_id');
  const before = query.get('before');
  const after = query.get('after');
  const excludeEnded = /^(true|1)$/i.test(query.get('exclude_ended') ?? '');
  const excludeDeleted = !/^(false|0)$/i.test(query.get('exclude_deleted') ?? 'true');
  const now = ex.state.now();
  const rows = ENTITLEMENTS.filter(
    (e) =>
      e.application_id === applicationId &&
      e.user_id === user.id &&
      (!skus || skus.includes(e.sku_id)) &&
      (guildId === null || e.guild_id === guildId) &&
      (before === null || BigInt(e.id) < BigInt(before)) &&
      (after === null || BigInt(e.id) > BigInt(after)) &&
      !(excludeEnded && e.ends_at !== null && Date.parse(e.ends_at) <= now) &&
      !(excludeDeleted && e.deleted),
  ).slice(0, limit);
  json(ex, 200, rows);
}

let jwk: JsonWebKey | undefined;
/** One RSA signing key per emulator process, published as a JWK (kty, n, e plus kid/use/alg). */
function signingKey(): JsonWebKey {
  if (!jwk) {
    const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    jwk = { ...publicKey.export({ format: 'jwk' }), kid: 'emulator-signing-key-1', use: 'sig', alg: 'RS256' };
  }
  return jwk;
}

/** A truecolour PNG (RFC 2083): signature, IHDR, one zlib IDAT of filter-0 rows, IEND. */
export function png(width: number, height: number, pixel: (x: number, y: number) => [number, number, number]): Buffer {
  const rows = Buffer.alloc((width * 3 + 1) * height);
  for (let y = 0; y < height; y++) {
    const start = y * (width * 3 + 1);
    for (let x = 0; x < width; x++) rows.set(pixel(x, y), start + 1 + x * 3);
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 2, 0, 0, 0], 8); // 8-bit, RGB, deflate, no filter method extras, no interlace
  const chunk = (type: string, data: Buffer) => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([length, body, crc]);
  };
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(rows)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}
