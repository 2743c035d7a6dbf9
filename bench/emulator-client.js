// What the benchmarks share for talking to helper processes: the first line a process prints (the
// emulator's and the floor relay's address), and the emulator's admin API over its own TLS.
import fs from 'node:fs';
import https from 'node:https';

/** The first line `stream` prints; rejects if the process ends first. */
export function firstLine(stream) {
  return new Promise((resolve, reject) => {
    let text = '';
    stream.on('data', (chunk) => {
      text += chunk;
      const end = text.indexOf('\n');
      if (end !== -1) resolve(text.slice(0, end));
    });
    stream.once('end', () => reject(new Error('the process ended before printing its line')));
  });
}

/** `(method, route, body) => Promise<json>` against the emulator's admin API (`/__emulator/...`). */
export function adminClient(emulator) {
  const ca = fs.readFileSync(emulator.caPath);
  return (method, route, body) =>
    new Promise((resolve, reject) => {
      const req = https.request({ host: '127.0.0.1', port: emulator.port, servername: 'localhost', ca, method, path: route }, (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (c) => (text += c));
        res.on('end', () =>
          res.statusCode === 200 ? resolve(JSON.parse(text)) : reject(new Error(`${route}: ${res.statusCode} ${text}`)),
        );
      });
      req.on('error', reject);
      req.end(body === undefined ? undefined : JSON.stringify(body));
    });
}

/**
 * A new authorization at the emulator (through its admin API), stored in `vault` as discord/default
 * with the given times (ms since epoch): a connection without the login round trip. Returns the tokens.
 */
export async function seedConnection(admin, vault, { createdAt = Date.now(), expiresAt = Date.now() + 86_400_000 } = {}) {
  const tokens = await admin('POST', '/__emulator/tokens', {});
  await vault.write({
    provider: 'discord',
    connection: 'default',
    tokens: {
      access_token: tokens.access_token,
      refresh_token: tokens.refresh_token,
      token_type: 'Bearer',
      expires_at: new Date(expiresAt).toISOString(),
      scopes: tokens.scope.split(' '),
    },
    account: { id: '80351110224678912', name: 'alice' },
    status: 'connected',
    created_at: new Date(createdAt).toISOString(),
  });
  return tokens;
}
