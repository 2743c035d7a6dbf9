// The catalogue's pure parts, in-process: schema conversion and checks, URL building, coverage and
// scope planning, against the bundled Discord file and a small made-up provider.
import { describe, expect, it } from 'vitest';
import { getProvider } from '../../src/provider/index.js';
import type { ProviderDefinition } from '../../src/provider/types.js';
import {
  coverage,
  getTool,
  inputSchema,
  listTools,
  paramsFromPairs,
  planScopes,
  requirementFor,
  validateInput,
} from '../../src/tools/index.js';
import { toolUrl } from '../../src/tools/request.js';

const discord = await getProvider('discord', { home: '/nonexistent-keygate-home' });

function provider(tools: ProviderDefinition['tools']): ProviderDefinition {
  return { ...discord, name: 'acme', display_name: 'Acme', tools, files: ['acme.json'] };
}

describe('parameters', () => {
  const entitlements = getTool(discord, 'get_current_user_application_entitlements');

  it('--param values become numbers and booleans only where the schema says so; lists split on commas', () => {
    const input = paramsFromPairs(entitlements, [
      'application_id=123456789012345678',
      'limit=5',
      'exclude_ended=true',
      'sku_ids=1,2',
      'sku_ids=3',
    ]);
    expect(input).toEqual({ application_id: '123456789012345678', limit: 5, exclude_ended: true, sku_ids: ['1', '2', '3'] });
    expect(validateInput(entitlements, input)).toEqual(input);
  });

  it('the largest 64-bit snowflake stays exactly as typed (a JS number would round it)', () => {
    const member = getTool(discord, 'get_my_guild_member');
    expect(paramsFromPairs(member, ['guild_id=18446744073709551615'])).toEqual({ guild_id: '18446744073709551615' });
  });

  it.each([
    [{ application_id: '1', limit: 0 }, /`limit` expected an integer from 1 to 100, got `0`/],
    [{ application_id: '1', limit: 2.5 }, /`limit` expected an integer from 1 to 100/],
    [{ application_id: '1', sku_ids: ['1', 'x'] }, /`sku_ids\[1\]` expected a snowflake id/],
    [{ application_id: '1', sku_ids: '1' }, /`sku_ids` expected a list, each a snowflake id/],
    [{ application_id: null }, /`application_id` expected a snowflake id \(digits, as a string\), got `null`/],
    [{}, /`application_id` is required/],
    [{ application_id: '1', exclude: true }, /unknown parameter `exclude`/],
  ])('%j is refused with a message naming the parameter', (input, message) => {
    expect(() => validateInput(entitlements, input)).toThrow(message);
  });
});

describe('requests', () => {
  it('path values are percent-encoded (except @), the rest goes to the query', () => {
    const user = getTool(discord, 'get_user');
    expect(toolUrl(discord, user, { user_id: '@me' })).toBe('https://discord.com/api/v10/users/@me');
    const tool = getTool(
      provider({
        t: {
          description: 'x',
          path: '/a/{id}/b',
          parameters: { properties: { id: { type: 'string' }, q: { type: 'array', items: { type: 'string' } } }, required: ['id'] },
        },
      }),
      't',
    );
    expect(toolUrl(discord, tool, { id: 'x/y?z#', q: ['1', '2'] })).toBe('https://discord.com/api/v10/a/x%2Fy%3Fz%23/b?q=1%2C2');
    expect(() => toolUrl(discord, tool, { id: '..' })).toThrow(/cannot be `..`/);
  });

  it('the input schema is plain JSON Schema (no `in`)', () => {
    const schema = inputSchema(getTool(discord, 'get_guild_widget_png')) as { properties: Record<string, object>; required: string[] };
    expect(schema.required).toEqual(['guild_id']);
    expect(Object.values(schema.properties).some((p) => 'in' in p)).toBe(false);
  });
});

describe('coverage and planning', () => {
  it('get_user is a user call for @me and a bot call otherwise', () => {
    const user = getTool(discord, 'get_user');
    expect(requirementFor(user, { user_id: '@me' })).toEqual({ auth: 'user', scopes: ['identify'] });
    expect(requirementFor(user, { user_id: '1' })).toEqual({ auth: 'bot', scopes: [] });
    expect(coverage(user, { granted: ['identify'] })).toMatchObject({
      callable: true,
      note: expect.stringMatching(/^only with user_id=@me/),
    });
    expect(coverage(user, { granted: [] })).toMatchObject({ callable: false, missing: ['identify'] });
  });

  it('every Discord tool is valid, and planning all of them gives the union of their scopes', () => {
    const tools = listTools(discord);
    expect(tools).toHaveLength(16);
    const plan = planScopes(
      discord,
      tools.map((t) => t.name),
    );
    expect(plan.scopes.sort()).toEqual(['applications.entitlements', 'connections', 'guilds', 'guilds.members.read', 'identify', 'openid']);
    expect(plan.no_token).toHaveLength(8);
    for (const scope of plan.scopes) expect(Object.keys(discord.oauth2.scopes ?? {})).toContain(scope);
  });

  it.each([
    [{ description: 'x', path: '/a/{id}' }, /\$\.tools\.t\.path names \{id\}, which is not a parameter/],
    [
      { description: 'x', path: '/a/{id}', parameters: { properties: { id: { type: 'string' as const } } } },
      /must list the path parameter "id"/,
    ],
    [
      { description: 'x', path: '/a', parameters: { properties: { id: { type: 'string' as const, in: 'path' as const } } } },
      /is "path" but the path \/a has no \{id\}/,
    ],
    [
      { description: 'x', path: '/a', parameters: { properties: { q: { type: 'string' as const, pattern: '(' } } } },
      /is not a valid regular expression/,
    ],
  ])('a broken tool definition is a provider error naming the field: %j', (definition, message) => {
    expect(() => listTools(provider({ t: definition }))).toThrow(message);
  });
});
