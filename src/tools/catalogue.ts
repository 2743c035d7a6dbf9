// The tool catalogue: a provider's `tools` section with defaults filled in and checked for what
// the JSON Schema cannot say (a path placeholder must be a required path parameter, `in` must agree
// with the path template, patterns must compile). Tools are data: nothing here names a tool.
import { ProviderError, UsageError } from '../errors.js';
import type { ProviderDefinition, ToolAuth, ToolDefinition, ToolParameter } from '../provider/types.js';
import { nearest } from './params.js';

export type { ToolAuth, ToolParameter } from '../provider/types.js';

export const TOOL_NAME = /^[a-z0-9][a-z0-9_]{0,63}$/;

/** A parameter with its location decided. */
export type Parameter = ToolParameter & { in: 'path' | 'query' };

/** A tool of one provider, ready to call: every optional field of the file has its default. */
export interface Tool {
  provider: string;
  name: string;
  description: string;
  method: NonNullable<ToolDefinition['method']>;
  path: string;
  parameters: Record<string, Parameter>;
  required: string[];
  auth: ToolAuth;
  scopes: string[];
  optional_scopes: Record<string, string>;
  auth_when: Array<{ params: Record<string, string | number | boolean>; auth: ToolAuth; scopes: string[] }>;
  response: 'json' | 'image';
  deprecated?: { replaced_by?: string; reason?: string };
  errors: Record<string, { message: string; hint?: string }>;
}

const PLACEHOLDER = /\{([^{}]+)\}/g;

/** Every tool of the provider, in file order. Throws ProviderError naming the field for a bad tool. */
export function listTools(provider: ProviderDefinition): Tool[] {
  return Object.entries(provider.tools ?? {}).map(([name, definition]) => normalize(provider, name, definition));
}

/** One tool by name; an unknown name is a usage error listing the provider's tools. */
export function getTool(provider: ProviderDefinition, name: string): Tool {
  const definition = provider.tools && Object.hasOwn(provider.tools, name) ? provider.tools[name] : undefined;
  if (!definition) {
    const names = Object.keys(provider.tools ?? {});
    const near = nearest(name, names);
    throw new UsageError(`${provider.name} has no tool "${name}"${near ? ` (did you mean "${near}"?)` : ''}`, {
      hint: names.length ? `see \`keygate tools list ${provider.name}\`` : `${provider.display_name}'s provider file defines no tools`,
    });
  }
  return normalize(provider, name, definition);
}

function normalize(provider: ProviderDefinition, name: string, d: ToolDefinition): Tool {
  const where = `${provider.files.at(-1) ?? provider.name}: $.tools.${name}`;
  const bad = (field: string, message: string) =>
    new ProviderError(`${where}${field} ${message}`, { hint: `fix the tool in the provider file` });
  if (!TOOL_NAME.test(name)) throw bad('', 'is not a valid tool name (use lowercase letters, digits and _; at most 64)');
  const placeholders = [...d.path.matchAll(PLACEHOLDER)].map((m) => m[1]);
  const required = d.parameters?.required ?? [];
  const parameters: Record<string, Parameter> = {};
  for (const [param, schema] of Object.entries(d.parameters?.properties ?? {})) {
    const location = schema.in ?? (placeholders.includes(param) ? 'path' : 'query');
    if (location === 'path' && !placeholders.includes(param))
      throw bad(`.parameters.properties.${param}.in`, `is "path" but the path ${d.path} has no {${param}}`);
    if (location === 'path' && !required.includes(param)) throw bad(`.parameters.required`, `must list the path parameter "${param}"`);
    for (const pattern of [schema.pattern, schema.items?.pattern]) {
      if (pattern === undefined) continue;
      try {
        new RegExp(pattern, 'u');
      } catch {
        throw bad(`.parameters.properties.${param}.pattern`, `is not a valid regular expression: ${pattern}`);
      }
    }
    parameters[param] = { ...schema, in: location };
  }
  for (const placeholder of placeholders) {
    if (!parameters[placeholder]) throw bad('.path', `names {${placeholder}}, which is not a parameter`);
  }
  for (const param of required) {
    if (!parameters[param]) throw bad('.parameters.required', `lists "${param}", which is not a parameter`);
  }
  for (const [i, rule] of (d.auth_when ?? []).entries()) {
    for (const param of Object.keys(rule.params)) {
      if (!parameters[param]) throw bad(`.auth_when[${i}].params`, `names "${param}", which is not a parameter`);
    }
  }
  const auth = d.auth ?? 'user';
  return {
    provider: provider.name,
    name,
    description: d.description,
    method: d.method ?? 'GET',
    path: d.path,
    parameters,
    required,
    auth,
    scopes: d.scopes ?? [],
    optional_scopes: d.optional_scopes ?? {},
    auth_when: (d.auth_when ?? []).map((rule) => ({ params: rule.params, auth: rule.auth, scopes: rule.scopes ?? [] })),
    response: d.response ?? 'json',
    deprecated: d.deprecated,
    errors: d.errors ?? {},
  };
}

/**
 * The tool's parameters as a plain JSON Schema object (keygate's `in` removed), for MCP clients
 * and `tools describe --json`.
 */
export function inputSchema(tool: Tool): Record<string, unknown> {
  const properties: Record<string, unknown> = {};
  for (const [name, { in: _in, ...schema }] of Object.entries(tool.parameters)) properties[name] = schema;
  return { type: 'object', properties, required: tool.required, additionalProperties: false };
}
