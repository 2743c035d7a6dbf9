// keygate providers list | inspect <name> | validate <file> | init <name>
import fs from 'node:fs';
import path from 'node:path';
import { ProviderError, UsageError } from '../errors.js';
import { keygateHome } from '../home.js';
import {
  getProvider,
  loadProviderCatalog,
  PROVIDER_NAME,
  providerFileBody,
  providerNames,
  validateProviderFile,
} from '../provider/index.js';
import { providerSkeleton } from '../provider/skeleton.js';
import type { CommandIO } from './io.js';
import { table } from './format.js';

export async function list(options: { json?: boolean }, io: CommandIO): Promise<void> {
  const home = keygateHome(io.env);
  const { providers, broken } = await loadProviderCatalog({ home });
  const rows = providerNames({ home }).map((name) => {
    const p = providers.get(name);
    if (p) return { name, display_name: p.display_name, source: p.source, auth_type: p.auth_type, files: p.files };
    const err = broken.get(name)!;
    const userFile = path.join(home, 'providers', `${name}.json`);
    // Only user files can be broken (bundled ones are tested), so the source is always custom.
    return { name, display_name: null, source: 'custom' as const, auth_type: null, files: [userFile], error: firstProblem(err) };
  });
  if (options.json) {
    io.stdout(`${JSON.stringify({ providers: rows }, null, 2)}\n`);
    return;
  }
  io.stdout(
    table(
      ['NAME', 'DISPLAY NAME', 'SOURCE', 'AUTH', 'STATUS'],
      rows.map((r) => [r.name, r.display_name ?? '-', r.source, r.auth_type ?? '-', 'error' in r ? `broken: ${r.error}` : 'ok']),
    ),
  );
}

/** Prints the effective definition as a file that can be saved and edited; --json adds provenance. */
export async function inspect(name: string, options: { json?: boolean }, io: CommandIO): Promise<void> {
  const provider = await getProvider(name, { home: keygateHome(io.env) });
  const body = providerFileBody(provider);
  const out = options.json ? { name: provider.name, source: provider.source, files: provider.files, definition: body } : body;
  io.stdout(`${JSON.stringify(out, null, 2)}\n`);
}

/** Lists every problem, one per line, then fails with exit 4; or says the file is valid. */
export async function validateFile(file: string, options: { json?: boolean }, io: CommandIO): Promise<void> {
  try {
    const provider = validateProviderFile(file, { home: keygateHome(io.env) });
    const kind = provider.files.length > 1 ? 'overrides the bundled definition' : 'complete definition';
    if (options.json) io.stdout(`${JSON.stringify({ file, valid: true, provider: provider.name, problems: [] }, null, 2)}\n`);
    else io.stdout(`${file}: valid (provider "${provider.name}", ${kind})\n`);
  } catch (err) {
    if (!(err instanceof ProviderError) || err.problems.length === 0) throw err;
    if (options.json)
      io.stdout(`${JSON.stringify({ file, valid: false, problems: err.problems.map((line) => line.slice(file.length + 2)) }, null, 2)}\n`);
    else io.stdout(`${err.problems.join('\n')}\n`);
    const n = err.problems.length;
    throw new ProviderError(`${file}: ${n} problem${n === 1 ? '' : 's'}`, { hint: 'fix them, then run this again', cause: err });
  }
}

/** Writes a starting file for a new provider in $KEYGATE_HOME/providers/. */
export async function init(name: string, options: { force?: boolean }, io: CommandIO): Promise<void> {
  if (!PROVIDER_NAME.test(name)) {
    throw new UsageError(`"${name}" is not a valid provider name`, {
      hint: 'use lowercase letters, digits, - and _ (at most 64), starting with a letter or digit',
    });
  }
  const home = keygateHome(io.env);
  const file = path.join(home, 'providers', `${name}.json`);
  const existing = await getProvider(name, { home }).catch(() => undefined);
  if (existing?.source === 'bundled') {
    throw new UsageError(`"${name}" is a bundled provider`, {
      hint: `to override it, start from a full copy: \`keygate providers inspect ${name} > ${file}\``,
    });
  }
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  try {
    fs.writeFileSync(file, `${JSON.stringify(providerSkeleton(name), null, 2)}\n`, { flag: options.force ? 'w' : 'wx', mode: 0o600 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    throw new UsageError(`${file} already exists`, { hint: 'edit it, or pass --force to start over' });
  }
  io.stdout(`${file}\n`);
  io.stderr(
    `Wrote a starting definition for "${name}". Replace the example.invalid URLs and hosts with the provider's own;\n` +
      `its "$schema" gives your editor completion and an explanation of every field.\n` +
      `Check it with \`keygate providers validate ${file}\`, then \`keygate login ${name}\`.\n`,
  );
}

function firstProblem(err: ProviderError): string {
  const first = err.problems[0] ?? err.message;
  // The file is in the files column: keep the row to what is wrong.
  const colon = first.indexOf('.json: ');
  return colon === -1 ? first : first.slice(colon + '.json: '.length);
}
