// `keygate mcp --print-config`: the snippet to paste into an MCP client's configuration. It names
// this install by absolute paths (the node binary and bin/keygate.js), so the client needs no PATH
// and cannot pick up a different keygate. Only non-secret settings are carried (KEYGATE_HOME when
// set); a passphrase or client secret never goes into a config file.
import path from 'node:path';
import { UsageError } from '../errors.js';
import { packageRoot } from '../home.js';

export const MCP_CLIENTS = ['claude', 'cursor', 'vscode'] as const;
export type McpClient = (typeof MCP_CLIENTS)[number];

export interface ClientConfigOptions {
  client?: string;
  connections?: string[];
  tools?: string[];
  env?: NodeJS.ProcessEnv;
  /** Default: the node running this process. */
  nodePath?: string;
}

/** Where each client reads the snippet from, for the help line printed beside it. */
export const CONFIG_FILES: Record<McpClient, string> = {
  claude:
    "Claude Desktop: claude_desktop_config.json; Claude Code: .mcp.json in the project (or `claude mcp add-json keygate '<the keygate entry>'`)",
  cursor: '~/.cursor/mcp.json, or .cursor/mcp.json in the project',
  vscode: '.vscode/mcp.json in the workspace',
};

export function clientConfig(options: ClientConfigOptions = {}): { client: McpClient; config: Record<string, unknown> } {
  const client = (options.client ?? 'claude') as McpClient;
  if (!MCP_CLIENTS.includes(client)) {
    throw new UsageError(`unknown MCP client \`${options.client}\``, { hint: `use one of ${MCP_CLIENTS.join(', ')}` });
  }
  const args = [path.join(packageRoot, 'bin', 'keygate.js'), 'mcp'];
  for (const c of options.connections ?? []) args.push('--connection', c);
  if (options.tools?.length) args.push('--tools', options.tools.join(','));
  const env: Record<string, string> = {};
  const home = (options.env ?? process.env).KEYGATE_HOME;
  if (home) env.KEYGATE_HOME = path.resolve(home);
  const server = { command: options.nodePath ?? process.execPath, args, ...(Object.keys(env).length ? { env } : {}) };
  // VS Code's mcp.json uses `servers` with an explicit transport type; Claude and Cursor use `mcpServers`.
  const config = client === 'vscode' ? { servers: { keygate: { type: 'stdio', ...server } } } : { mcpServers: { keygate: server } };
  return { client, config };
}
