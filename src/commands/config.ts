// keygate config list | get <key> | set <key> <value> | unset <key> | path   [--json]
import { UsageError } from '../errors.js';
import { keygateHome } from '../home.js';
import { closest } from '../provider/validate.js';
import { SETTINGS, SETTING_KEYS, configPath, envName, isSettingKey, resolveSetting, type SettingKey } from '../config/index.js';
import type { CommandIO } from './io.js';
import { table } from './format.js';

interface JsonOption {
  json?: boolean;
}

export async function list(options: JsonOption, io: CommandIO): Promise<void> {
  const home = keygateHome(io.env);
  const rows = SETTING_KEYS.map((key) => {
    const { value, source } = resolveSetting(key, { env: io.env, home });
    const s = SETTINGS[key];
    return {
      key,
      value: typeof value === 'string' ? redacted(value) : value,
      source,
      default: s.default,
      env: envName(key),
      flag: s.flag ?? null,
      allowed: s.allowed,
      description: s.description,
    };
  });
  if (options.json) {
    io.stdout(`${JSON.stringify({ file: configPath(home), settings: rows }, null, 2)}\n`);
    return;
  }
  io.stdout(
    table(
      ['KEY', 'VALUE', 'SOURCE', 'DESCRIPTION'],
      rows.map((r) => [r.key, redacted(String(r.value)), r.source === 'env' ? `env ${r.env}` : r.source, r.description]),
    ),
  );
}

export async function get(key: string, options: JsonOption, io: CommandIO): Promise<void> {
  const known = knownKey(key);
  const { value, source } = resolveSetting(known, { env: io.env, home: keygateHome(io.env) });
  const shown = typeof value === 'string' ? redacted(value) : value;
  io.stdout(options.json ? `${JSON.stringify({ key: known, value: shown, source }, null, 2)}\n` : `${String(shown)}\n`);
}

export async function set(key: string, text: string, options: JsonOption, io: CommandIO): Promise<void> {
  const known = knownKey(key);
  const s = SETTINGS[known];
  const parsed = s.parse(text);
  const value = parsed !== undefined && (s.accepts as (v: unknown) => boolean)(parsed) ? parsed : undefined;
  if (value === undefined) throw new UsageError(`${known} cannot be ${JSON.stringify(redacted(text))}`, { hint: `expected ${s.allowed}` });
  const home = keygateHome(io.env);
  const { openConfigStore, storeSet } = await import('../config/store.js');
  storeSet(openConfigStore(home), known, value);
  report(known, value, options, io);
}

export async function unset(key: string, options: JsonOption, io: CommandIO): Promise<void> {
  const known = knownKey(key);
  const home = keygateHome(io.env);
  const { openConfigStore, storeUnset } = await import('../config/store.js');
  storeUnset(openConfigStore(home), known);
  report(known, undefined, options, io);
}

export async function path(options: JsonOption, io: CommandIO): Promise<void> {
  const file = configPath(keygateHome(io.env));
  io.stdout(options.json ? `${JSON.stringify({ path: file }, null, 2)}\n` : `${file}\n`);
}

/** Confirms the change, and says when the environment still wins over the file. */
function report(key: SettingKey, stored: unknown, options: JsonOption, io: CommandIO): void {
  const effective = resolveSetting(key, { env: io.env, home: keygateHome(io.env) });
  if (options.json) {
    io.stdout(`${JSON.stringify({ key, stored: stored ?? null, value: effective.value, source: effective.source }, null, 2)}\n`);
  } else {
    io.stdout(
      stored === undefined
        ? `${key} unset (now ${String(effective.value)}, ${effective.source})\n`
        : `${key} = ${JSON.stringify(stored)}\n`,
    );
  }
  if (effective.source === 'env') io.stderr(`keygate: note: ${envName(key)} is set, and wins over the config file\n`);
}

function knownKey(key: string): SettingKey {
  if (isSettingKey(key)) return key;
  // "login.prot" → login.port; a bare "port" → login.port.
  const guess = closest(key, SETTING_KEYS) ?? SETTING_KEYS.find((k) => closest(key, [k.slice(k.indexOf('.') + 1)]));
  throw new UsageError(`unknown setting "${key}"${guess ? ` (did you mean "${guess}"?)` : ''}`, {
    hint: `settings: ${SETTING_KEYS.join(', ')}`,
  });
}

/** The value as typed, with a URL's password (`store`'s postgres://user:…@host) masked: an error line is no place for it. */
function redacted(text: string): string {
  try {
    const url = new URL(text);
    if (url.password === '') return text;
    url.password = '***';
    return url.toString();
  } catch {
    return text;
  }
}
