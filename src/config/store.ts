// Writing settings, through `conf`: the file is checked against a JSON Schema built from the
// settings table before every write, and written atomically (temp file + rename), so a crash or a
// concurrent `keygate config set` never leaves half a file. Loaded only by `keygate config`.
import Conf from 'conf';
import { KeygateError } from '../errors.js';
import { CONFIG_FILE } from './index.js';
import { SETTINGS, SETTING_KEYS, type SettingKey } from './settings.js';

type Store = Conf<Record<string, unknown>>;

/** {"login": {"type": "object", "properties": {"port": {...}}}, ...}: the nested shape of the file. */
function schema(): Record<string, Record<string, unknown>> {
  const sections: Record<string, Record<string, unknown>> = {};
  for (const key of SETTING_KEYS) {
    const [section, name] = key.split('.') as [string, string | undefined];
    if (name === undefined) {
      sections[section] = { ...SETTINGS[key].schema, description: SETTINGS[key].description };
      continue;
    }
    sections[section] ??= { type: 'object', additionalProperties: false, properties: {} };
    (sections[section].properties as Record<string, unknown>)[name] = { ...SETTINGS[key].schema, description: SETTINGS[key].description };
  }
  return sections;
}

export function openConfigStore(home: string): Store {
  try {
    return new Conf<Record<string, unknown>>({
      cwd: home,
      configName: CONFIG_FILE.replace(/\.json$/, ''),
      projectName: 'keygate',
      schema: schema(),
      rootSchema: { additionalProperties: false },
      clearInvalidConfig: false,
      configFileMode: 0o600,
    });
  } catch (err) {
    const reason = (err as Error).message.replace(/^Config schema violation: /, '');
    throw new KeygateError(`${home}/${CONFIG_FILE} is not a valid settings file (${reason})`, {
      hint: 'fix or delete the file; `keygate config list` shows the allowed settings',
      cause: err,
    });
  }
}

export function storeSet(store: Store, key: SettingKey, value: unknown): void {
  store.set(key, value);
}

export function storeUnset(store: Store, key: SettingKey): void {
  store.delete(key);
  // Leave no empty section behind: {"login": {}} reads as noise when the file is opened by hand.
  const section = key.split('.')[0];
  const rest = store.get(section);
  if (typeof rest === 'object' && rest !== null && Object.keys(rest).length === 0) store.delete(section);
}
