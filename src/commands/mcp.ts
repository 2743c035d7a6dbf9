// keygate mcp [--connection <provider>/<name>]... [--tools <a,b,...>] | mcp --print-config [--client <name>]
import { clientConfig, CONFIG_FILES } from '../mcp/client-config.js';
import type { CommandIO } from './io.js';

interface McpCommandOptions {
  connection?: string[];
  tools?: string;
  printConfig?: boolean;
  client?: string;
}

export async function main(options: McpCommandOptions, version: string, io: CommandIO): Promise<number | void> {
  const tools = options.tools
    ?.split(',')
    .map((t) => t.trim())
    .filter(Boolean);
  if (options.printConfig) {
    const { client, config } = clientConfig({ client: options.client, connections: options.connection, tools, env: io.env });
    io.stdout(`${JSON.stringify(config, null, 2)}\n`);
    io.stderr(`Paste this into ${CONFIG_FILES[client]}\n`);
    return;
  }
  const { openStore } = await import('../store/index.js');
  const { serveMcp } = await import('../mcp/server.js');
  const vault = await openStore();
  try {
    const running = await serveMcp(vault, { connections: options.connection, tools, version, log: io.stderr });
    await running.closed;
  } finally {
    await vault.close();
  }
}
