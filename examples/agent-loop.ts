// An agent loop: keygate's tools handed to a model-agnostic tool-calling loop. The "model" here is
// scripted (no API keys); swap in any LLM client that takes { name, description, parameters } and
// answers with tool calls. Tool errors go back to the model as results, as frameworks do.
//
//   node examples/dist/agent-loop.js      (needs a connected discord/default)
import { KeygateError, openKeygate, type ToolInfo } from 'keygate';

/** A tool definition in the shape most LLM APIs take (OpenAI's `parameters`, Anthropic's `input_schema`). */
interface ToolSpec {
  name: string;
  description: string;
  parameters: Record<string, unknown>;
}

type Message =
  | { role: 'user' | 'assistant'; content: string }
  | { role: 'assistant'; tool_calls: ToolCall[] }
  | { role: 'tool'; tool_call_id: string; content: string };

interface ToolCall {
  id: string;
  name: string;
  arguments: Record<string, unknown>;
}

/** What the loop needs of a model: given the conversation and the tools, text or tool calls. */
interface Model {
  next(messages: readonly Message[], tools: readonly ToolSpec[]): Promise<{ content: string } | { tool_calls: ToolCall[] }>;
}

/** A scripted model: asks who it is, then for two servers, then answers from what the tools said. */
function scriptedModel(): Model {
  let turn = 0;
  return {
    async next(messages, tools) {
      turn += 1;
      const has = (name: string) => tools.some((t) => t.name === name);
      if (turn === 1 && has('get_my_user')) return { tool_calls: [{ id: 'call_1', name: 'get_my_user', arguments: {} }] };
      if (turn === 2 && has('list_my_guilds')) return { tool_calls: [{ id: 'call_2', name: 'list_my_guilds', arguments: { limit: 2 } }] };
      const results = messages
        .filter((m): m is Extract<Message, { role: 'tool' }> => m.role === 'tool')
        .map((m) => JSON.parse(m.content) as unknown);
      const user = results[0] as { username?: string } | undefined;
      const guilds = Array.isArray(results[1]) ? (results[1] as Array<{ name: string }>) : [];
      return { content: `You are ${user?.username ?? 'unknown'}; two of your servers: ${guilds.map((g) => g.name).join(', ') || 'none'}.` };
    },
  };
}

const keygate = openKeygate();
try {
  // Only the tools this connection can call right now: the model should not plan with the others.
  const tools: ToolInfo[] = (await keygate.tools('discord')).filter((t) => t.callable && t.response === 'json');
  const specs: ToolSpec[] = tools.map((t) => ({ name: t.name, description: t.description, parameters: t.input_schema }));
  console.log(`tools for the model: ${specs.length} (${specs.map((s) => s.name).join(', ')})`);

  const model = scriptedModel();
  const messages: Message[] = [{ role: 'user', content: 'Who am I on Discord, and which servers am I in?' }];
  for (let step = 0; step < 8; step++) {
    const answer = await model.next(messages, specs);
    if ('content' in answer) {
      console.log(`model: ${answer.content}`);
      break;
    }
    messages.push({ role: 'assistant', tool_calls: answer.tool_calls });
    for (const call of answer.tool_calls) {
      let content: string;
      try {
        const result = await keygate.call('discord', call.name, call.arguments);
        content = JSON.stringify(result.kind === 'json' ? result.body : { image_bytes: result.bytes.length });
      } catch (err) {
        // A bad argument (code `usage`) or a missing scope (`credential`) is the model's to fix.
        if (!(err instanceof KeygateError)) throw err;
        content = JSON.stringify({ error: err.code, message: err.message, hint: err.hint });
      }
      console.log(`tool ${call.name}(${JSON.stringify(call.arguments)}) -> ${content.slice(0, 80)}`);
      messages.push({ role: 'tool', tool_call_id: call.id, content });
    }
  }
} finally {
  await keygate.close();
}
