// Turning tool outcomes into MCP results. Failures an agent can act on (bad arguments, a missing
// scope, a revoked connection, a disabled widget) are tool results with `isError: true` and the fix
// in words, per the MCP spec ("errors originating from the tool should be reported inside the
// result object"), so the model sees them; the message text comes from the closed error set and
// never holds a secret.
import { formatError } from '../errors.js';
import type { ToolResult } from '../tools/index.js';

export interface McpToolResult {
  [key: string]: unknown;
  content: Array<{ type: 'text'; text: string } | { type: 'image'; data: string; mimeType: string }>;
  structuredContent?: Record<string, unknown>;
  isError?: boolean;
}

export function toolResult(result: ToolResult): McpToolResult {
  if (result.kind === 'image') {
    return { content: [{ type: 'image', data: result.bytes.toString('base64'), mimeType: result.contentType }] };
  }
  const out: McpToolResult = { content: [{ type: 'text', text: JSON.stringify(result.body, null, 2) }] };
  // structuredContent must be an object; arrays (guild lists) stay text only.
  if (result.body !== null && typeof result.body === 'object' && !Array.isArray(result.body))
    out.structuredContent = result.body as Record<string, unknown>;
  return out;
}

/** An error as a tool result: `<what> — <what to do>`, without the `keygate:` prefix. */
export function errorResult(err: unknown): McpToolResult {
  return { content: [{ type: 'text', text: formatError(err).replace(/^keygate: /, '') }], isError: true };
}
