// What went wrong upstream, in a short sentence for the 502 body and the log. Built from error codes
// only, never from request data, so no header value (credential) can end up in it.

const TLS_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'ERR_SSL_WRONG_VERSION_NUMBER',
]);

export function describeUpstreamError(err: unknown, host: string, port: number): string {
  const e = err as { code?: string; name?: string; message?: string; cause?: unknown };
  const code = e?.code ?? (e?.cause as { code?: string } | undefined)?.code;
  const where = `${host}:${port}`;
  // http1.ts messages are fixed sentences about framing, never request data.
  if (e?.name === 'HttpParseError') return `${where} sent a malformed response (${e.message})`;
  switch (code) {
    case 'ECONNREFUSED':
      return `could not connect to ${where}: connection refused`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `could not resolve ${host}`;
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return `${where} is unreachable`;
    case 'UND_ERR_CONNECT_TIMEOUT':
    case 'ETIMEDOUT':
      return `timed out connecting to ${where}`;
    case 'KEYGATE_HEADERS_TIMEOUT':
      return `${where} sent no response headers in time`;
    case 'KEYGATE_BODY_TIMEOUT':
      return `${where} stopped sending the response body`;
    case 'ECONNRESET':
    case 'EPIPE':
      return `${where} closed the connection`;
  }
  if (code && TLS_CODES.has(code)) return `TLS verification of ${host} failed (${code})`;
  return `request to ${where} failed (${code ?? e?.name ?? 'unknown error'})`;
}
