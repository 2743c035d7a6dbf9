// An orchestrator: make sure Discord is connected (showing the login link itself), then run an
// agent behind keygate's proxy. The agent gets a placeholder, never the token.
//
//   node examples/dist/orchestrator.js [agent script]     (after `npm test` or `tsc -p examples`)
//
// LOGIN_PORT picks the callback port (the redirect URI registered with the app names it).
import { fileURLToPath } from 'node:url';
import { KeygateError, openKeygate } from 'keygate';

const keygate = openKeygate();
try {
  const { status, detail } = await keygate.status('discord');
  if (status !== 'connected') {
    console.log(`discord/default is ${status} (${detail}); logging in`);
    // An expired or revoked connection is replaced; a missing one is created.
    const login = await keygate.login('discord', { force: status !== 'not_connected', port: Number(process.env.LOGIN_PORT ?? 7998) });
    console.log(`Open this link to connect ${login.displayName}: ${login.url}`);
    const connection = await login.connection;
    console.log(`Connected as ${connection.account_name} (${connection.scopes})`);
  }
  const agent = process.argv[2] ?? fileURLToPath(new URL('./agent.mjs', import.meta.url));
  const { child, exit } = await keygate.run(process.execPath, [agent], { connections: ['discord/default'], forwardSignals: true });
  console.log(`agent started (pid ${child.pid})`);
  const code = await exit;
  console.log(`agent exited with ${code}`);
  process.exitCode = code;
} catch (err) {
  // The same one-line message and exit code the CLI would give.
  if (!(err instanceof KeygateError)) throw err;
  console.error(`orchestrator: ${err.message}${err.hint ? ` — ${err.hint}` : ''}`);
  process.exitCode = err.exitCode;
} finally {
  await keygate.close();
}
