// Whether `keygate run` puts the command in a sandbox. One function turns the flags (and, later, a
// configured default) into a mode, so `run`, `config` and `demo` agree on what the words mean.

/**
 * - `auto`: sandbox when the OS offers one, else run without and say so in one line (the default);
 * - `require`: sandbox or refuse to run (`--sandbox`);
 * - `off`: no sandbox, no warning (`--no-sandbox`).
 */
export type SandboxMode = 'auto' | 'require' | 'off';

export const SANDBOX_MODES: readonly SandboxMode[] = ['auto', 'require', 'off'];

/**
 * The mode for one run: an explicit flag wins (`--sandbox` → true, `--no-sandbox` → false), then the
 * configured default, then `auto`.
 */
export function resolveSandboxMode(flag: boolean | undefined, configured?: SandboxMode): SandboxMode {
  if (flag === true) return 'require';
  if (flag === false) return 'off';
  return configured ?? 'auto';
}
