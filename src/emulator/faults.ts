// Answers for injected faults, shaped like Discord's.
import { httpError, json, type Exchange } from './http.js';
import type { Fault } from './state.js';

/** Discord sends the same bucket id for every request of a route; the value is opaque. */
const BUCKET = 'f0b1e4a3c2d6e8a97b5c3d1e0f2a4b6c';

export function answerFault(ex: Exchange, fault: Fault): void {
  if (fault.kind === 'fail') {
    ex.state.counters.injectedFailures++;
    httpError(ex, fault.status);
    return;
  }
  // https://discord.com/developers/docs/topics/rate-limits#exceeding-a-rate-limit: retry_after is
  // seconds as a float in the body; the Retry-After header is whole seconds.
  ex.state.counters.rateLimited++;
  const seconds = fault.retryAfter;
  json(
    ex,
    429,
    { message: 'You are being rate limited.', retry_after: seconds, global: false },
    {
      'retry-after': String(Math.ceil(seconds)),
      'x-ratelimit-limit': '5',
      'x-ratelimit-remaining': '0',
      'x-ratelimit-reset': (ex.state.now() / 1000 + seconds).toFixed(3),
      'x-ratelimit-reset-after': seconds.toFixed(3),
      'x-ratelimit-bucket': BUCKET,
      'x-ratelimit-scope': 'user',
    },
  );
}
