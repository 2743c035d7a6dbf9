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
