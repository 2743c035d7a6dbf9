// A record that exists but cannot be opened (tampered, damaged, unreadable file, newer format): how
// `list`, `status` and `doctor` show it. The vault's error already names the cause and, when the
// fix is something other than replacing the record (a file mode, an upgrade), carries that hint.
import { KeygateError } from '../errors.js';
import { fixHint } from './hints.js';

export interface UnreadableConnection {
  provider: string;
  connection: string;
  status: 'unreadable';
  error: string;
  hint: string;
}

export function describeUnreadable(provider: string, connection: string, error: Error): UnreadableConnection {
  const hint = error instanceof KeygateError && error.hint ? error.hint : fixHint(provider, connection, 'unreadable')!;
  return { provider, connection, status: 'unreadable', error: error.message, hint };
}
