// Where keygate keeps its files: KEYGATE_HOME, or the platform config dir.
import os from 'node:os';
import path from 'node:path';

export function keygateHome(env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env.KEYGATE_HOME;
  if (fromEnv && fromEnv.trim() !== '') return path.resolve(fromEnv);
  if (process.platform === 'darwin') {
    return path.join(os.homedir(), 'Library', 'Preferences', 'keygate');
  }
  if (process.platform === 'win32') {
    return path.join(env.APPDATA ?? path.join(os.homedir(), 'AppData', 'Roaming'), 'keygate', 'Config');
  }
  const xdg = env.XDG_CONFIG_HOME && env.XDG_CONFIG_HOME.trim() !== '' ? env.XDG_CONFIG_HOME : path.join(os.homedir(), '.config');
  return path.join(xdg, 'keygate');
}

/** The package root (holds providers/, bin/), found from this compiled file's location. */
export const packageRoot = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
