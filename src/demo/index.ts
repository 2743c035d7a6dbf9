// `keygate demo`: the whole product offline. It starts the Discord emulator, then drives the real
// CLI as child processes (`keygate login`, `keygate run`) in a temporary KEYGATE_HOME, playing the
// browser's consent step over HTTP, and narrates what happened. Nothing is simulated but the browser.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { request } from 'undici';
import { KeygateError } from '../errors.js';
import { packageRoot } from '../home.js';
import { createDispatcher } from '../net.js';
import { freePort } from '../ports.js';
import { startEmulator } from '../emulator/index.js';
import { DEMO_CLIENT_ID, DEMO_CLIENT_SECRET } from '../emulator/fixtures.js';

const AGENT = `// A tiny "agent": it has only what keygate run gave it.
const placeholder = process.env.DISCORD_ACCESS_TOKEN;
console.log('DISCORD_ACCESS_TOKEN=' + placeholder);
const res = await fetch('https://discord.com/api/v10/users/@me', { headers: { authorization: 'Bearer ' + placeholder } });
const me = await res.json();
console.log('GET https://discord.com/api/v10/users/@me -> ' + res.status + (me.username ? ', username ' + me.username : ' ' + JSON.stringify(me)));
const guilds = await fetch('https://discord.com/api/v10/users/@me/guilds');
console.log('GET https://discord.com/api/v10/users/@me/guilds (no Authorization header) -> ' + guilds.status + ', ' + (await guilds.json()).length + ' guilds');
require('node:fs').writeFileSync(process.argv[2], JSON.stringify(process.env));
`;

const THIEF = `// The same agent, now trying to take the real token for itself (what a prompt injection would ask).
const fs = await import('node:fs');
const { spawnSync } = await import('node:child_process');
const [keygateBin, token] = process.argv.slice(2);
const got = (text) => (text.includes(token) ? 'GOT THE TOKEN' : 'nothing');
const reveal = spawnSync(process.execPath, [keygateBin, 'get', 'discord', '--field', 'access_token', '--reveal'], { encoding: 'utf8' });
console.log('$ keygate get discord --field access_token --reveal -> exit ' + reveal.status + ': ' + got(reveal.stdout));
let files;
try { files = fs.readdirSync(process.env.KEYGATE_HOME); } catch (err) { files = err.code; }
let key;
try { key = fs.readFileSync(process.env.KEYGATE_HOME + '/vault/master.key').length + ' bytes'; } catch (err) { key = err.code; }
console.log('ls $KEYGATE_HOME -> ' + JSON.stringify(files) + '; vault/master.key -> ' + key);
let loot = '';
let keygateSeen = false;
const pids = fs.readdirSync('/proc').filter((n) => /^\\d+$/.test(n));
for (const pid of pids) {
  try {
    const argv = fs.readFileSync('/proc/' + pid + '/cmdline', 'latin1').split('\\0');
    if (argv[1]?.endsWith('keygate.js') && argv[2] === 'run') keygateSeen = true;
    loot += fs.readFileSync('/proc/' + pid + '/environ', 'latin1');
  } catch {}
}
console.log('/proc: ' + pids.length + ' processes visible, keygate ' + (keygateSeen ? 'among them' : 'not among them') + '; DISCORD_CLIENT_SECRET in any environ: ' + (loot.includes('DISCORD_CLIENT_SECRET=') ? 'yes' : 'no'));
`;

export interface DemoIO {
  out: (line: string) => void;
}

