// The HTTP request for a tool call: path parameters into the template, the rest into the query.
import { UsageError } from '../errors.js';
import type { ProviderDefinition } from '../provider/types.js';
import type { Tool } from './catalogue.js';
import type { ToolInput } from './params.js';

export function toolUrl(provider: ProviderDefinition, tool: Tool, input: ToolInput): string {
  const path = tool.path.replace(/\{([^{}]+)\}/g, (_, name: string) => pathSegment(tool, name, input[name]));
  const query = new URLSearchParams();
  for (const [name, schema] of Object.entries(tool.parameters)) {
    const value = input[name];
    if (schema.in !== 'query' || value === undefined) continue;
    // Discord takes lists as comma-separated values (e.g. sku_ids) and booleans as true/false.
    query.set(name, Array.isArray(value) ? value.map(scalarText).join(',') : scalarText(value));
  }
  const search = query.toString();
  return `${provider.api.base_url.replace(/\/$/, '')}${path}${search ? `?${search}` : ''}`;
}

/**
 * A value as one path segment. `.` and `..` are refused: URL parsing would resolve them and send
 * the call (with the user's token) to a different endpoint than the tool names.
 */
function pathSegment(tool: Tool, name: string, value: unknown): string {
  const text = value === undefined ? '' : scalarText(value);
  if (text === '' || text === '.' || text === '..') {
    throw new UsageError(`${tool.name}: parameter \`${name}\` cannot be \`${text}\` (it goes in the URL path)`, {
      hint: `see \`keygate tools describe ${tool.provider} ${tool.name}\``,
    });
  }
  // `@` is legal in a path segment, and Discord spells the current user `@me`.
  return encodeURIComponent(text).replace(/%40/g, '@');
}

/** The ids a call was about, for "not found" messages: `guild_id 81384788765712384`. */
export function pathIds(tool: Tool, input: ToolInput): string {
  return Object.entries(tool.parameters)
    .filter(([, schema]) => schema.in === 'path')
    .map(([name]) => `${name} ${String(input[name])}`)
    .join(', ');
}

/** A validated parameter value (string, number or boolean) as text; objects never reach here. */
function scalarText(value: unknown): string {
  return typeof value === 'object' && value !== null ? JSON.stringify(value) : String(value);
}
