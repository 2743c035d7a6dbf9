// keygate tools list [provider] [--connection] [--json] | tools describe <provider> <tool> [--json]
import { getProvider, loadProviders } from '../provider/index.js';
import { expected, getTool, inputSchema, listToolCoverage, type Coverage, type Tool, type ToolListing } from '../tools/index.js';
import type { CommandIO } from './io.js';
import { table } from './format.js';

export async function list(providerName: string | undefined, options: { connection: string; json?: boolean }, io: CommandIO): Promise<void> {
  const providers = providerName ? [await getProvider(providerName)] : [...(await loadProviders()).values()].filter((p) => p.tools && Object.keys(p.tools).length > 0);
  const listings: ToolListing[] = [];
  for (const provider of providers) listings.push(await listToolCoverage(provider, { connection: options.connection }));
  if (options.json) {
    const tools = listings.flatMap((l) =>
      l.tools.map(({ tool, coverage }) => ({
        provider: tool.provider,
        name: tool.name,
        description: tool.description,
        method: tool.method,
        path: tool.path,
        auth: tool.auth,
        scopes: tool.scopes,
        response: tool.response,
        deprecated: tool.deprecated ?? null,
        callable: coverage.callable,
        missing_scopes: coverage.missing,
        note: coverage.note ?? null,
      })),
    );
    const connections = listings.map((l) => ({ provider: l.provider, connection: l.connection, status: l.status, granted_scopes: l.granted }));
    io.stdout(`${JSON.stringify({ connections, tools }, null, 2)}\n`);
    return;
  }
  if (listings.length === 0) {
    io.stdout('No provider defines tools.\n');
    return;
  }
  for (const [i, listing] of listings.entries()) {
    const granted = listing.status === 'not_connected' ? '' : `; granted: ${listing.granted.join(' ') || 'none'}`;
    io.stdout(`${i ? '\n' : ''}${listing.provider} tools, for ${listing.provider}/${listing.connection} (${listing.status.replace('_', ' ')}${granted})\n\n`);
    const rows = listing.tools.map(({ tool, coverage }) => [tool.name, needs(tool), covered(coverage), summary(tool)]);
    io.stdout(table(['TOOL', 'NEEDS', 'CAN CALL', 'DESCRIPTION'], rows));
  }
}

function needs(tool: Tool): string {
  if (tool.auth === 'none') return 'no token';
  if (tool.auth === 'bot') return tool.auth_when.some((r) => r.auth === 'user') ? `bot (${userScopes(tool.auth_when.find((r) => r.auth === 'user')!.scopes)} for @me)` : 'bot token';
  return userScopes(tool.scopes);
}

function userScopes(scopes: string[]): string {
  return scopes.length ? scopes.join(', ') : 'any user token';
}

function covered(c: Coverage): string {
  // "only with user_id=@me; other values need a bot connection": callable, but not for every input.
  if (c.callable) return c.note?.startsWith('only with') && /need/.test(c.note) ? 'yes, partly' : 'yes';
  return `no: ${c.note ?? 'not covered'}`.replace(/ \(`keygate login .* --bot`\)/, '');
}

function summary(tool: Tool): string {
  const first = tool.description.split(/(?<=\.)\s/)[0]!;
  return tool.deprecated ? `(deprecated${tool.deprecated.replaced_by ? `: use ${tool.deprecated.replaced_by}` : ''}) ${first}` : first;
}

export async function describe(providerName: string, toolName: string, options: { json?: boolean }, io: CommandIO): Promise<void> {
  const provider = await getProvider(providerName);
  const tool = getTool(provider, toolName);
  if (options.json) {
    const { provider: _p, parameters, ...rest } = tool;
    io.stdout(`${JSON.stringify({ provider: provider.name, ...rest, parameters, input_schema: inputSchema(tool) }, null, 2)}\n`);
    return;
  }
  const lines = [`${provider.name} ${tool.name}: ${tool.method} ${provider.api.base_url.replace(/\/$/, '')}${tool.path}`, '', tool.description, ''];
  if (tool.deprecated) lines.push(`Deprecated${tool.deprecated.replaced_by ? `: use ${tool.deprecated.replaced_by}` : ''}${tool.deprecated.reason ? ` (${tool.deprecated.reason})` : ''}.`);
  lines.push(`Auth:     ${tool.auth === 'none' ? 'none (no token is sent)' : tool.auth === 'bot' ? 'a bot token' : "the user's token"}`);
  for (const rule of tool.auth_when) {
    const when = Object.entries(rule.params).map(([k, v]) => `${k}=${String(v)}`).join(', ');
    lines.push(`          with ${when}: ${rule.auth === 'user' ? `the user's token${rule.scopes.length ? ` (${rule.scopes.join(', ')})` : ''}` : rule.auth}`);
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
  lines.push('', `Example: keygate call ${provider.name} ${tool.name}${example}${tool.response === 'image' ? ' --output image.png' : ''}`);
  io.stdout(`${lines.join('\n')}\n`);
}
