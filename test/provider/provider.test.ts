import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  deepMerge,
  getProvider,
  loadProviderCatalog,
  loadProviders,
  providerFileBody,
  validateProviderFile,
} from '../../src/provider/index.js';
import { ProviderError } from '../../src/errors.js';
import { tempHome } from '../helpers/cli.js';

function homeWith(files: Record<string, unknown>): string {
  const home = tempHome();
  fs.mkdirSync(path.join(home, 'providers'));
  for (const [name, content] of Object.entries(files)) {
    fs.writeFileSync(path.join(home, 'providers', name), typeof content === 'string' ? content : JSON.stringify(content));
  }
  return home;
}

const minimal = {
  display_name: 'Acme',
  auth_type: 'oauth2',
  oauth2: {
    authorize_url: 'https://acme.test/oauth/authorize',
    token_url: 'https://acme.test/oauth/token',
    client_auth: 'body',
    pkce: true,
    default_scopes: ['read'],
  },
  api: { base_url: 'https://api.acme.test', hosts: ['api.acme.test'] },
  injection: { header: 'Authorization', format: 'Bearer {token}', placeholder_env: 'ACME_ACCESS_TOKEN' },
};

async function problem(home: string, name = 'discord'): Promise<string> {
  const err = await getProvider(name, { home }).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(ProviderError);
  return (err as ProviderError).message;
}

describe('bundled providers', () => {
  it('loads discord with everything later commands need', async () => {
    const discord = await getProvider('discord', { home: tempHome() });
    expect(discord).toMatchObject({
      name: 'discord',
      display_name: 'Discord',
      auth_type: 'oauth2',
      source: 'bundled',
      oauth2: {
        authorize_url: 'https://discord.com/oauth2/authorize',
        token_url: 'https://discord.com/api/oauth2/token',
        revocation_url: 'https://discord.com/api/oauth2/token/revoke',
        pkce: true,
      },
      api: { base_url: 'https://discord.com/api/v10', hosts: ['discord.com'] },
      injection: { header: 'Authorization', format: 'Bearer {token}', placeholder_env: 'DISCORD_ACCESS_TOKEN' },
    });
    expect(discord.oauth2.default_scopes).toEqual(['identify', 'email', 'guilds', 'connections']);
    expect(Object.keys(discord.oauth2.scopes ?? {})).toEqual(
      expect.arrayContaining(['identify', 'email', 'guilds', 'guilds.members.read', 'connections', 'bot', 'rpc']),
    );
    expect(discord).not.toHaveProperty('$schema');
  });

  it('the bundled file references the schema for editors', () => {
    const raw = JSON.parse(fs.readFileSync(path.join(import.meta.dirname, '../../providers/discord.json'), 'utf8'));
    expect(raw.$schema).toBe('./schema.json');
  });
});

describe('user overrides', () => {
  it('a user file with only display_name is merged deeply over the bundled one', async () => {
    const home = homeWith({ 'discord.json': { display_name: 'Discord (work)' } });
    const discord = await getProvider('discord', { home });
    expect(discord.display_name).toBe('Discord (work)');
    expect(discord.source).toBe('custom');
    expect(discord.oauth2.token_url).toBe('https://discord.com/api/oauth2/token');
  });

  it('nested fields merge; arrays replace', async () => {
    const home = homeWith({
      'discord.json': { oauth2: { default_scopes: ['identify'] }, api: { hosts: ['discord.com', 'canary.discord.com'] } },
    });
    const discord = await getProvider('discord', { home });
    expect(discord.oauth2.default_scopes).toEqual(['identify']);
    expect(discord.oauth2.pkce).toBe(true);
    expect(discord.api.hosts).toEqual(['discord.com', 'canary.discord.com']);
  });

  it('a new name adds a custom provider', async () => {
    const home = homeWith({ 'acme.json': minimal });
    const all = await loadProviders({ home });
    expect([...all.keys()]).toEqual(['acme', 'discord']);
    expect(all.get('acme')).toMatchObject({ display_name: 'Acme', source: 'custom' });
  });

  it('a JSON "__proto__" key cannot pollute prototypes', () => {
    const merged = deepMerge({ a: 1 }, JSON.parse('{"__proto__": {"polluted": true}}')) as Record<string, unknown>;
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.getPrototypeOf(merged)).toBe(Object.prototype);
  });
});

