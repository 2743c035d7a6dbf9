// The child's environment, built without a child.
import { describe, expect, it } from 'vitest';
import { buildChildEnv, filterNoProxy, withPreload } from '../../src/run/env.js';

const options = {
  proxyUrl: 'http://keygate:pw@127.0.0.1:4000',
  interceptedHosts: ['discord.com'],
  placeholders: [
    { envName: 'DISCORD_ACCESS_TOKEN', placeholder: 'kgph_discord_default_00' },
    { envName: 'DISCORD_ACCESS_TOKEN_WORK', placeholder: 'kgph_discord_work_11' },
  ],
  caBundlePath: '/tmp/run/ca-bundle.pem',
  caCertPath: '/tmp/run/keygate-ca.pem',
  wgetrcPath: '/tmp/run/wgetrc',
  preloadPath: '/opt/keygate dist/run/preload.cjs',
};

describe('child environment', () => {
  it('sets every variable of the contract, replacing inherited copies', () => {
    const inherited = {
      PATH: '/bin',
      HTTPS_PROXY: 'http://corp:3128',
      http_proxy: 'http://corp:3128',
      SSL_CERT_FILE: '/etc/corp.pem',
      NODE_EXTRA_CA_CERTS: '/etc/corp.pem',
      DISCORD_ACCESS_TOKEN: 'stale',
      NODE_OPTIONS: '--max-old-space-size=512',
    };
    const { env } = buildChildEnv(inherited, options);
    expect(env).toEqual({
      PATH: '/bin',
      HTTPS_PROXY: options.proxyUrl,
      HTTP_PROXY: options.proxyUrl,
      https_proxy: options.proxyUrl,
      http_proxy: options.proxyUrl,
      DISCORD_ACCESS_TOKEN: 'kgph_discord_default_00',
      DISCORD_ACCESS_TOKEN_WORK: 'kgph_discord_work_11',
      SSL_CERT_FILE: options.caBundlePath,
      REQUESTS_CA_BUNDLE: options.caBundlePath,
      CURL_CA_BUNDLE: options.caBundlePath,
      GIT_SSL_CAINFO: options.caBundlePath,
      // Left as inherited: keygate's own CA goes through the preload, on first TLS use.
      NODE_EXTRA_CA_CERTS: '/etc/corp.pem',
      KEYGATE_CA_CERT: options.caCertPath,
      WGETRC: options.wgetrcPath,
      NODE_OPTIONS: '--max-old-space-size=512 --require "/opt/keygate dist/run/preload.cjs"',
      KEYGATE_RUN: '1',
    });
  });

  it('drops keygate secrets and any variable holding a credential value', () => {
    const { env, removed } = buildChildEnv(
      { KEYGATE_PASSPHRASE: 'pp', DISCORD_CLIENT_SECRET: 'cs', MY_TOKEN: 'xx-real-token-xx', OK: 'fine' },
      { ...options, removeVariables: ['KEYGATE_PASSPHRASE', 'DISCORD_CLIENT_SECRET'], secretValues: ['real-token'] },
    );
    expect(env.KEYGATE_PASSPHRASE).toBeUndefined();
    expect(env.DISCORD_CLIENT_SECRET).toBeUndefined();
    expect(env.MY_TOKEN).toBeUndefined();
    expect(removed).toEqual(['MY_TOKEN']);
    expect(env.OK).toBe('fine');
  });

  it('takes provider hosts out of NO_PROXY (both spellings) and keeps the rest', () => {
    expect(filterNoProxy(['localhost,discord.com,.example.org', 'internal.corp, .discord.com,*.com:443'], ['discord.com'])).toBe(
      'localhost,.example.org,internal.corp',
    );
    expect(filterNoProxy(['*'], ['discord.com'])).toBe('');
    expect(filterNoProxy([undefined, undefined], ['discord.com'])).toBeUndefined();
    const { env } = buildChildEnv({ no_proxy: 'discord.com,10.0.0.1' }, options);
    expect(env.NO_PROXY).toBe('10.0.0.1');
    expect(env.no_proxy).toBe('10.0.0.1');
  });

  it('appends the preload once, even when an outer run already added it', () => {
    const once = withPreload(undefined, '/p/preload.cjs');
    expect(once).toBe('--require "/p/preload.cjs"');
    expect(withPreload(`--inspect ${once}`, '/p/preload.cjs')).toBe('--inspect --require "/p/preload.cjs"');
  });
});
