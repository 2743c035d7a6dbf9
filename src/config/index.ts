// Reading settings: flag > environment > config file > default. This is the read path every command
// uses, so it parses the small JSON file itself and checks values against the settings table; the
// `conf` package (schema, atomic writes) is loaded only by `keygate config`, which writes it.
import fs from 'node:fs';
import path from 'node:path';
import { KeygateError, UsageError } from '../errors.js';
import { keygateHome } from '../home.js';
import { SETTINGS, envName, type Setting, type SettingKey, type SettingValue } from './settings.js';

export { SETTINGS, SETTING_KEYS, envName, isSettingKey, type SettingKey, type SettingValue } from './settings.js';

export const CONFIG_FILE = 'config.json';

export type SettingSource = 'flag' | 'env' | 'config' | 'default';

export interface ResolvedSetting<T> {
  value: T;
  source: SettingSource;
}

export interface SettingOptions<T> {
  /** The command-line value, when the user gave the flag. */
  flag?: T;
  env?: NodeJS.ProcessEnv;
  home?: string;
}

export function configPath(home: string = keygateHome()): string {
  return path.join(home, CONFIG_FILE);
}

/** The effective value of one setting, and where it came from. */
export function resolveSetting<K extends SettingKey>(
  key: K,
  options: SettingOptions<SettingValue<K>> = {},
): ResolvedSetting<SettingValue<K>> {
  type T = SettingValue<K>;
  const setting = SETTINGS[key] as unknown as Setting<T>;
  if (options.flag !== undefined) return { value: options.flag, source: 'flag' };
  const env = options.env ?? process.env;
  const name = envName(key);
  const fromEnv = env[name];
  if (fromEnv !== undefined && fromEnv.trim() !== '') {
    const value = setting.parse(fromEnv);
    if (value === undefined) {
      throw new UsageError(`${name}=${JSON.stringify(fromEnv)} is not allowed for ${key}`, { hint: `expected ${setting.allowed}` });
    }
    return { value, source: 'env' };
  }
  const home = options.home ?? keygateHome(env);
  const stored = storedValue(readConfigFile(home), key);
  if (stored !== undefined) {
    if (!setting.accepts(stored)) {
      throw new KeygateError(`${configPath(home)}: ${key} is ${JSON.stringify(stored)}, which is not allowed`, {
        hint: `expected ${setting.allowed}; fix or delete that line of the file`,
      });
    }
    return { value: stored, source: 'config' };
  }
  return { value: setting.default, source: 'default' };
}

/** The effective value only. */
export function setting<K extends SettingKey>(key: K, options: SettingOptions<SettingValue<K>> = {}): SettingValue<K> {
  return resolveSetting(key, options).value;
}

/** The config file as stored (nested objects: {"login": {"port": 8000}}); {} when there is none. */
export function readConfigFile(home: string): Record<string, unknown> {
  const file = configPath(home);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    // ENOTDIR: KEYGATE_HOME is not a directory; the command's own check of the home says so better.
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return {};
    throw new KeygateError(`${file}: cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`, {
      hint: 'check its permissions',
      cause: err,
    });
  }
  try {
    const data = JSON.parse(text) as unknown;
    if (typeof data === 'object' && data !== null && !Array.isArray(data)) return data as Record<string, unknown>;
  } catch (err) {
    throw new KeygateError(`${file}: not valid JSON (${(err as Error).message})`, { hint: 'fix or delete the file', cause: err });
  }
  throw new KeygateError(`${file}: expected a JSON object`, { hint: 'fix or delete the file' });
}

/** The value stored for `a.b` at data.a.b, if any. */
export function storedValue(data: Record<string, unknown>, key: string): unknown {
  let node: unknown = data;
  for (const part of key.split('.')) {
    if (typeof node !== 'object' || node === null || !Object.hasOwn(node, part)) return undefined;
    node = (node as Record<string, unknown>)[part];
  }
  return node;
}
