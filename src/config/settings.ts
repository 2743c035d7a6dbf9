// The user settings: one table, so `keygate config`, the environment, the file's schema and the
// commands that read a setting agree on names, types, defaults and allowed values. Secrets never go
// here (client secrets and tokens live in the vault; a passphrase only in the environment).

export interface Setting<T> {
  /** The key users type: `keygate config set login.port 8000`. Stored nested: {"login":{"port":8000}}. */
  key: string;
  description: string;
  /** What is allowed, for error messages: `an integer 1-65535`. */
  allowed: string;
  default: T;
  /** The default as shown in `config list` when it is computed rather than a value. */
  defaultText?: string;
  /** The command-line flag that overrides it, for `config list` and the docs. */
  flag?: string;
  /** Parses a value typed by a user (`config set`, environment); undefined when not allowed. */
  parse(text: string): T | undefined;
  /** Whether a JSON value read from the file is allowed. */
  accepts(value: unknown): value is T;
  /** JSON Schema of the stored value (conf validates the file with it). */
  schema: Record<string, unknown>;
}

const SANDBOX_MODES = ['auto', 'require', 'off'] as const;
export type SandboxSetting = (typeof SANDBOX_MODES)[number];

function integer(min: number, max: number): Pick<Setting<number>, 'parse' | 'accepts' | 'schema' | 'allowed'> {
  const accepts = (v: unknown): v is number => Number.isInteger(v) && (v as number) >= min && (v as number) <= max;
  return {
    allowed: `an integer from ${min} to ${max}`,
    parse: (text) => (/^\d+$/.test(text.trim()) && accepts(Number(text)) ? Number(text) : undefined),
    accepts,
    schema: { type: 'integer', minimum: min, maximum: max },
  };
}

const BOOLEAN_WORDS: Record<string, boolean> = {
  true: true,
  false: false,
  yes: true,
  no: false,
  on: true,
  off: false,
  '1': true,
  '0': false,
};
const boolean: Pick<Setting<boolean>, 'parse' | 'accepts' | 'schema' | 'allowed'> = {
  allowed: 'true or false',
  parse: (text) => BOOLEAN_WORDS[text.trim().toLowerCase()],
  accepts: (v): v is boolean => typeof v === 'boolean',
  schema: { type: 'boolean' },
};

/** `files`, or a postgres URL; with a password only where one may be (the environment, not the file). */
function isStoreValue(value: string, passwordAllowed: boolean): boolean {
  if (value === 'files') return true;
  if (!/^postgres(ql)?:\/\//i.test(value)) return false;
  try {
    return passwordAllowed || new URL(value).password === '';
  } catch {
    return false;
  }
}

function define<T>(setting: Setting<T>): Setting<T> {
  return setting;
}

export const SETTINGS = {
  'login.port': define<number>({
    key: 'login.port',
    description: 'port of the login callback server on 127.0.0.1 (the redirect URI registered with the provider)',
    default: 7998,
    flag: '--port',
    ...integer(1, 65535),
  }),
  'login.open_browser': define<boolean>({
    key: 'login.open_browser',
    description: 'whether login opens a browser (otherwise it only prints the URL)',
    default: true,
    flag: '--browser / --no-browser',
    ...boolean,
  }),
  'login.timeout': define<number>({
    key: 'login.timeout',
    description: 'seconds login waits for the browser',
    default: 300,
    flag: '--timeout',
    ...integer(1, 86400),
  }),
  'run.sandbox': define<SandboxSetting>({
    key: 'run.sandbox',
    description: 'sandbox for `keygate run`: auto (when the OS offers one), require (refuse to run without), off',
    default: 'auto',
    flag: '--sandbox / --no-sandbox',
    allowed: `one of ${SANDBOX_MODES.join(', ')}`,
    parse: (text: string) => SANDBOX_MODES.find((m) => m === text.trim().toLowerCase()),
    accepts: (v: unknown): v is SandboxSetting => SANDBOX_MODES.includes(v as SandboxSetting),
    schema: { enum: [...SANDBOX_MODES] },
  }),
  'refresh.margin': define<number | 'auto'>({
    key: 'refresh.margin',
    description:
      'refresh an access token this many seconds before it expires (at most half its lifetime); auto: a tenth of the lifetime, at most 300',
    default: 'auto',
    allowed: 'auto, or an integer from 0 to 86400 (seconds)',
    parse: (text: string) => {
      const t = text.trim().toLowerCase();
      if (t === 'auto') return 'auto';
      return /^\d+$/.test(t) && Number(t) <= 86400 ? Number(t) : undefined;
    },
    accepts: (v: unknown): v is number | 'auto' => v === 'auto' || (Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 86400),
    schema: { anyOf: [{ const: 'auto' }, { type: 'integer', minimum: 0, maximum: 86400 }] },
  }),
  store: define<string>({
    key: 'store',
    description:
      'where the vault lives: files (under KEYGATE_HOME) or a postgres:// URL shared by several hosts; the password goes in PGPASSWORD or ~/.pgpass, never here',
    default: 'files',
    allowed: 'files, or a postgres:// URL without a password',
    // KEYGATE_STORE may carry a password (the environment is the place for one); the file may not.
    parse: (text: string) => (isStoreValue(text.trim(), true) ? text.trim() : undefined),
    accepts: (v: unknown): v is string => typeof v === 'string' && isStoreValue(v, false),
    schema: { type: 'string' },
  }),
  'log.retention_days': define<number>({
    key: 'log.retention_days',
    description: 'days the request log (`keygate log`) keeps entries; 0 keeps no log',
    default: 30,
    ...integer(0, 3650),
  }),
};

export type SettingKey = keyof typeof SETTINGS;
export type SettingValue<K extends SettingKey> = (typeof SETTINGS)[K] extends Setting<infer T> ? T : never;
export const SETTING_KEYS = Object.keys(SETTINGS) as SettingKey[];

export function isSettingKey(key: string): key is SettingKey {
  return Object.hasOwn(SETTINGS, key);
}

/** `login.open_browser` → `KEYGATE_LOGIN_OPEN_BROWSER`. */
export function envName(key: SettingKey): string {
  return `KEYGATE_${key.toUpperCase().replace(/\./g, '_')}`;
}
