// `keygate run`: pick the credentials, start the proxy, start the child with placeholders only,
// wait for it, clean up. Knows nothing of argv or stdout; src/commands/run.ts is the thin shell.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { UsageError } from '../errors.js';
import { packageRoot } from '../home.js';
import { envPrefix } from '../provider/env.js';
import type { ProviderDefinition } from '../provider/types.js';
import { loadProxyCa } from '../proxy/ca.js';
import { gatewayDomains, gatewayRelay } from '../proxy/gateway.js';
import { RequestLog, type RequestLogEntry, formatLogEntry } from '../proxy/log.js';
import { InjectionRule } from '../proxy/rules.js';
import { startProxy } from '../proxy/server.js';
import type { TokenAccess } from '../proxy/tokens.js';
import type { UpgradeHandler } from '../proxy/upgrade.js';
import { type LaunchPlan, type SandboxMode, planLaunch } from '../sandbox/index.js';
import type { Vault } from '../vault/types.js';
import { describeChange } from './binding.js';
import { type ChildOptions, runChild } from './child.js';
import { type SelectedCredential, selectCredentials } from './connections.js';
import { NESTED_MARKER, buildChildEnv } from './env.js';
import { writeRunFiles } from './trust.js';

export { NESTED_MARKER } from './env.js';

export interface RunOptions {
  /** The command and its arguments (what follows `--`). */
  command: string[];
  home: string;
  /** keygate's own environment: the child's is built from it. */
  env: NodeJS.ProcessEnv;
  vault: Pick<Vault, 'list' | 'read' | 'readSecret' | 'writeSecret'>;
  /** Every loaded provider (the CA's constraints cover all their hosts). */
  providers: Map<string, ProviderDefinition>;
  /** `<provider>/<name>` values; default: the default connection of each connected provider. */
  connections?: string[];
  verbose?: boolean;
  allowNested?: boolean;
  /** Default `auto`: sandboxed where the OS offers it, with a warning where it does not. */
  sandbox?: SandboxMode;
  /** Where injected tokens come from (src/lifecycle's createTokenAccess refreshes them). */
  tokens: TokenAccess;
  stderr: (text: string) => void;
  /** Extra CAs trusted for upstream TLS (in-process tests); a child-process run uses NODE_EXTRA_CA_CERTS. */
  upstreamCa?: string[];
  onSpawn?: (pid: number) => void;
  /** Passed to runChild: the child itself, its stdio, and whether keygate's signals reach it. */
  child?: Pick<ChildOptions, 'onChild' | 'stdio' | 'forwardSignals'>;
  /** Relays WebSocket upgrades to provider hosts (src/proxy/upgrade.ts); without it they get 501. */
  upgrade?: UpgradeHandler;
}

