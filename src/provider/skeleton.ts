// The starting file `keygate providers init <name>` writes. JSON has no comments, and a JSONC
// dialect would make provider files unreadable to jq and every other JSON tool; so the skeleton is
// plain JSON whose "$schema" gives editors completion, hover text for every field and live errors
// (the schema's descriptions are the comments), with every field present so nothing has to be
// looked up. Hosts are under example.invalid (RFC 2606: never resolves), so an unedited skeleton
// can never send anyone anywhere; it still validates, so `providers list` doesn't show it broken.
import { schemaUrl } from './index.js';

export function providerSkeleton(name: string): Record<string, unknown> {
  const envName = `${name
    .toUpperCase()
    .replace(/[^A-Z0-9]/g, '_')
    .replace(/^(\d)/, 'P_$1')}_ACCESS_TOKEN`;
  return {
    $schema: schemaUrl(),
    display_name: name.charAt(0).toUpperCase() + name.slice(1),
    auth_type: 'oauth2',
    oauth2: {
      authorize_url: 'https://auth.example.invalid/oauth2/authorize',
      token_url: 'https://auth.example.invalid/oauth2/token',
      revocation_url: 'https://auth.example.invalid/oauth2/revoke',
      client_auth: 'basic',
      pkce: true,
      scope_separator: ' ',
      default_scopes: ['read'],
      scopes: {
        read: 'What this scope lets keygate do, in one line',
      },
    },
    api: {
      base_url: 'https://api.example.invalid/v1',
      hosts: ['api.example.invalid'],
      account: { path: '/me', id_field: 'id', name_field: 'username' },
    },
    injection: {
      header: 'Authorization',
      format: 'Bearer {token}',
      placeholder_env: envName,
    },
  };
}
