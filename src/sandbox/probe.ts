// Can this machine make a bubblewrap sandbox? Answered from files alone (no process is started), so
// asking costs nothing on the path of every `keygate run`. When bwrap still fails, it says why on
// stderr and the run ends with its exit code; nothing is run unsandboxed behind the user's back.
import fs from 'node:fs';
import path from 'node:path';

export type Probe = { ok: true; bwrap: string } | { ok: false; reason: string; fix: string };

export function probeSandbox(env: NodeJS.ProcessEnv, platform: NodeJS.Platform = process.platform): Probe {
  if (platform === 'darwin') {
    return { ok: false, reason: 'macOS has no sandbox keygate can use yet', fix: 'see docs/sandbox.md for how sandbox-exec would do it' };
  }
  if (platform !== 'linux')
    return { ok: false, reason: `there is no sandbox for ${platform}`, fix: 'run on Linux with bubblewrap for isolation' };
  const bwrap = findExecutable('bwrap', env.PATH);
  if (!bwrap)
    return {
      ok: false,
      reason: 'bubblewrap (bwrap) is not installed',
      fix: 'install it, e.g. `apt-get install bubblewrap` or `dnf install bubblewrap`',
    };
  if (process.getuid?.() !== 0 && !isSetuid(bwrap)) {
    const blocked = userNamespacesBlocked();
    if (blocked) return { ok: false, reason: blocked, fix: 'allow unprivileged user namespaces (see docs/sandbox.md)' };
  }
  return { ok: true, bwrap };
}

/** Why unprivileged user namespaces are off, or undefined when they look available. */
function userNamespacesBlocked(): string | undefined {
  if (readNumber('/proc/sys/user/max_user_namespaces') === 0) return 'user namespaces are disabled (user.max_user_namespaces = 0)';
  // Debian's and Ubuntu's own switch, and Ubuntu 24.04's AppArmor restriction.
  if (readNumber('/proc/sys/kernel/unprivileged_userns_clone') === 0)
    return 'unprivileged user namespaces are disabled (kernel.unprivileged_userns_clone = 0)';
  if (
    readNumber('/proc/sys/kernel/apparmor_restrict_unprivileged_userns') === 1 &&
    !fs.existsSync('/etc/apparmor.d/bwrap-userns-restrict')
  ) {
    return 'AppArmor restricts unprivileged user namespaces (kernel.apparmor_restrict_unprivileged_userns = 1)';
  }
  return undefined;
}

function readNumber(file: string): number | undefined {
  try {
    return Number(fs.readFileSync(file, 'utf8').trim());
  } catch {
    return undefined;
  }
}

function isSetuid(file: string): boolean {
  try {
    return (fs.statSync(file).mode & 0o4000) !== 0;
  } catch {
    return false;
  }
}

/** The first executable `name` on PATH (or `name` itself when it holds a slash), resolved to an absolute path. */
export function findExecutable(name: string, pathVariable: string | undefined, cwd = process.cwd()): string | undefined {
  if (name.includes('/')) {
    const file = path.resolve(cwd, name);
    return isExecutableFile(file) ? file : undefined;
  }
  for (const dir of (pathVariable ?? '').split(':')) {
    const file = path.resolve(cwd, dir === '' ? '.' : dir, name);
    if (isExecutableFile(file)) return file;
  }
  return undefined;
}

function isExecutableFile(file: string): boolean {
  try {
    if (!fs.statSync(file).isFile()) return false;
    fs.accessSync(file, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