describe('validation names the file and the JSON path', () => {
  it('malformed JSON', async () => {
    const home = homeWith({ 'discord.json': '{"display_name": "x",' });
    expect(await problem(home)).toMatch(/providers\/discord\.json: not valid JSON/);
  });

  it('a wrong type', async () => {
    const home = homeWith({ 'discord.json': { oauth2: { pkce: 'yes' } } });
    expect(await problem(home)).toMatch(/discord\.json: \$\.oauth2\.pkce expected a boolean, got string "yes"/);
  });

  it('an unknown field, with a did-you-mean', async () => {
    const home = homeWith({ 'discord.json': { display_nmae: 'typo' } });
    expect(await problem(home)).toMatch(/discord\.json: \$\.display_nmae is not a known field \(did you mean "display_name"\?\)/);
  });

  it('a nested unknown field', async () => {
    const home = homeWith({ 'discord.json': { injection: { placeholder: 'X' } } });
    expect(await problem(home)).toMatch(/\$\.injection\.placeholder is not a known field/);
  });

  it('a missing required field in a new provider', async () => {
    const { api: _api, ...noApi } = minimal;
    const home = homeWith({ 'acme.json': noApi });
    expect(await problem(home, 'acme')).toMatch(/acme\.json: \$\.api is required but missing/);
  });

  it('a non-https URL', async () => {
    const home = homeWith({ 'discord.json': { oauth2: { token_url: 'http://discord.com/api/oauth2/token' } } });
    expect(await problem(home)).toMatch(/\$\.oauth2\.token_url expected an https:\/\/ URL/);
  });

  it('a bad enum value', async () => {
    const home = homeWith({ 'discord.json': { oauth2: { client_auth: 'header' } } });
    expect(await problem(home)).toMatch(/\$\.oauth2\.client_auth expected one of "basic", "body", got "header"/);
  });

  it('a pattern mismatch in an array item', async () => {
    const home = homeWith({ 'discord.json': { api: { hosts: ['Discord.COM/'] } } });
    expect(await problem(home)).toMatch(/\$\.api\.hosts\[0\] "Discord.COM\/" does not match/);
  });

  it('a non-object document', async () => {
    const home = homeWith({ 'discord.json': '[1,2]' });
    expect(await problem(home)).toMatch(/\$ expected an object, got array/);
  });

  it('an unknown provider lists the known ones', async () => {
    const err = await getProvider('slack', { home: tempHome() }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProviderError);
    expect((err as ProviderError).message).toBe('unknown provider "slack"');
    expect((err as ProviderError).hint).toBe('known providers: discord');
  });

  it('validateProviderFile accepts the bundled file and a complete custom one', () => {
    const home = homeWith({ 'acme.json': minimal });
    expect(validateProviderFile(path.join(import.meta.dirname, '../../providers/discord.json')).name).toBe('discord');
    expect(validateProviderFile(path.join(home, 'providers', 'acme.json')).display_name).toBe('Acme');
  });
});

describe('the file body of a provider', () => {
  it('is a valid file without provenance, and a full copy saved as an override changes nothing', async () => {
    const bundled = await getProvider('discord', { home: tempHome() });
    const body = providerFileBody(bundled);
    expect(body).not.toHaveProperty('name');
    expect(body).not.toHaveProperty('source');
    expect(body).not.toHaveProperty('files');
    const home = homeWith({ 'discord.json': body });
    const copy = await getProvider('discord', { home });
    expect(copy.source).toBe('custom');
    const { source: _a, files: _b, ...same } = copy;
    const { source: _c, files: _d, ...original } = bundled;
    expect(same).toEqual(original);
  });

  it('a broken file is reported in the catalog, the others load', async () => {
    const home = homeWith({ 'acme.json': '{', 'other.json': { ...minimal, display_name: 'Other' } });
    const { providers, broken } = await loadProviderCatalog({ home });
    expect([...providers.keys()]).toEqual(['discord', 'other']);
    expect([...broken.keys()]).toEqual(['acme']);
    expect(broken.get('acme')!.problems).toEqual([expect.stringMatching(/acme\.json: not valid JSON/)]);
  });
});
