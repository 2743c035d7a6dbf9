// The provider definition format (see providers/schema.json, the source of truth for validation).

export interface ProviderDefinition {
  /** The file name without .json; not stored in the file. */
  name: string;
  display_name: string;
  auth_type: 'oauth2';
  oauth2: {
    authorize_url: string;
    token_url: string;
    revocation_url?: string;
    client_auth: 'basic' | 'body';
    pkce: boolean;
    scope_separator?: ' ' | ',';
    default_scopes: string[];
    scopes?: Record<string, string>;
  };
  api: {
    base_url: string;
    /** Hosts the proxy may intercept and inject into. */
    hosts: string[];
    /** Requests whose path starts with this may carry the credential (default `/`), e.g. `/api/`. */
    path_prefix?: string;
    account?: { path: string; id_field: string; name_field: string };
    introspection?: { path: string };
  };
  injection: {
    header: string;
    /** e.g. "Bearer {token}" */
    format: string;
    placeholder_env: string;
  };
  /** Where the effective definition came from. */
  source: 'bundled' | 'custom';
  /** Files that made it, bundled first. */
  files: string[];
}
