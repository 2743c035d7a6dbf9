// A local stand-in for discord.com: OAuth2 (authorize, token, revoke) and the bearer-token REST API,
// over HTTPS with a certificate for discord.com from a throwaway CA. Used by the test suite and the
// offline `keygate demo`. Point keygate at it with KEYGATE_CONNECT_TO=<emulator.connectTo> and trust
// <emulator.caPath> (NODE_EXTRA_CA_CERTS, curl --cacert, or the `ca` option of createDispatcher).
//
//   const emulator = await startEmulator({ dir: tmp });
//   emulator.controls.rateLimitNext(1);
//   await emulator.stop();
import { loadCertificateAuthority } from '../pki/certs.js';
import { loadOrCreateCa, EMULATOR_HOSTS } from './ca.js';
import { createControls, type EmulatorControls } from './controls.js';
import { DEMO_CLIENT_ID, defaultClients, defaultUsers } from './fixtures.js';
import { close, createHandler, listen } from './server.js';
import { attachStateFile } from './persist.js';
import { EmulatorState } from './state.js';
import type { EmulatorClient, EmulatorUser } from './types.js';

export type { EmulatorControls, IssueTokensOptions } from './controls.js';
export type * from './types.js';
export { DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_REDIRECT_URI } from './fixtures.js';
export { readSavedState, STATE_FILE } from './persist.js';
export { ADMIN_ROUTES } from './admin.js';

export interface EmulatorOptions {
  /** Where the CA lives (`ca.pem`, `ca-key.pem`); created if missing, reused if present. */
  dir: string;
  /** Default 0: a random free port. The server listens on 127.0.0.1 only. */
  port?: number;
  /** expires_in of issued access tokens. Default 604800 (7 days), as Discord. */
  tokenLifetimeSeconds?: number;
  /** Default: the demo client (DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_REDIRECT_URI). */
  clients?: EmulatorClient[];
  /** Default: alice. The first user is the one signed in, who approves authorize requests. */
  users?: EmulatorUser[];
  /** The clock, in ms since the epoch (default Date.now); tests pass a fake to age codes and tokens. */
  now?: () => number;
  /**
   * Keep applications, redirect URIs and tokens in `<dir>/state.json` and reload them on start
   * (`keygate emulator` does). Default false: tests and the demo start from the fixtures every time.
   */
  persist?: boolean;
  /** Redirect URIs to register for the demo application (added to what the state file holds). */
  redirectUris?: string[];
  /**
   * More host names to answer for (on the certificate and in connectTo), under the reserved .test
   * TLD, e.g. the hosts of a provider defined in a user's JSON file. Routes are the same for every host.
   */
  hosts?: string[];
}

export interface Emulator {
  port: number;
  /** `https://127.0.0.1:<port>`. The certificate names discord.com and localhost, not the IP. */
  origin: string;
  caCertPem: string;
  /** Absolute path of `ca.pem`. */
  caPath: string;
  /**
   * `discord.com:443:127.0.0.1:<port>`, the value for KEYGATE_CONNECT_TO (and curl --connect-to);
   * with `hosts`, one such entry per host, comma-separated.
   */
  connectTo: string;
  controls: EmulatorControls;
  /** Close the server and every open connection. */
  stop(): Promise<void>;
}

export async function startEmulator(options: EmulatorOptions): Promise<Emulator> {
  const lifetime = options.tokenLifetimeSeconds ?? 604_800;
  if (!Number.isInteger(lifetime) || lifetime < 1) {
    throw new TypeError(`Expected \`tokenLifetimeSeconds\` to be a positive integer, got \`${String(lifetime)}\``);
  }
  const port = options.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new TypeError(`Expected \`port\` to be an integer from 0 to 65535, got \`${String(port)}\``);
  }
  const hosts = [...EMULATOR_HOSTS];
  for (const host of options.hosts ?? []) {
    if (!/^([a-z0-9]([a-z0-9-]*[a-z0-9])?\.)+test$/.test(host)) {
      throw new TypeError(`Expected \`hosts\` to hold host names under .test, got \`${host}\``);
    }
    if (!hosts.includes(host)) hosts.push(host);
  }
  const state = new EmulatorState(
    options.clients ?? defaultClients(),
    options.users ?? defaultUsers(),
    lifetime,
    options.now ?? Date.now,
  );
  const controls = createControls(state);

  const ca = await loadOrCreateCa(options.dir);
  const leaf = await (await loadCertificateAuthority(ca)).issue(hosts);
  const { server, port: actualPort } = await listen({ cert: leaf.certPem, key: leaf.keyPem }, port, createHandler(state, controls));
  let stateFile: ReturnType<typeof attachStateFile> | undefined;
  try {
    if (options.persist) stateFile = attachStateFile(options.dir, state, actualPort);
    for (const uri of options.redirectUris ?? []) controls.registerRedirectUri(DEMO_CLIENT_ID, uri);
    stateFile?.flush();
  } catch (err) {
    await close(server);
    throw err;
  }

  let stopping: Promise<void> | undefined;
  return {
    port: actualPort,
    origin: `https://127.0.0.1:${actualPort}`,
    caCertPem: ca.certPem,
    caPath: ca.caPath,
    connectTo: hosts.filter((h) => h !== 'localhost').map((h) => `${h}:443:127.0.0.1:${actualPort}`).join(','),
    controls,
    stop: () => (stopping ??= close(server).then(() => stateFile?.flush())),
  };
}
