// A local stand-in for discord.com: OAuth2 (authorize, token, revoke) and the bearer-token REST API,
// over HTTPS with a certificate for discord.com from a throwaway CA. Used by the test suite and the
// offline `keygate demo`. Point keygate at it with KEYGATE_CONNECT_TO=<emulator.connectTo> and trust
// <emulator.caPath> (NODE_EXTRA_CA_CERTS, curl --cacert, or the `ca` option of createDispatcher).
//
//   const emulator = await startEmulator({ dir: tmp });
//   emulator.controls.rateLimitNext(1);
//   await emulator.stop();
import { loadCertificateAuthority } from '../pki/certs.js';
import { loadOrCreateCa, EMULATOR_CA_IPS } from './ca.js';
import { createControls, type EmulatorControls } from './controls.js';
import { DEMO_CLIENT_ID, defaultClients, defaultUsers } from './fixtures.js';
import { attachGateway } from './gateway.js';
import { GATEWAY_URL, RESUME_GATEWAY_URL } from './bot-api.js';
import { close, createHandler, listen } from './server.js';
import { attachStateFile } from './persist.js';
import { EmulatorState } from './state.js';
import type { EmulatorClient, EmulatorUser } from './types.js';

export type { BotTokenInfo, EmulatorControls, IssueTokensOptions } from './controls.js';
export type * from './types.js';
export { DEMO_BOT_ID, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_REDIRECT_URI } from './fixtures.js';
export { GATEWAY_URL, RESUME_GATEWAY_URL } from './bot-api.js';
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
   * 'auto' (default): GET /oauth2/authorize approves at once as the signed-in user, for tests and
   * the demo. 'page': it shows a consent page a person answers with Authorize or Cancel.
   */
  consent?: 'auto' | 'page';
  /**
   * More host names to answer for (on the certificate and in connectToAll), under the reserved .test
   * TLD, e.g. the hosts of a provider defined in a user's JSON file. Routes are the same for every host.
   */
  hosts?: string[];
}

export interface Emulator {
  port: number;
  /** `https://127.0.0.1:<port>`. The certificate names discord.com, localhost and 127.0.0.1. */
  origin: string;
  caCertPem: string;
  /** Absolute path of `ca.pem`. */
  caPath: string;
  /** `discord.com:443:127.0.0.1:<port>`, for curl --connect-to (one entry). */
  connectTo: string;
  /**
   * The value for KEYGATE_CONNECT_TO: discord.com, gateway.discord.gg and the resume gateway host
   * READY names, all to the emulator (curl's syntax, comma-separated).
   */
  connectToAll: string;
  controls: EmulatorControls;
  /** Close the server and every open connection. */
  stop(): Promise<void>;
}

/** The hosts the emulator answers for: the API and the gateway (and its resume host). */
const EMULATED_HOSTS = ['discord.com', new URL(GATEWAY_URL).host, new URL(RESUME_GATEWAY_URL).host];

/** KEYGATE_CONNECT_TO for an emulator on `port`: every emulated host to 127.0.0.1:<port>. */
export function emulatorConnectTo(port: number): string {
  return EMULATED_HOSTS.map((host) => `${host}:443:127.0.0.1:${port}`).join(',');
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
  const extraHosts: string[] = [];
  for (const host of options.hosts ?? []) {
    if (!/^([a-z0-9]([a-z0-9-]*[a-z0-9])?\.)+test$/.test(host)) {
      throw new TypeError(`Expected \`hosts\` to hold host names under .test, got \`${host}\``);
    }
    if (!extraHosts.includes(host)) extraHosts.push(host);
  }
  const state = new EmulatorState(options.clients ?? defaultClients(), options.users ?? defaultUsers(), lifetime, options.now ?? Date.now);
  state.consentMode = options.consent ?? 'auto';
  const controls = createControls(state);

  const ca = await loadOrCreateCa(options.dir);
  const leaf = await (await loadCertificateAuthority(ca)).issue([...EMULATED_HOSTS, 'localhost', ...extraHosts, ...EMULATOR_CA_IPS]);
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
  const gateway = attachGateway(server, state);

  let stopping: Promise<void> | undefined;
  return {
    port: actualPort,
    origin: `https://127.0.0.1:${actualPort}`,
    caCertPem: ca.certPem,
    caPath: ca.caPath,
    connectTo: `discord.com:443:127.0.0.1:${actualPort}`,
    connectToAll: [emulatorConnectTo(actualPort), ...extraHosts.map((h) => `${h}:443:127.0.0.1:${actualPort}`)].join(','),
    controls,
    stop: () => (stopping ??= (gateway.close(), close(server).then(() => stateFile?.flush()))),
  };
}
