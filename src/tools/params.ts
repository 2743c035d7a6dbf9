// Parameters are checked against the tool's schema before anything is sent, with messages that
// name the parameter and what was expected. Values from the command line arrive as strings and are
// converted only where the schema asks for a number or boolean: a snowflake such as
// 81384788765712384 is past 2^53, so it must stay the string it was typed as.
import { UsageError } from '../errors.js';
import type { Parameter, Tool } from './catalogue.js';

export type ToolInput = Record<string, unknown>;

function problem(tool: Tool, message: string): UsageError {
  return new UsageError(`${tool.name}: ${message}`, { hint: `see \`keygate tools describe ${tool.provider} ${tool.name}\`` });
}

/**
 * `key=value` pairs from `--param`, converted by the schema. An array parameter takes a
 * comma-separated list, or the flag repeated.
 */
export function paramsFromPairs(tool: Tool, pairs: string[]): ToolInput {
  const out: ToolInput = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw problem(tool, `--param expects key=value, got \`${pair}\``);
    const key = pair.slice(0, eq);
    const text = pair.slice(eq + 1);
    const schema = tool.parameters[key];
    if (!schema) throw unknownParameter(tool, key);
    if (schema.type === 'array') {
      const items = text === '' ? [] : text.split(',').map((item) => fromText(tool, key, item, schema.items?.type ?? 'string'));
      out[key] = [...((out[key] as unknown[] | undefined) ?? []), ...items];
    } else {
      if (Object.hasOwn(out, key)) throw problem(tool, `parameter \`${key}\` given twice`);
      out[key] = fromText(tool, key, text, schema.type);
    }
  }
  return out;
}

function fromText(tool: Tool, key: string, text: string, type: Parameter['type']): unknown {
  switch (type) {
    case 'integer':
      if (!/^-?\d+$/.test(text)) throw problem(tool, `parameter \`${key}\` expected an integer, got \`${text}\``);
      return Number(text);
    case 'number':
      if (text.trim() === '' || !Number.isFinite(Number(text)))
        throw problem(tool, `parameter \`${key}\` expected a number, got \`${text}\``);
      return Number(text);
    case 'boolean':
      if (/^(true|1)$/i.test(text)) return true;
      if (/^(false|0)$/i.test(text)) return false;
      throw problem(tool, `parameter \`${key}\` expected true or false, got \`${text}\``);
    default:
      return text;
  }
}

/** The input checked against the schema; returns it with unknown-free, typed values. */
export function validateInput(tool: Tool, input: unknown): ToolInput {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw problem(tool, `the input must be a JSON object, got ${describe(input)}`);
  }
  const values = input as ToolInput;
  for (const [key, value] of Object.entries(values)) {
    const schema = tool.parameters[key];
    if (!schema) throw unknownParameter(tool, key);
    if (value === undefined) continue;
    checkValue(tool, key, value, schema);
  }
  for (const key of tool.required) {
    if (values[key] === undefined) {
      throw problem(tool, `parameter \`${key}\` is required (${expected(tool.parameters[key])})`);
    }
  }
  return Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined));
}

function checkValue(tool: Tool, key: string, value: unknown, schema: Omit<Parameter, 'in'>): void {
  const fail = (detail?: string) => problem(tool, `parameter \`${key}\` expected ${detail ?? expected(schema)}, got ${describe(value)}`);
  switch (schema.type) {
    case 'string':
      if (typeof value !== 'string') {
        // JSON numbers lose precision past 2^53: an id given as a number may already be wrong.
        throw typeof value === 'number'
          ? problem(
              tool,
              `parameter \`${key}\` expected a string, got the number ${value}${Number.isSafeInteger(value) ? '' : ' (JSON numbers past 2^53 lose digits)'}; pass ids as strings ("...")`,
            )
          : fail();
      }
      if (schema.minLength !== undefined && value.length < schema.minLength) throw fail();
      if (schema.maxLength !== undefined && value.length > schema.maxLength) throw fail();
      if (schema.pattern !== undefined && !new RegExp(schema.pattern, 'u').test(value)) throw fail();
      break;
    case 'integer':
      if (!Number.isSafeInteger(value)) throw fail();
      break;
    case 'number':
      if (typeof value !== 'number' || !Number.isFinite(value)) throw fail();
      break;
    case 'boolean':
      if (typeof value !== 'boolean') throw fail();
      break;
    case 'array':
      if (!Array.isArray(value)) throw fail();
      if (schema.minItems !== undefined && value.length < schema.minItems) throw fail();
      if (schema.maxItems !== undefined && value.length > schema.maxItems) throw fail();
      if (schema.items) value.forEach((item, i) => checkValue(tool, `${key}[${i}]`, item, schema.items as Omit<Parameter, 'in'>));
      break;
  }
  if (typeof value === 'number') {
    if (schema.minimum !== undefined && value < schema.minimum) throw fail();
    if (schema.maximum !== undefined && value > schema.maximum) throw fail();
  }
  if (schema.enum && !schema.enum.includes(value as string)) throw fail();
}

/** "an integer from 1 to 200", "one of shield, banner1", "a string matching ^[0-9]{1,20}$". */
export function expected(schema: Omit<Parameter, 'in'>): string {
  if (schema.enum) return `one of ${schema.enum.map(String).join(', ')}`;
  const range =
    schema.minimum !== undefined && schema.maximum !== undefined
      ? ` from ${schema.minimum} to ${schema.maximum}`
      : schema.minimum !== undefined
        ? ` of at least ${schema.minimum}`
        : schema.maximum !== undefined
          ? ` of at most ${schema.maximum}`
          : '';
  switch (schema.type) {
    case 'string':
      if (schema.pattern === '^[0-9]{1,20}$') return 'a snowflake id (digits, as a string)';
      return schema.pattern ? `a string matching ${schema.pattern}` : 'a string';
    case 'integer':
      return `an integer${range}`;
    case 'number':
      return `a number${range}`;
    case 'boolean':
      return 'true or false';
    case 'array':
      return schema.items ? `a list, each ${expected(schema.items)}` : 'a list';
  }
}

function unknownParameter(tool: Tool, key: string): UsageError {
  const names = Object.keys(tool.parameters);
  const near = nearest(key, names);
  const known = names.length ? `it takes ${names.join(', ')}` : 'it takes no parameters';
  return problem(tool, `unknown parameter \`${key}\`${near ? ` (did you mean \`${near}\`?)` : ''}; ${known}`);
}

function describe(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  const type = value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;
  return `\`${text.length > 60 ? `${text.slice(0, 57)}...` : text}\` (${type})`;
}

/** The name within edit distance 2 of `key`, for "did you mean". */
export function nearest(key: string, names: string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const name of names) {
    const d = editDistance(key, name);
    if (d < bestDistance) [best, bestDistance] = [name, d];
  }
  return best;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j];
      row[j] = Math.min(above + 1, row[j - 1] + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length];
}
