// Where a connection's credential may go: the provider's API hosts and path prefix as they were at
// login, recorded inside the connection's encrypted record. A provider file edited later (by the
// user, or by anything that can write KEYGATE_HOME) does not move a credential to new hosts until the
// user approves: `keygate login --force`, or `keygate providers trust <name>`, which shows the change.
import type { ProviderDefinition } from '../provider/types.js';
import type { Binding, ConnectionRecord } from '../vault/types.js';

/**
 * The binding a login records now: the definition's hosts and path prefix; for a bot, also its
 * gateway hosts (the bot token goes there inside IDENTIFY/RESUME, through the relay).
 */
export function bindingOf(definition: Pick<ProviderDefinition, 'api' | 'bot'>, kind: 'user' | 'bot' = 'user'): Binding {
  const gateway = kind === 'bot' ? (definition.bot?.gateway_hosts ?? []) : [];
  return { hosts: [...definition.api.hosts, ...gateway].map((h) => h.toLowerCase()), path_prefix: definition.api.path_prefix ?? '/' };
}

/**
 * The binding a run enforces: the recorded one; for a record from before bindings were recorded, the
 * definition keygate ships (never a user file, which is what an attacker would write), else the
 * current definition of a provider keygate does not ship.
 */
export function effectiveBinding(
  record: Pick<ConnectionRecord, 'binding' | 'kind'>,
  definition: ProviderDefinition,
  bundled: ProviderDefinition | undefined,
): Binding {
  return record.binding ?? bindingOf(bundled ?? definition, record.kind);
}

export interface BindingChange {
  added: string[];
  removed: string[];
  prefix?: { from: string; to: string };
}

/** What approving `definition` would change for a credential bound to `bound`; undefined when nothing. */
export function bindingChange(
  bound: Binding,
  definition: Pick<ProviderDefinition, 'api' | 'bot'>,
  kind: 'user' | 'bot' = 'user',
): BindingChange | undefined {
  const next = bindingOf(definition, kind);
  const added = next.hosts.filter((h) => !bound.hosts.includes(h));
  const removed = bound.hosts.filter((h) => !next.hosts.includes(h));
  const prefix = next.path_prefix === bound.path_prefix ? undefined : { from: bound.path_prefix, to: next.path_prefix };
  return added.length || removed.length || prefix ? { added, removed, prefix } : undefined;
}

/** e.g. "+evil.example, path /api/ → /" */
export function describeChange(change: BindingChange): string {
  const parts = [...change.added.map((h) => `+${h}`), ...change.removed.map((h) => `-${h}`)];
  if (change.prefix) parts.push(`path ${change.prefix.from} → ${change.prefix.to}`);
  return parts.join(', ');
}
