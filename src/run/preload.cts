// Preloaded into Node children of `keygate run` (NODE_OPTIONS=--require): Node 20's global fetch
// ignores HTTPS_PROXY, so this makes it use an undici EnvHttpProxyAgent (which honours HTTPS_PROXY
// and NO_PROXY). Both Node's bundled undici and the npm package read the global dispatcher from
// this symbol. Loading undici costs ~100 ms, so the agent is built on first use: a child that never
// fetches pays nothing. Compiled to preload.cjs next to the run code.
const GLOBAL_DISPATCHER = Symbol.for('undici.globalDispatcher.1');

function install(value: unknown): void {
  Object.defineProperty(globalThis, GLOBAL_DISPATCHER, { value, writable: true, enumerable: false, configurable: true });
}

type AgentClass = typeof import('undici').EnvHttpProxyAgent;

function envHttpProxyAgentClass(): AgentClass {
  const main = require.resolve('undici');
  const loading = require.cache[main] && !require.cache[main]!.loaded;
  if (!loading) return (require(main) as typeof import('undici')).EnvHttpProxyAgent;
  // We are inside undici's own first load: the child imported this very copy, whose global.js reads
  // the dispatcher while its exports are half built. Take the class from its module instead; its
  // prototype gets the API methods when undici's index finishes loading, before anyone dispatches.
  const dir = require('node:path').dirname(main) as string;
  return require(`${dir}/lib/dispatcher/env-http-proxy-agent.js`) as AgentClass;
}

Object.defineProperty(globalThis, GLOBAL_DISPATCHER, {
  configurable: true,
  enumerable: false,
  get() {
    // Loading undici reads this symbol and, finding nothing, would install its own agent for good
    // (non-configurable). A placeholder object while loading keeps the slot ours.
    install(Object.freeze({ keygateLoading: true }));
    try {
      const agent = new (envHttpProxyAgentClass())();
      install(agent);
      return agent;
    } catch (err) {
      install(undefined);
      process.stderr.write(`keygate: fetch in this process will not use the keygate proxy (${(err as Error).message})\n`);
      return undefined;
    }
  },
  set(value: unknown) {
    install(value);
  },
});
