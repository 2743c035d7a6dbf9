// keygate call <provider> <tool> [--connection] [--param key=value]... [--input <json>|-] [--output <file>] [--json]
import fs from 'node:fs/promises';
import { UsageError } from '../errors.js';
import { paramsFromPairs, type ToolInput } from '../tools/index.js';
import type { CommandIO } from './io.js';
import { withKeygate } from './keygate.js';

interface CallCommandOptions {
  connection?: string;
  param?: string[];
  input?: string;
  output?: string;
  json?: boolean;
}

export async function main(providerName: string, toolName: string, options: CallCommandOptions, io: CommandIO): Promise<void> {
  const { tool, result } = await withKeygate(io, async (keygate) => {
    const tool = (await keygate.tool(providerName, toolName)).definition;
    // --param wins over the same key in --input: the flag is the more specific of the two.
    const input: ToolInput = { ...(await readInput(options.input, io)), ...paramsFromPairs(tool, options.param ?? []) };
    // Output problems are found before the call, so nothing is sent for an answer that can't be shown.
    if (tool.response === 'image' && !options.output) {
      if (options.json)
        throw new UsageError('--json with an image needs --output <file>', { hint: 'the JSON then describes the file written' });
      if (io.isTTY)
        throw new UsageError(`${tool.name} answers with an image, which would garble the terminal`, {
          hint: 'pass --output <file>, or pipe stdout to a file or program',
        });
      if (!io.stdoutBytes) throw new UsageError('this output cannot take an image', { hint: 'pass --output <file>' });
    }
    if (tool.deprecated) {
      io.stderr(`keygate: ${tool.name} is deprecated${tool.deprecated.replaced_by ? `; use ${tool.deprecated.replaced_by}` : ''}\n`);
    }
    const result = await keygate.call(providerName, tool.name, input, {
      connection: options.connection,
      onWait: (reason, ms) => io.stderr(`keygate: ${reason}; retrying in ${(ms / 1000).toFixed(1)} s\n`),
    });
    return { tool, result };
  });

  if (result.kind === 'json') {
    const text = `${JSON.stringify(options.json ? { tool: tool.name, status: result.status, body: result.body } : result.body, null, 2)}\n`;
    if (options.output) {
      await fs.writeFile(options.output, text);
      const bytes = Buffer.byteLength(text);
      io.stdout(
        options.json
          ? `${JSON.stringify({ tool: tool.name, status: result.status, content_type: 'application/json', bytes, output: options.output }, null, 2)}\n`
          : `Wrote ${bytes} bytes of JSON to ${options.output}\n`,
      );
    } else {
      io.stdout(text);
    }
    return;
  }
  if (options.output) {
    await fs.writeFile(options.output, result.bytes);
    io.stdout(
      options.json
        ? `${JSON.stringify({ tool: tool.name, status: result.status, content_type: result.contentType, bytes: result.bytes.length, output: options.output }, null, 2)}\n`
        : `Wrote ${result.bytes.length} bytes (${result.contentType}) to ${options.output}\n`,
    );
    return;
  }
  await io.stdoutBytes!(result.bytes);
}

async function readInput(value: string | undefined, io: CommandIO): Promise<ToolInput> {
  if (value === undefined) return {};
  let text = value;
  if (value === '-') {
    if (!io.readStdin) throw new UsageError('--input - needs a standard input', { hint: 'pass the JSON as the value of --input' });
    text = await io.readStdin();
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`--input is not valid JSON (${(err as Error).message})`, {
      hint: `pass an object, e.g. --input '{"limit": 5}'`,
      cause: err,
    });
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new UsageError('--input must be a JSON object of parameters', { hint: `e.g. --input '{"limit": 5}'` });
  }
  return parsed as ToolInput;
}