/** Runs the command behind the proxy and resolves with its exit code. */
export async function runWithProxy(options: RunOptions): Promise<number> {
  if (options.env[NESTED_MARKER] && !options.allowNested) {
    throw new UsageError('this is already running inside `keygate run`', {
      hint: 'the outer run already injects credentials; pass --allow-nested to start another proxy anyway',
    });
  }
  if (options.command.length === 0)
    throw new UsageError('no command to run', { hint: 'put it after --, e.g. `keygate run -- python agent.py`' });

  const warn = (message: string) => options.stderr(`keygate: ${message}\n`);
  const { credentials, secretValues } = await selectCredentials({ ...options, warn });
  for (const c of credentials) {
    if (!c.unapproved) continue;
    const login = `keygate login ${c.provider}${c.connection === 'default' ? '' : ` --connection ${c.connection}`} --force`;
    warn(
      `${c.provider}'s provider file differs from where ${c.provider}/${c.connection} was bound at login (${describeChange(c.unapproved)}); ` +
        `the credential still goes only to ${c.bound!.hosts.join(', ')} under ${c.bound!.pathPrefix} — approve with \`keygate providers trust ${c.provider}\` or \`${login}\``,
    );
  }
  const tokens = options.tokens;
  const rules = rulesFor(credentials);
  // A bot's gateway WebSocket carries its token in IDENTIFY/RESUME: relayed, not header-injected.
  const relays = [...options.providers.values()].flatMap(
    (p) =>
      gatewayRelay(
        p,
        credentials.filter((c) => c.provider === p.name),
      ) ?? [],
  );
  rules.push(...relays.map((r) => r.rule));
  const upgrade =
    options.upgrade ?? (relays.length ? (ctx: Parameters<UpgradeHandler>[0]) => relays.some((r) => r.upgrade(ctx)) : undefined);
  const lateRule = (host: string) => relays.map((r) => r.lateRule(host)).find((rule) => rule !== undefined);
  const allHosts = [...options.providers.values()].flatMap((p) => [...p.api.hosts, ...gatewayDomains(p)]);
  const ca = await loadProxyCa({ home: options.home, vault: options.vault, hosts: allHosts });

  const log = new RequestLog(options.home);
  const onRequest = (entry: RequestLogEntry) => {
    log.append(entry);
    if (options.verbose) options.stderr(`keygate: ${formatLogEntry(entry)}\n`);
  };
  let noticed = false;
  const proxy = await startProxy({
    rules,
    ca,
    tokens,
    env: options.env,
    upstreamCa: options.upstreamCa,
    upgrade,
    lateRule,
    onRequest,
    onNotice: (message) => {
      if (options.verbose || !noticed) warn(message);
      noticed = true;
    },
  });
  let files: Awaited<ReturnType<typeof writeRunFiles>> | undefined;
  let launch: LaunchPlan | undefined;
  const removeFiles = () => files?.remove();
  try {
    // Warm the token cache (and refresh if due) before the child starts, so its first request is
    // fast and a problem is reported up front. A failure is not fatal: requests then get a 502 saying why.
    await Promise.all(
      credentials.map((c) =>
        tokens.getToken(c.provider, c.connection).catch((err: Error) => warn(`${c.provider}/${c.connection}: ${err.message}`)),
      ),
    );
    files = await writeRunFiles(ca.certPem, options.env, options.home);
    process.once('exit', removeFiles);
    const { env, removed } = buildChildEnv(options.env, {
      proxyUrl: proxy.url,
      interceptedHosts: proxy.interceptedHosts,
      placeholders: credentials,
      caBundlePath: files.caBundlePath,
      caCertPath: files.caCertPath,
      wgetrcPath: files.wgetrcPath,
      preloadPath: preloadPath(),
      removeVariables: keygateSecretVariables(options.providers),
      secretValues,
    });
    for (const name of removed) warn(`removed $${name} from the command's environment: it holds a credential`);
    if (options.verbose) {
      warn(`proxy on 127.0.0.1:${proxy.port}; CA ${ca.certPath}`);
      for (const rule of rules) warn(rule.explain());
    }
    launch = planLaunch({
      mode: options.sandbox ?? 'auto',
      command: options.command,
      env,
      home: options.home,
      runtimeBase: files.base,
      runDir: files.dir,
    });
    if (launch.notice) warn(launch.notice);
    if (options.verbose && launch.sandboxed) warn(`sandbox: bubblewrap; hidden: ${launch.hidden.join(', ')}`);
    return await runChild(options.command, { env, onSpawn: options.onSpawn, launch, ...options.child });
  } finally {
    launch?.release();
    await proxy.close();
    await log.close();
    removeFiles();
    process.off('exit', removeFiles);
  }
}

function rulesFor(credentials: SelectedCredential[]): InjectionRule[] {
  const byProvider = new Map<string, SelectedCredential[]>();
  for (const c of credentials) byProvider.set(c.provider, [...(byProvider.get(c.provider) ?? []), c]);
  return [...byProvider.values()].map(
    (list) =>
      new InjectionRule(
        list[0].definition,
        list.map(({ definition: _, unapproved: __, ...c }) => c),
      ),
  );
}

/** keygate's own secrets that may sit in its environment and must not reach the child. */
function keygateSecretVariables(providers: Map<string, ProviderDefinition>): string[] {
  // A bot token the user exported for `login --bot` must not reach the child either: when the bot is
  // in the run, its placeholder takes the variable's place.
  const botTokens = [...providers.values()].flatMap((p) => (p.bot ? [p.bot.placeholder_env] : []));
  // KEYGATE_STORE may carry the shared database's password (postgres://user:password@host/db).
  return [
    'KEYGATE_PASSPHRASE',
    'KEYGATE_STORE',
    'PGPASSWORD',
    ...[...providers.keys()].map((name) => `${envPrefix(name)}_CLIENT_SECRET`),
    ...botTokens,
  ];
}

/** preload.cjs next to this file once compiled; from the sources (tests), the compiled copy in dist/. */
export function preloadPath(): string {
  const sibling = path.join(path.dirname(fileURLToPath(import.meta.url)), 'preload.cjs');
  return fs.existsSync(sibling) ? sibling : path.join(packageRoot, 'dist', 'run', 'preload.cjs');
}
