// Every common HTTP client as a real process under `keygate run`, with nothing but the environment
// keygate gives it (no proxy or CA option in the client code): once with the placeholder in
// Authorization, once without Authorization. The Discord emulator plays discord.com. The README's
// client table is rendered from CLIENTS below; KEYGATE_UPDATE_README=1 rewrites it, otherwise the
// test checks README.md holds exactly that table.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Emulator, startEmulator } from '../../src/emulator/index.js';
import { cliEnv, repoRoot, runCli, tempHome } from '../helpers/cli.js';
import { seedConnection } from '../helpers/seed.js';

const fixtures = path.resolve(import.meta.dirname, '..', 'fixtures', 'clients');
// The Debian packages (python3-requests, -httpx, -aiohttp) belong to the system Python.
const python = fs.existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
const API = 'https://discord.com/api/v10/users/@me';

interface Client {
  client: string;
  /** What the child runs (argv after `--`). */
  command: string[];
  /** The expected stdout: both requests answered by the emulator as the connected user. */
  stdout: string | RegExp;
  /** README: does it work as is. */
  works: 'yes' | 'no';
  note: string;
}

const node = (kind: string): string[] => [process.execPath, path.join(fixtures, 'node.mjs'), kind];
const py = (kind: string): string[] => [python, path.join(fixtures, 'python.py'), kind];
const OK = '200 alice\n200 alice\n';

export const CLIENTS: Client[] = [
  {
    client: 'curl',
    command: [
      'sh',
      '-c',
      `curl -sS -H "Authorization: Bearer $DISCORD_ACCESS_TOKEN" -w ' %{http_code}\\n' ${API}; curl -sS -w ' %{http_code}\\n' ${API}`,
    ],
    stdout: /^\{.*"username":"alice".*\} 200\n\{.*"username":"alice".*\} 200\n$/,
    works: 'yes',
    note: '`HTTPS_PROXY`, `CURL_CA_BUNDLE`',
  },
  {
    client: 'wget',
    command: ['sh', '-c', `wget -q -O - --header "Authorization: Bearer $DISCORD_ACCESS_TOKEN" ${API}; echo; wget -q -O - ${API}; echo`],
    stdout: /^\{.*"username":"alice".*\}\n\{.*"username":"alice".*\}\n$/,
    works: 'yes',
    note: '`https_proxy`, and `WGETRC` naming the CA bundle (your `~/.wgetrc` is carried over)',
  },
  { client: 'Python requests', command: py('requests'), stdout: OK, works: 'yes', note: '`HTTPS_PROXY`, `REQUESTS_CA_BUNDLE`' },
  { client: 'Python httpx', command: py('httpx'), stdout: OK, works: 'yes', note: '`HTTPS_PROXY`, `SSL_CERT_FILE`' },
  { client: 'Python aiohttp, `trust_env=True`', command: py('aiohttp'), stdout: OK, works: 'yes', note: '`HTTPS_PROXY`, `SSL_CERT_FILE`' },
  {
    client: 'Python aiohttp, default session',
    command: py('aiohttp-no-trust-env'),
    stdout: '',
    works: 'no',
    note: 'ignores every proxy variable unless told: create the session with `aiohttp.ClientSession(trust_env=True)`, or pass `proxy=os.environ["HTTPS_PROXY"]` per request',
  },
  { client: 'Python urllib', command: py('urllib'), stdout: OK, works: 'yes', note: '`https_proxy`, `SSL_CERT_FILE`' },
  {
    client: 'Node `fetch`',
    command: node('fetch'),
    stdout: OK,
    works: 'yes',
    note: 'the preload (`NODE_OPTIONS`) gives it a proxy dispatcher',
  },
  { client: 'undici', command: node('undici'), stdout: OK, works: 'yes', note: 'the preload sets undici’s global dispatcher' },
  { client: 'axios', command: node('axios'), stdout: OK, works: 'yes', note: 'reads `HTTPS_PROXY` itself; the preload adds keygate’s CA' },
  {
    client: 'Node `https.get` / `https.request`',
    command: node('https.get'),
    stdout: OK,
    works: 'yes',
    note: 'the preload tunnels every `https.Agent` through the proxy',
  },
  { client: 'got', command: node('got'), stdout: OK, works: 'yes', note: 'through `https.globalAgent` (the preload)' },
  { client: 'node-fetch', command: node('node-fetch'), stdout: OK, works: 'yes', note: 'through `https.globalAgent` (the preload)' },
  {
    client: 'ws',
    command: node('ws'),
    stdout: '501 keygate_upgrade_refused\n501 keygate_upgrade_refused\n',
    works: 'yes',
    note: 'its own `createConnection` is tunnelled by the preload; a WebSocket to an API host is refused with 501 unless a relay serves it (never sent on as plain HTTP)',
  },
];

export function clientTable(clients: readonly Client[]): string {
  const rows = clients.map((c) => `| ${c.client} | ${c.works} | ${c.note} |`);
  return ['| client | works under `keygate run` | how / workaround |', '| --- | --- | --- |', ...rows].join('\n');
}

let emulator: Emulator;
let home: string;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  home = tempHome();
  emulator = await startEmulator({ dir: path.join(home, 'emulator') });
  env = cliEnv(home, { KEYGATE_CONNECT_TO: emulator.connectTo, NODE_EXTRA_CA_CERTS: emulator.caPath });
  await seedConnection(emulator, home);
}, 30_000);

afterAll(async () => {
  await emulator?.stop();
  if (home) fs.rmSync(home, { recursive: true, force: true });
});

describe.concurrent('clients under keygate run', () => {
  for (const c of CLIENTS) {
    const claim =
      c.works === 'no'
        ? 'goes around the proxy, as the README says'
        : c.stdout === OK || c.stdout instanceof RegExp
          ? 'placeholder swapped, and the credential added without Authorization'
          : 'goes through the proxy, which refuses the upgrade';
    it(`${c.client}: ${claim}`, async () => {
      const res = await runCli(['run', '--', ...c.command], { env, timeoutMs: 25_000 });
      if (c.works === 'yes') {
        expect(res.stderr).not.toMatch(/Traceback|Error/);
        expect(res.stdout).toMatch(c.stdout);
        expect(res.code).toBe(0);
      } else {
        // Straight to DNS (or, on a machine with DNS, to the real host with only the placeholder).
        expect(res.stdout).toBe(c.stdout);
        expect(res.stderr).toMatch(/Cannot connect to host discord\.com|ClientConnectorError|KeyError/);
        expect(res.code).not.toBe(0);
      }
    });
  }
});

describe('README', () => {
  it('holds the client table rendered from these tests', () => {
    const file = path.join(repoRoot, 'README.md');
    const readme = fs.readFileSync(file, 'utf8');
    const start =
      '<!-- clients:start (generated by test/run/clients.test.ts; KEYGATE_UPDATE_README=1 npx vitest run test/run/clients.test.ts) -->\n';
    const end = '\n<!-- clients:end -->';
    const from = readme.indexOf(start);
    const to = readme.indexOf(end);
    expect(from, 'README.md has the clients markers').not.toBe(-1);
    const table = clientTable(CLIENTS);
    if (process.env.KEYGATE_UPDATE_README === '1') fs.writeFileSync(file, readme.slice(0, from + start.length) + table + readme.slice(to));
    else expect(readme.slice(from + start.length, to)).toBe(table);
  });
});
