// keygate demo: the whole product offline, against the bundled Discord emulator.
import { runDemo } from '../demo/index.js';
import type { CommandIO } from './io.js';

export async function main(io: CommandIO): Promise<void> {
  await runDemo({ out: io.stdout });
}
