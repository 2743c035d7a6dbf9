// keygate providers list | inspect <name> | validate <file>
import { getProvider, loadProviders, validateProviderFile } from '../provider/index.js';
import type { CommandIO } from './io.js';
import { table } from './format.js';

export async function list(options: { json?: boolean }, io: CommandIO): Promise<void> {
  const providers = [...(await loadProviders()).values()];
  const rows = providers.map((p) => ({ name: p.name, display_name: p.display_name, source: p.source, auth_type: p.auth_type }));
  if (options.json) {
    io.stdout(`${JSON.stringify({ providers: rows }, null, 2)}\n`);
    return;
  }
  io.stdout(table(['NAME', 'DISPLAY NAME', 'SOURCE', 'AUTH'], rows.map((r) => [r.name, r.display_name, r.source, r.auth_type])));
}

export async function inspect(name: string, io: CommandIO): Promise<void> {
  const provider = await getProvider(name);
  io.stdout(`${JSON.stringify(provider, null, 2)}\n`);
}

export async function validateFile(file: string, io: CommandIO): Promise<void> {
  const provider = validateProviderFile(file);
  io.stdout(`${file}: valid (provider "${provider.name}", ${provider.files.length > 1 ? 'overrides the bundled definition' : 'complete definition'})\n`);
}