export async function runDemo(io: DemoIO): Promise<void> {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'keygate-demo-'));
  const home = path.join(work, 'home');
  const emulator = await startEmulator({ dir: path.join(work, 'emulator') });
  const say = (line = '') => io.out(`${line}\n`);
  try {
    say('keygate demo: the whole flow, offline, against a local Discord emulator\n');
    say(`1. A stand-in for discord.com is listening on ${emulator.origin}.`);
    say(`   keygate reaches it through KEYGATE_CONNECT_TO=${emulator.connectTo}, with TLS verified for discord.com.`);
    say(`   Temporary KEYGATE_HOME: ${home}\n`);

    const port = await freePort();
    emulator.controls.registerRedirectUri(DEMO_CLIENT_ID, `http://127.0.0.1:${port}/auth/callback/oauth`);
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      KEYGATE_HOME: home,
      // The demo never touches your OS keychain: its vault key is a file in the temporary home.
      KEYGATE_KEY_BACKEND: 'keyfile',
      KEYGATE_CONNECT_TO: emulator.connectToAll,
      NODE_EXTRA_CA_CERTS: emulator.caPath,
      DISCORD_CLIENT_ID: DEMO_CLIENT_ID,
      DISCORD_CLIENT_SECRET: DEMO_CLIENT_SECRET,
      NO_COLOR: '1',
    };
    delete env.KEYGATE_RUN;

    say(`2. $ keygate login discord --no-browser --port ${port}`);
    let browserNote = '';
    const browser = createDispatcher({ env: { KEYGATE_CONNECT_TO: emulator.connectTo }, ca: [emulator.caCertPem] });
    const login = await keygate(['login', 'discord', '--no-browser', '--port', String(port)], env, async (stdout) => {
      const match = /(https:\/\/\S+\/oauth2\/authorize\?\S+)/.exec(stdout);
      if (!match) return false;
      // Play the browser: open the authorize URL (the emulator approves as alice) and follow the
      // redirect to keygate's callback server.
      const authorize = await request(match[1], { dispatcher: browser });
      await authorize.body.dump();
      const location = authorize.headers.location;
      if (authorize.statusCode !== 302 || typeof location !== 'string')
        throw new KeygateError(`the emulator answered ${authorize.statusCode} to the authorize URL`);
      browserNote = `(browser) consent approved as alice; redirected to ${location.split('?')[0]}`;
      const callback = await request(location);
      await callback.body.dump();
      return true;
    });
    await browser.close();
    const lines = login.stdout.split('\n');
    indent([...lines.filter((l) => l.startsWith('Redirect URI')), browserNote, ...lines.filter((l) => l.startsWith('Connected'))], say);
    if (login.code !== 0) throw new KeygateError(`keygate login failed: ${login.stderr.trim()}`);
    say('   The tokens are now in the vault, encrypted with AES-256-GCM.\n');

    const agentFile = path.join(work, 'agent.mjs');
    const envDump = path.join(work, 'agent-env.json');
    fs.writeFileSync(agentFile, AGENT.replace("require('node:fs')", "(await import('node:fs'))"));
    say('3. $ keygate run -- node agent.mjs');
    const before = emulator.controls.requestLog().length;
    const run = await keygate(['run', '--', process.execPath, agentFile, envDump], env);
    indent(
      run.stdout
        .trim()
        .split('\n')
        .map((l) => `[agent] ${l}`),
      say,
    );
    if (run.code !== 0) throw new KeygateError(`keygate run failed (exit ${run.code}): ${run.stderr.trim()}`);

    const token = (await keygate(['get', 'discord', '--field', 'access_token', '--reveal'], env)).stdout.trim();
    const childEnv = fs.readFileSync(envDump, 'utf8');
    const seen = emulator.controls
      .requestLog()
      .slice(before)
      .filter((e) => e.path.startsWith('/api/v10/users/@me'));
    say('\n4. What happened:');
    say(
      `   - The agent's environment (${Object.keys(JSON.parse(childEnv) as Record<string, string>).length} variables) held only the placeholder: the real token ${childEnv.includes(token) ? 'WAS FOUND (this is a bug)' : 'is not in it'}.`,
    );
    say(
      `   - discord.com received ${seen.length} request(s) carrying the real token (${seen.map((e) => `${e.method} ${e.path} → ${e.status}`).join(', ')}):`,
    );
    say("     keygate's proxy swapped the placeholder in, and added the credential where the header was missing.");

    const thiefFile = path.join(work, 'thief.mjs');
    fs.writeFileSync(thiefFile, THIEF);
    say('\n5. The agent turns thief: $ keygate run -- node thief.mjs');
    // The token is passed only so the thief can say whether it found it; it never prints it.
    const thief = await keygate(['run', '--', process.execPath, thiefFile, path.join(packageRoot, 'bin', 'keygate.js'), token], env);
    indent(
      thief.stdout
        .trim()
        .split('\n')
        .map((l) => `[thief] ${l}`),
      say,
    );
    indent(thief.stderr.trim().split('\n'), say);
    say(
      thief.stdout.includes('GOT THE TOKEN') || thief.stdout.includes('keygate among them')
        ? '   Without a sandbox on this machine, a process that tries can reach the vault and keygate itself.'
        : '   In the sandbox it finds an empty KEYGATE_HOME, no keygate process and no secret in any environment.',
    );
    const log = await keygate(['log', '--limit', '5'], env);
    say('\n6. $ keygate log (what the proxy did; never a credential):');
    indent(log.stdout.trim().split('\n'), (l) => say(`  ${l}`));
    say('\nTry it for real: create a Discord app, register http://127.0.0.1:7998/auth/callback/oauth,');
    say('then `keygate login discord` and `keygate run -- <your agent>`.');
  } finally {
    await emulator.stop();
    fs.rmSync(work, { recursive: true, force: true });
  }
}

function indent(lines: string[], say: (line: string) => void): void {
  for (const line of lines) if (line.trim() !== '') say(`   ${line}`);
}

interface ChildResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs this package's own CLI. `onStdout` sees the output so far; once it returns true it is not called again. */
function keygate(args: string[], env: NodeJS.ProcessEnv, onStdout?: (stdout: string) => Promise<boolean>): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(packageRoot, 'bin', 'keygate.js'), ...args], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let done = !onStdout;
    let failure: Error | undefined;
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      if (done) return;
      done = true;
      onStdout!(stdout)
        .then((handled) => (done = handled))
        .catch((err: unknown) => {
          failure = err instanceof Error ? err : new Error(String(err));
          child.kill('SIGTERM');
        });
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => (failure ? reject(failure) : resolve({ code, stdout, stderr })));
  });
}
