// Commands are clients of the library (src/api/): one open keygate per command, over the CLI's
// environment, closed when the command ends.
import { type Keygate, openKeygate } from '../api/keygate.js';
import type { CommandIO } from './io.js';

export async function withKeygate<T>(io: CommandIO, use: (keygate: Keygate) => Promise<T>): Promise<T> {
  const keygate = openKeygate({ env: io.env, stderr: io.stderr });
  try {
    return await use(keygate);
  } finally {
    await keygate.close();
  }
}
