#!/usr/bin/env node
// Launcher: the compiled CLI lives in dist/ (built by `npm ci` through the prepare script).
const argv = process.argv.slice(2);
// `get <provider> --field status` is polled by scripts: answer it without loading the whole CLI.
if (!(argv[0] === 'get' && (await import('../dist/fast-status.js')).fastStatus(argv))) {
  const { main } = await import('../dist/cli.js');
  await main(argv);
}
