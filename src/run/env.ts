// The child's environment (DESIGN.md, "`run` and the proxy"): the proxy in both spellings, provider
// hosts taken out of NO_PROXY, one placeholder per credential, CA trust for common runtimes (a CA
// bundle in the usual variables, a wgetrc for wget, keygate's CA for the Node preload), and the
// Node preload that routes https and fetch through the proxy. Inherited copies of these variables
// are replaced; NODE_EXTRA_CA_CERTS is left as inherited. Pure, so it is tested without a child.

/** Set in every child; a `keygate run` inside one refuses to start without --allow-nested. */
export const NESTED_MARKER = 'KEYGATE_RUN';

/** Read by the preload (preload.cts): keygate's CA, added to Node's TLS trust on first use. */
export const CA_CERT_VARIABLE = 'KEYGATE_CA_CERT';
export const CA_BUNDLE_VARIABLES = ['SSL_CERT_FILE', 'REQUESTS_CA_BUNDLE', 'CURL_CA_BUNDLE', 'GIT_SSL_CAINFO'] as const;
export const PROXY_VARIABLES = ['HTTPS_PROXY', 'HTTP_PROXY', 'https_proxy', 'http_proxy'] as const;

export interface ChildEnvOptions {
  /** http://keygate:<password>@127.0.0.1:<port> */
  proxyUrl: string;
  /** Hosts the proxy intercepts: they must not bypass it through NO_PROXY. */
  interceptedHosts: readonly string[];
  placeholders: ReadonlyArray<{ envName: string; placeholder: string }>;
  /** System roots + keygate's CA (+ inherited extra CAs). */
  caBundlePath: string;
  /** keygate's CA alone: the preload adds it to Node's trust when TLS is first used. */
  caCertPath: string;
  /** A wgetrc naming the bundle (wget reads no CA variable). */
  wgetrcPath: string;
  /** The .cjs file that makes Node's https and fetch use the proxy. */
  preloadPath: string;
  /** Variables that hold secrets of keygate's own and must not reach the child (e.g. KEYGATE_PASSPHRASE). */
  removeVariables?: readonly string[];
  /** Secret values that must not appear in any variable (the selected connections' tokens). */
  secretValues?: readonly string[];
}

export interface ChildEnv {
  env: NodeJS.ProcessEnv;
  /** Inherited variables dropped because they held a secret value. */
  removed: string[];
}

export function buildChildEnv(inherited: NodeJS.ProcessEnv, options: ChildEnvOptions): ChildEnv {
  const env: NodeJS.ProcessEnv = { ...inherited };
  const removed: string[] = [];
  for (const name of options.removeVariables ?? []) delete env[name];
  const secrets = options.secretValues ?? [];
  for (const [name, value] of Object.entries(env)) {
    if (value && secrets.some((secret) => value.includes(secret))) {
      delete env[name];
      removed.push(name);
    }
  }

  for (const name of PROXY_VARIABLES) env[name] = options.proxyUrl;

  const noProxy = filterNoProxy([inherited.NO_PROXY, inherited.no_proxy], options.interceptedHosts);
  delete env.NO_PROXY;
  delete env.no_proxy;
  if (noProxy !== undefined) env.NO_PROXY = env.no_proxy = noProxy;

  for (const { envName, placeholder } of options.placeholders) env[envName] = placeholder;
  for (const name of CA_BUNDLE_VARIABLES) env[name] = options.caBundlePath;
  env[CA_CERT_VARIABLE] = options.caCertPath;
  env.WGETRC = options.wgetrcPath;
  env.NODE_OPTIONS = withPreload(inherited.NODE_OPTIONS, options.preloadPath);
  env[NESTED_MARKER] = '1';
  return { env, removed };
}

/**
 * The union of the inherited NO_PROXY lists without any entry that covers an intercepted host:
 * the host itself, a parent domain (`.discord.com`, `*.com`), or `*`. Undefined when none was set.
 */
export function filterNoProxy(values: ReadonlyArray<string | undefined>, hosts: readonly string[]): string | undefined {
  if (values.every((v) => v === undefined)) return undefined;
  const entries = new Set<string>();
  for (const value of values) {
    for (const raw of (value ?? '').split(/[,\s]+/)) if (raw !== '') entries.add(raw);
  }
  const kept = [...entries].filter((entry) => !hosts.some((host) => covers(entry, host)));
  return kept.join(',');
}

function covers(entry: string, host: string): boolean {
  if (entry === '*') return true;
  const name = entry
    .toLowerCase()
    .replace(/:\d+$/, '')
    .replace(/^\*?\./, '');
  return host === name || host.endsWith(`.${name}`);
}

/**
 * Appends `--require "<preload>"` to NODE_OPTIONS, dropping a copy inherited from an outer run.
 * NODE_OPTIONS accepts double-quoted values, so paths with spaces survive.
 */
export function withPreload(nodeOptions: string | undefined, preloadPath: string): string {
  const ours = `--require ${JSON.stringify(preloadPath)}`;
  const kept = (nodeOptions ?? '').split(ours).join('').trim();
  return kept === '' ? ours : `${kept} ${ours}`;
}
