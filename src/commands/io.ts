// What a command may touch of the outside world, passed in so commands are callable (and testable)
// without argv or the real process streams.
export interface CommandIO {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  env: NodeJS.ProcessEnv;
  /** True when stdout is a terminal (colour, spinners, tables). */
  isTTY: boolean;
  /** True when stdin is a terminal (prompts allowed). */
  stdinIsTTY: boolean;
  /** Raw bytes to stdout (an image piped on). Default: stdout can only take text. */
  stdoutBytes?: (data: Uint8Array) => Promise<void>;
  /** All of stdin as text (`--input -`). */
  readStdin?: () => Promise<string>;
}

export function processIO(): CommandIO {
  return {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    env: process.env,
    isTTY: Boolean(process.stdout.isTTY),
    stdinIsTTY: Boolean(process.stdin.isTTY),
    // Waits for the write to be flushed, so a large image is whole before the process exits.
    stdoutBytes: (data) => new Promise((resolve, reject) => process.stdout.write(data, (err) => (err ? reject(err) : resolve()))),
    readStdin: async () => {
      const chunks: Buffer[] = [];
      for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks).toString('utf8');
    },
  };
}
