// What serves requests once the proxy is up: interception, blind tunnels, plain HTTP and the
// upstream pool. server.ts loads this apart (on the first request, or just after start), so
// `keygate run` can start its child before these modules are compiled.
export { serveTunnel } from './intercept.js';
export { createPlainForwarder } from './plain.js';
export { openTunnel } from './tunnel.js';
export { UpstreamPool } from './upstream.js';
