// keygate providers trust <name>: approve the provider file's current API hosts and path prefix for
// every connection of that provider. Shows what changes first; until this (or `login --force`) runs,
// a credential keeps going only where it was bound at login (src/run/binding.ts).
import { keygateHome } from '../home.js';
import { getBundledProvider, getProvider } from '../provider/index.js';
import { bindingChange, bindingOf, describeChange, effectiveBinding } from '../run/binding.js';
import { openStore } from '../store/index.js';
import { UNCHANGED } from '../vault/types.js';
import type { CommandIO } from './io.js';

export async function main(name: string, io: CommandIO): Promise<void> {
  const home = keygateHome(io.env);
  const definition = await getProvider(name, { home });
  const bundled = getBundledProvider(name);
  const next = bindingOf(definition);
  const where = `${next.hosts.join(', ')} under ${next.path_prefix}`;
  const store = await openStore({ home, env: io.env, stderr: io.stderr });
  try {
    const connections = (await store.names()).filter((n) => n.provider === name);
    if (connections.length === 0) {
      io.stdout(`no ${name} connection: the next \`keygate login ${name}\` binds to ${where}\n`);
      return;
    }
    for (const { connection } of connections) {
      let line = '';
      await store.update(name, connection, (current) => {
        if (!current) return UNCHANGED;
        const kind = current.kind ?? 'user';
        const own = bindingOf(definition, kind);
        const ownWhere = `${own.hosts.join(', ')} under ${own.path_prefix}`;
        const change = bindingChange(effectiveBinding(current, definition, bundled), definition, kind);
        line = change
          ? `${name}/${connection}: ${describeChange(change)}; now sent to ${ownWhere}`
          : `${name}/${connection}: unchanged (${ownWhere})`;
        return change || !current.binding ? { ...current, binding: own } : UNCHANGED;
      });
      if (line) io.stdout(`${line}\n`);
    }
  } finally {
    await store.close();
  }
}
