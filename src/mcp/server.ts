// `keygate mcp`: the tool catalogue as an MCP server over stdio, on the official SDK's low-level
// Server (our input schemas are JSON Schema data from provider files, which the high-level
// McpServer, built on zod shapes, would have to convert). Every call goes through callTool, the
// same vault, refresh and revocation path as `keygate call` and the proxy; no token ever appears
// in a result. stdout carries only the protocol: anything else goes to stderr.
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { CallToolRequestSchema, ErrorCode, ListToolsRequestSchema, McpError } from '@modelcontextprotocol/sdk/types.js';
import { describeMeta } from '../connection/describe.js';
import { callTool } from '../tools/index.js';
import type { Vault } from '../vault/types.js';
import { STATUS_TOOL, exposeTools, selectConnections, toolFilter, type ExposedTool } from './catalogue.js';
import { errorResult, toolResult, type McpToolResult } from './results.js';

export interface McpServerOptions {
  /** `provider/name` selections; default: every connected connection. */
  connections?: string[];
  /** Tool names to expose (bare or `<provider>_`-prefixed); default: all. */
  tools?: string[];
  version: string;
  /** Log lines (already ending in "\n"); default stderr. */
  log?: (line: string) => void;
}

export interface RunningMcpServer {
  /** Resolves when the client closes stdin or the server is closed. */
  closed: Promise<void>;
  close(): Promise<void>;
}

export async function serveMcp(vault: Vault, options: McpServerOptions): Promise<RunningMcpServer> {
  const log = options.log ?? ((line: string) => void process.stderr.write(line));
  const filter = toolFilter(options.tools);
  // Built once at start (a provider file with a broken tool fails here, loudly, not mid-session),
  // then refreshed on each tools/list so a login done meanwhile shows up.
  let exposed = exposeTools(await selectConnections(vault, options.connections), filter);
  const catalogue = async () => {
    exposed = exposeTools(await selectConnections(vault, options.connections), filter);
    return exposed;
  };

  const server = new Server(
    { name: 'keygate', title: 'keygate', version: options.version },
    {
      capabilities: { tools: { listChanged: false } },
      instructions:
        'Tools named <provider>_<tool> call third-party APIs (e.g. Discord) with credentials that keygate holds; you never see a token. ' +
        `A tool result with isError explains what the user must do. ${STATUS_TOOL} lists the connected accounts.`,
    },
  );

  server.setRequestHandler(ListToolsRequestSchema, async () => {
    const tools = await catalogue();
    return { tools: [...tools.map((t) => t.definition), statusDefinition()] };
  });

  server.setRequestHandler(CallToolRequestSchema, async (request): Promise<McpToolResult> => {
    const { name, arguments: args } = request.params;
    if (name === STATUS_TOOL) return statusResult(vault, exposed);
    const entry = exposed.find((t) => t.name === name) ?? (await catalogue()).find((t) => t.name === name);
    // An unknown tool is a protocol error (JSON-RPC -32602), as the MCP spec says.
    if (!entry) throw new McpError(ErrorCode.InvalidParams, `Unknown tool: ${name}`);
    try {
      const result = await callTool(entry.selection.provider, entry.tool, args ?? {}, {
        connection: entry.selection.connection,
        vault,
        onWait: (reason, ms) => log(`keygate mcp: ${reason}; retrying in ${(ms / 1000).toFixed(1)} s\n`),
      });
      return toolResult(result);
    } catch (err) {
      if (process.env.KEYGATE_DEBUG === '1' && err instanceof Error) log(`keygate mcp: ${name}: ${err.stack ?? err.message}\n`);
      return errorResult(err);
    }
  });

  // A malformed line or a transport hiccup is logged and the server keeps answering.
  server.onerror = (err) => log(`keygate mcp: ${err.message.split('\n', 1)[0]}\n`);

  const transport = new StdioServerTransport();
  let resolveClosed!: () => void;
  const closed = new Promise<void>((resolve) => (resolveClosed = resolve));
  server.onclose = () => resolveClosed();
  // The SDK's stdio transport does not notice the client going away; a closed stdin ends the session.
  const onEnd = () => void server.close();
  process.stdin.once('end', onEnd);
  process.stdin.once('close', onEnd);
  await server.connect(transport);
  log(`keygate mcp: serving ${exposed.length} tools (${describeSelections(exposed)}) and ${STATUS_TOOL} on stdio\n`);
  return {
    closed,
    close: () => server.close(),
  };
}

function describeSelections(exposed: ExposedTool[]): string {
  const refs = [...new Set(exposed.map((t) => `${t.selection.provider.name}/${t.selection.connection}`))];
  return refs.length ? refs.join(', ') : 'no connections';
}

function statusDefinition() {
  return {
    name: STATUS_TOOL,
    title: 'keygate status',
    description:
      'Lists the accounts keygate holds credentials for, with their status (connected, expired, revoked), granted scopes and expiry. ' +
      'Shows no secrets. Use it to tell the user which account a tool acts as, or what to fix.',
    inputSchema: { type: 'object', properties: {}, additionalProperties: false },
    annotations: { title: 'keygate status', readOnlyHint: true, idempotentHint: true, destructiveHint: false, openWorldHint: false },
  };
}

/** Connections from the vault's clear metadata only: no master key, no token, nothing secret to leak. */
async function statusResult(vault: Vault, exposed: ExposedTool[]): Promise<McpToolResult> {
  try {
    const connections = [];
    for (const { provider, connection } of await vault.names()) {
      const meta = await vault.peek(provider, connection);
      if (!meta) continue;
      const fields = describeMeta(meta);
      const served = exposed.some((t) => t.selection.provider.name === provider && t.selection.connection === connection);
      connections.push({ ...fields, served_by_this_server: served, ...(fields.hint ? { fix: fields.hint } : {}) });
    }
    const body = { connections };
    const lines = connections.length
      ? connections.map(
          (c) =>
            `${c.provider}/${c.connection}: ${c.status}${c.account_name ? ` as ${c.account_name}` : ''}${c.scopes ? ` (${c.scopes})` : ''}${c.hint ? ` — ${c.hint}` : ''}`,
        )
      : ['No connections. The user can connect one with `keygate login discord`.'];
    return { content: [{ type: 'text', text: lines.join('\n') }], structuredContent: body };
  } catch (err) {
    return errorResult(err);
  }
}
