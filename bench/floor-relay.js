// The floor for keygate's hot path: the smallest TLS-terminating relay that does keygate's job
// (CONNECT, TLS with its own certificate for discord.com, one header set, a kept-alive verified
// upstream), on Node's own HTTP machinery and nothing else: no auth, no checks, no log, no
// framing rules of its own. keygate's added latency per request is judged against this one's,
// measured in the same run. Prints {"url", "caPath"} on stdout once listening.
// argv: <dir> <emulator port> <emulator CA path> <token file>
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';
import tls from 'node:tls';

const [dir, emulatorPort, emulatorCaPath, tokenFile] = process.argv.slice(2);
const { createCertificateAuthority, loadCertificateAuthority } = await import('../dist/pki/certs.js');
const ca = await createCertificateAuthority({ commonName: 'keygate bench floor relay CA' });
const leaf = await (await loadCertificateAuthority(ca)).issue(['discord.com']);
const caPath = path.join(dir, 'floor-ca.pem');
fs.writeFileSync(caPath, ca.certPem);

const authorization = `Bearer ${fs.readFileSync(tokenFile, 'utf8').trim()}`;
const upstream = new https.Agent({ keepAlive: true, maxSockets: 64, ca: fs.readFileSync(emulatorCaPath), servername: 'discord.com' });
const context = tls.createSecureContext({ cert: leaf.certPem, key: leaf.keyPem });

// Requests inside the tunnels: the header set, then straight to the emulator (standing in for discord.com).
const inner = http.createServer({ keepAliveTimeout: 30_000 }, (req, res) => {
  const headers = { ...req.headers, authorization };
  const out = https.request(
    { host: '127.0.0.1', port: Number(emulatorPort), method: req.method, path: req.url, headers, agent: upstream },
    (answer) => {
      res.writeHead(answer.statusCode, answer.headers);
      answer.pipe(res);
    },
  );
  out.on('error', () => res.destroy());
  req.pipe(out);
});

const front = http.createServer();
front.on('connect', (req, socket, head) => {
  socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
  if (head.length > 0) socket.unshift(head);
  socket.setNoDelay(true);
  const secure = new tls.TLSSocket(socket, { isServer: true, secureContext: context, ALPNProtocols: ['http/1.1'] });
  secure.on('error', () => secure.destroy());
  inner.emit('connection', secure);
});
front.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${front.address().port}`, caPath, pid: process.pid })}\n`);
});
