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
}

export function processIO(): CommandIO {
  return {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    env: process.env,
    isTTY: Boolean(process.stdout.isTTY),
    stdinIsTTY: Boolean(process.stdin.isTTY),
  };
}
