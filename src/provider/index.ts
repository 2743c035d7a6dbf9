// Provider definitions are data: bundled files in the package's providers/, then the user's
// $KEYGATE_HOME/providers/*.json. A user file named like a bundled one is merged deeply over it;
// any other name adds a provider. Every file is validated against providers/schema.json on load,
// and a broken file takes out only its own provider.
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ProviderError } from '../errors.js';
import { checkHome, keygateHome, packageRoot } from '../home.js';
import type { ProviderDefinition } from './types.js';
import { checkReferences } from './references.js';
import { validate, type SchemaNode, type ValidationProblem } from './validate.js';

export type { ProviderDefinition } from './types.js';

export const PROVIDER_NAME = /^[a-z0-9][a-z0-9_-]{0,63}$/;
const SCHEMA_NAME = 'schema';

export interface ProviderOptions {
  home?: string;
  /** Directory of bundled provider files (tests point it elsewhere). */
  bundledDir?: string;
}

const bundledDirDefault = path.join(packageRoot, 'providers');

function dirs(options: ProviderOptions): { bundled: string; user: string } {
  const home = options.home ?? keygateHome();
  checkHome(home); // user provider files decide where tokens go: same rule as the vault
  return {
    bundled: options.bundledDir ?? bundledDirDefault,
    user: path.join(home, 'providers'),
  };
}

let schemaCache: SchemaNode | undefined;
function schema(): SchemaNode {
  schemaCache ??= JSON.parse(fs.readFileSync(path.join(bundledDirDefault, 'schema.json'), 'utf8')) as SchemaNode;
  return schemaCache;
}

/** Names of all providers (bundled and custom), sorted. Reads directory listings only. */
export function providerNames(options: ProviderOptions = {}): string[] {
  const { bundled, user } = dirs(options);
  const names = new Set([...jsonNames(bundled), ...jsonNames(user)]);
  return [...names].sort();
}

/** The effective definition of one provider; reads only that provider's files. */
export async function getProvider(name: string, options: ProviderOptions = {}): Promise<ProviderDefinition> {
  if (!PROVIDER_NAME.test(name)) {
    throw new ProviderError(`"${name}" is not a valid provider name`, { hint: knownHint(options) });
  }
  const { bundled, user } = dirs(options);
  const bundledFile = path.join(bundled, `${name}.json`);
  const userFile = path.join(user, `${name}.json`);
  // providers/schema.json sits beside the bundled providers but is not one.
  const base = name === SCHEMA_NAME ? undefined : readJsonFile(bundledFile);
  const override = readJsonFile(userFile);
  if (base === undefined && override === undefined) {
    throw new ProviderError(`unknown provider "${name}"`, { hint: knownHint(options) });
  }
  if (base !== undefined && override !== undefined) return overridden(name, bundledFile, base, userFile, override);
  const file = base !== undefined ? bundledFile : userFile;
  const data = base ?? override;
  check(file, problemsOf(data));
  return finish(name, data, base !== undefined ? 'bundled' : 'custom', [file]);
}

/** The bundled definition alone (no user file), or undefined for a provider keygate does not ship. */
export function getBundledProvider(name: string, options: ProviderOptions = {}): ProviderDefinition | undefined {
  if (!PROVIDER_NAME.test(name) || name === SCHEMA_NAME) return undefined;
  const file = path.join(dirs(options).bundled, `${name}.json`);
  const data = readJsonFile(file);
  if (data === undefined) return undefined;
  check(file, problemsOf(data));
  return finish(name, data, 'bundled', [file]);
}

export interface ProviderCatalog {
  /** Providers whose files are valid, by name. */
  providers: Map<string, ProviderDefinition>;
  /** Providers whose files are not, with the error a command about them gets. */
  broken: Map<string, ProviderError>;
}

/** Every provider, by name. A broken file takes out only its own provider (see `broken`). */
export async function loadProviderCatalog(options: ProviderOptions = {}): Promise<ProviderCatalog> {
  const catalog: ProviderCatalog = { providers: new Map(), broken: new Map() };
  for (const name of providerNames(options)) {
    try {
      catalog.providers.set(name, await getProvider(name, options));
    } catch (err) {
      if (!(err instanceof ProviderError)) throw err;
      catalog.broken.set(name, err);
    }
  }
  return catalog;
}

/** Every provider whose files are valid, by name; broken ones are left out (loadProviderCatalog says which). */
export async function loadProviders(options: ProviderOptions = {}): Promise<Map<string, ProviderDefinition>> {
  return (await loadProviderCatalog(options)).providers;
}

