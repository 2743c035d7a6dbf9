// keygate tools list [provider] [--connection] [--json] | tools describe <provider> <tool> [--json]
import { loadProviders } from '../provider/index.js';
import { expected, type Tool } from '../tools/index.js';
import type { ToolCatalog, ToolInfo } from '../api/types.js';
import type { CommandIO } from './io.js';
import { table } from './format.js';
import { withKeygate } from './keygate.js';

export async function list(
  providerName: string | undefined,
  options: { connection: string; json?: boolean },
  io: CommandIO,
): Promise<void> {
  const names = providerName
    ? [providerName]
    : [...(await loadProviders()).values()].filter((p) => p.tools && Object.keys(p.tools).length > 0).map((p) => p.name);
  const catalogs = await withKeygate(io, async (keygate) => {
    const catalogs: ToolCatalog[] = [];
    for (const name of names) catalogs.push(await keygate.toolCatalog(name, { connection: options.connection }));
    return catalogs;
  });
  if (options.json) {
    const tools = catalogs.flatMap((c) => c.tools.map(({ definition: _d, input_schema: _s, url: _u, ...tool }) => tool));
    const connections = catalogs.map(({ tools: _t, ...connection }) => connection);
    io.stdout(`${JSON.stringify({ connections, tools }, null, 2)}\n`);
    return;
  }
  if (catalogs.length === 0) {
    io.stdout('No provider defines tools.\n');
    return;
  }
  for (const [i, catalog] of catalogs.entries()) {
    const granted = catalog.status === 'not_connected' ? '' : `; granted: ${catalog.granted_scopes.join(' ') || 'none'}`;
    io.stdout(
      `${i ? '\n' : ''}${catalog.provider} tools, for ${catalog.provider}/${catalog.connection} (${catalog.status.replace('_', ' ')}${granted})\n\n`,
    );
    const rows = catalog.tools.map((info) => [info.name, needs(info.definition), covered(info), summary(info.definition)]);
    io.stdout(table(['TOOL', 'NEEDS', 'CAN CALL', 'DESCRIPTION'], rows));
  }
}

function needs(tool: Tool): string {
  if (tool.auth === 'none') return 'no token';
  if (tool.auth === 'bot')
    return tool.auth_when.some((r) => r.auth === 'user')
      ? `bot (${userScopes(tool.auth_when.find((r) => r.auth === 'user')!.scopes)} for @me)`
      : 'bot token';
  return userScopes(tool.scopes);
}

function userScopes(scopes: string[]): string {
  return scopes.length ? scopes.join(', ') : 'any user token';
}

function covered(c: Pick<ToolInfo, 'callable' | 'note' | 'auth'>): string {
  // "only with user_id=@me; other values need a bot connection": callable, but not for every input.
  if (c.callable) return c.note?.startsWith('only with') && /need/.test(c.note) ? 'yes, partly' : 'yes';
  return `no: ${c.note ?? 'not covered'}`.replace(/ \(`keygate login .* --bot`\)/, '');
}

function summary(tool: Tool): string {
  const first = tool.description.split(/(?<=\.)\s/)[0];
  return tool.deprecated ? `(deprecated${tool.deprecated.replaced_by ? `: use ${tool.deprecated.replaced_by}` : ''}) ${first}` : first;
}

export async function describe(providerName: string, toolName: string, options: { json?: boolean }, io: CommandIO): Promise<void> {
  const info = await withKeygate(io, (keygate) => keygate.tool(providerName, toolName));
  const tool = info.definition;
  if (options.json) {
    const { provider: _p, parameters, ...rest } = tool;
    io.stdout(`${JSON.stringify({ provider: info.provider, ...rest, parameters, input_schema: info.input_schema }, null, 2)}\n`);
    return;
  }
  const lines = [`${info.provider} ${tool.name}: ${tool.method} ${info.url}`, '', tool.description, ''];
  if (tool.deprecated)
    lines.push(
      `Deprecated${tool.deprecated.replaced_by ? `: use ${tool.deprecated.replaced_by}` : ''}${tool.deprecated.reason ? ` (${tool.deprecated.reason})` : ''}.`,
    );
  lines.push(`Auth:     ${tool.auth === 'none' ? 'none (no token is sent)' : tool.auth === 'bot' ? 'a bot token' : "the user's token"}`);
  for (const rule of tool.auth_when) {
    const when = Object.entries(rule.params)
      .map(([k, v]) => `${k}=${String(v)}`)
      .join(', ');
    lines.push(
      `          with ${when}: ${rule.auth === 'user' ? `the user's token${rule.scopes.length ? ` (${rule.scopes.join(', ')})` : ''}` : rule.auth}`,
    );
  }
  if (tool.auth === 'user') lines.push(`Scopes:   ${tool.scopes.length ? tool.scopes.join(', ') : 'none (any user token)'}`);
  for (const [scope, adds] of Object.entries(tool.optional_scopes)) lines.push(`          optional ${scope}: ${adds}`);
  lines.push(`Response: ${tool.response === 'image' ? 'an image (use --output <file>, or pipe stdout)' : 'JSON'}`);
  const params = Object.entries(tool.parameters);
  lines.push('', params.length ? 'Parameters:' : 'Parameters: none');
  if (params.length) {
    const rows = params.map(([name, p]) => [
      `  ${name}`,
      `${p.in}${tool.required.includes(name) ? ', required' : ''}`,
      `${expected(p)}${p.default !== undefined ? ` (default ${JSON.stringify(p.default)})` : ''}${p.description ? `: ${p.description}` : ''}`,
    ]);
    lines.push(table(['', '', ''], rows).split('\n').slice(1).join('\n').trimEnd());
  }
  for (const [status, e] of Object.entries(tool.errors)) lines.push(`On ${status}: ${e.message}${e.hint ? ` (${e.hint})` : ''}`);
  const example = tool.required.map((name) => ` --param ${name}=<${name}>`).join('');
  lines.push('', `Example: keygate call ${info.provider} ${tool.name}${example}${tool.response === 'image' ? ' --output image.png' : ''}`);
  io.stdout(`${lines.join('\n')}\n`);
}
