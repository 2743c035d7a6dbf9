// Every "what to do next" keygate prints about a connection is built here, from the connection it is
// about, so the suggested command always carries the right provider, --connection and flags, and
// the tests can run each one (test/connection/hints.test.ts runs every command this file suggests).
//
// The rule for `login`: plain `keygate login <provider>` fixes a connection that is missing, expired
// or revoked (it reuses the stored client credentials). `--force` is only for replacing something
// plain login refuses to touch: a connection that is still connected, or a record keygate cannot
// read (tampered, or written under a lost key).

/** What a connection looks like from the outside; `unreadable` means its record failed to open. */
export type ConnectionState = 'not_connected' | 'connected' | 'expired' | 'revoked' | 'unreadable';

/** ` --connection <name>`, or nothing for `default`, so commands stay as short as users type them. */
export function connectionFlag(connection: string): string {
  return connection === 'default' ? '' : ` --connection ${connection}`;
}

export function loginCommand(provider: string, connection: string, options: { force?: boolean } = {}): string {
  return `keygate login ${provider}${connectionFlag(connection)}${options.force ? ' --force' : ''}`;
}

export function logoutCommand(provider: string, connection: string, options: { forget?: boolean } = {}): string {
  return `keygate logout ${provider}${connectionFlag(connection)}${options.forget ? ' --forget' : ''}`;
}

/** A bot connection is logged in with `--bot`; its default connection is named `bot`. */
export function botLoginCommand(provider: string, connection: string, options: { force?: boolean } = {}): string {
  return `keygate login ${provider} --bot${connection === 'bot' ? '' : ` --connection ${connection}`}${options.force ? ' --force' : ''}`;
}

/** The command that gets this connection working again, or undefined when it works. */
export function fixCommand(
  provider: string,
  connection: string,
  state: ConnectionState,
  kind: 'user' | 'bot' = 'user',
): string | undefined {
  if (kind === 'bot') return state === 'connected' ? undefined : botLoginCommand(provider, connection, { force: state === 'unreadable' });
  switch (state) {
    case 'connected':
      return undefined;
    case 'unreadable':
      return loginCommand(provider, connection, { force: true });
    default:
      return loginCommand(provider, connection);
  }
}

/** The hint text after the em dash: "run `keygate login discord --connection work`". */
export function fixHint(provider: string, connection: string, state: ConnectionState, kind: 'user' | 'bot' = 'user'): string | undefined {
  const command = fixCommand(provider, connection, state, kind);
  // A bot token cannot be refreshed: a revoked one was reset, and only a new one brings it back.
  if (command && kind === 'bot' && state !== 'not_connected')
    return `reset the token in the Developer Portal (Bot → Reset Token), then run \`${command}\``;
  return command && `run \`${command}\``;
}

/** For a record file keygate may not read: the owner can fix the mode; anyone else needs the owner. */
export function permissionHint(file: string, ownerUid: number | undefined): string {
  const me = process.getuid?.();
  if (ownerUid === undefined || me === undefined || ownerUid === me) return `run \`chmod 600 ${file}\``;
  return `it belongs to uid ${ownerUid}, not you (uid ${me}); have its owner run \`chmod 600 ${file}\` or \`chown ${me} ${file}\``;
}

/** After the provider refused the client id/secret, by where they came from. */
export function clientHint(provider: string, connection: string, source: string): string {
  const prefix = provider.toUpperCase().replace(/[^A-Z0-9]/g, '_');
  const vars = `${prefix}_CLIENT_ID and ${prefix}_CLIENT_SECRET`;
  if (source === 'environment') return `check ${vars}: they must be the client id and secret on your app's OAuth2 page`;
  if (source === 'stored')
    return `the stored ones are wrong: set ${vars} to your app's values and run \`${loginCommand(provider, connection, { force: true })}\``;
  return `run \`${loginCommand(provider, connection, { force: true })}\` and enter the client id and secret from your app's OAuth2 page`;
}