/** Validate one provider file on its own (for `keygate providers validate <file>`); throws with every problem. */
export function validateProviderFile(file: string, options: ProviderOptions = {}): ProviderDefinition {
  const data = readJsonFile(file);
  if (data === undefined) throw new ProviderError(`${file}: no such file`, { hint: 'check the path' });
  const name = path.basename(file, '.json');
  const bundledFile = path.join(dirs(options).bundled, `${name}.json`);
  const base = path.resolve(file) === path.resolve(bundledFile) ? undefined : readJsonFile(bundledFile);
  // Named like a bundled provider: it is an override, so it may be partial.
  if (base !== undefined) return overridden(name, bundledFile, base, file, data);
  check(file, problemsOf(data));
  return finish(name, data, 'custom', [file]);
}

/**
 * The provider as a file a user can save in $KEYGATE_HOME/providers/ and edit: the definition
 * without the provenance fields (those go in `--json` and `providers list`), pointing editors at
 * the schema.
 */
export function providerFileBody(provider: ProviderDefinition): Record<string, unknown> {
  const { name: _name, source: _source, files: _files, ...body } = provider;
  return { $schema: schemaUrl(), ...body };
}

/** file:// URL of the bundled schema, for `$schema` in files outside the package. */
export function schemaUrl(): string {
  return pathToFileURL(path.join(bundledDirDefault, 'schema.json')).href;
}

function overridden(name: string, bundledFile: string, base: unknown, userFile: string, override: unknown): ProviderDefinition {
  // The override alone may be partial; what it makes when merged must be complete. The same problem
  // found in both (a bad value the merge keeps) is reported once.
  const merged = deepMerge(base, override);
  check(userFile, [...validate(override, schema(), { partial: true }), ...problemsOf(merged)]);
  return finish(name, merged, 'custom', [bundledFile, userFile]);
}

function problemsOf(data: unknown): ValidationProblem[] {
  return [...validate(data, schema()), ...checkReferences(data)];
}

function finish(name: string, data: unknown, source: ProviderDefinition['source'], files: string[]): ProviderDefinition {
  const { $schema: _schema, ...rest } = data as Record<string, unknown>;
  return { ...(rest as Omit<ProviderDefinition, 'name' | 'source' | 'files'>), name, source, files };
}

function check(file: string, found: ValidationProblem[]): void {
  const lines = [...new Set(found.map((p) => `${file}: ${p.path} ${p.message}`))];
  if (lines.length === 0) return;
  const more = lines.length > 1 ? ` (and ${lines.length - 1} more problem${lines.length > 2 ? 's' : ''})` : '';
  throw new ProviderError(`${lines[0]}${more}`, {
    hint:
      lines.length > 1
        ? `\`keygate providers validate ${file}\` lists them all`
        : `fix the file, then check it with \`keygate providers validate ${file}\``,
    problems: lines,
  });
}

function readJsonFile(file: string): unknown {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    if (code === 'EISDIR')
      throw new ProviderError(`${file} is a directory, not a provider file`, {
        hint: 'name a .json file, e.g. providers/discord.json',
        cause: err,
      });
    if (code === 'ENOTDIR')
      throw new ProviderError(`${file}: a parent of it is a file, not a directory`, { hint: 'check the path', cause: err });
    const hint = code === 'EACCES' || code === 'EPERM' ? `run \`chmod u+r ${file}\` (or check its owner)` : 'check the path and the disk';
    throw new ProviderError(`${file}: cannot be read (${code ?? 'error'})`, { hint, cause: err });
  }
  // Windows editors save UTF-8 with a byte-order mark; it is not part of the JSON, so drop it.
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    const problem = `${file}: not valid JSON (${(err as Error).message})`;
    throw new ProviderError(problem, { hint: 'fix the JSON syntax', cause: err, problems: [problem] });
  }
}

function jsonNames(dir: string): string[] {
  try {
    return fs
      .readdirSync(dir)
      .filter((f) => f.endsWith('.json') && f !== `${SCHEMA_NAME}.json`)
      .map((f) => f.slice(0, -'.json'.length));
  } catch {
    return [];
  }
}

function knownHint(options: ProviderOptions): string {
  const names = providerNames(options);
  return names.length ? `known providers: ${names.join(', ')}` : 'no providers are installed';
}

/** Objects merge key by key; anything else (arrays included) is replaced by the override. */
export function deepMerge(base: unknown, override: unknown): unknown {
  if (!isPlainObject(base) || !isPlainObject(override)) return override;
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(override)) {
    // defineProperty, not assignment: a JSON key "__proto__" must stay data, never set a prototype.
    const merged = Object.hasOwn(base, key) ? deepMerge(base[key], value) : value;
    Object.defineProperty(out, key, { value: merged, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
