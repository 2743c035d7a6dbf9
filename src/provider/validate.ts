// A small interpreter for the subset of JSON Schema that providers/schema.json uses, so the schema
// file published for editors is also the one source of truth for validation. (A full validator such
// as ajv compiles code at start-up, which costs more than every other start-up step together.)

export interface SchemaNode {
  type?: 'object' | 'array' | 'string' | 'boolean' | 'number' | 'integer';
  properties?: Record<string, SchemaNode>;
  required?: string[];
  additionalProperties?: boolean | SchemaNode;
  items?: SchemaNode;
  enum?: unknown[];
  pattern?: string;
  minLength?: number;
  minItems?: number;
  format?: 'https-url';
  description?: string;
}

export interface ValidationProblem {
  /** JSON path of the problem, e.g. `$.oauth2.token_url`. */
  path: string;
  message: string;
}

export interface ValidateOptions {
  /** Skip `required` checks: used for user files that override only some fields of a bundled one. */
  partial?: boolean;
}

/** Returns every problem found (empty when valid), in document order. */
export function validate(value: unknown, schema: SchemaNode, options: ValidateOptions = {}, path = '$'): ValidationProblem[] {
  const problems: ValidationProblem[] = [];
  const actual = typeName(value);
  if (schema.type && !typeMatches(schema.type, value)) {
    problems.push({ path, message: `expected ${article(schema.type)}, got ${actual} ${preview(value)}` });
    return problems;
  }
  if (schema.enum && !schema.enum.includes(value)) {
    problems.push({ path, message: `expected one of ${schema.enum.map((v) => JSON.stringify(v)).join(', ')}, got ${preview(value)}` });
  }
  if (typeof value === 'string') {
    if (schema.minLength !== undefined && value.length < schema.minLength) {
      problems.push({ path, message: 'must not be empty' });
    }
    if (schema.pattern && !new RegExp(schema.pattern).test(value)) {
      problems.push({ path, message: `${preview(value)} does not match the pattern ${schema.pattern}` });
    }
    if (schema.format === 'https-url' && !isHttpsUrl(value)) {
      problems.push({ path, message: `expected an https:// URL, got ${preview(value)}` });
    }
  }
  if (Array.isArray(value)) {
    if (schema.minItems !== undefined && value.length < schema.minItems) {
      problems.push({ path, message: `expected at least ${schema.minItems} item(s), got ${value.length}` });
    }
    if (schema.items) {
      value.forEach((item, i) => problems.push(...validate(item, schema.items!, options, `${path}[${i}]`)));
    }
  }
  if (actual === 'object') {
    const object = value as Record<string, unknown>;
    for (const [key, child] of Object.entries(object)) {
      const childPath = `${path}.${key}`;
      const known = schema.properties?.[key];
      if (known) {
        problems.push(...validate(child, known, options, childPath));
      } else if (schema.additionalProperties === false) {
        const hint = closest(key, Object.keys(schema.properties ?? {}));
        problems.push({ path: childPath, message: `is not a known field${hint ? ` (did you mean "${hint}"?)` : ''}` });
      } else if (typeof schema.additionalProperties === 'object') {
        problems.push(...validate(child, schema.additionalProperties, options, childPath));
      }
    }
    // Missing fields come after problems with fields that are there: those are the more specific.
    if (!options.partial) {
      for (const key of schema.required ?? []) {
        if (!Object.hasOwn(object, key)) problems.push({ path: `${path}.${key}`, message: 'is required but missing' });
      }
    }
  }
  return problems;
}

function typeMatches(type: NonNullable<SchemaNode['type']>, value: unknown): boolean {
  switch (type) {
    case 'object':
      return typeName(value) === 'object';
    case 'array':
      return Array.isArray(value);
    case 'integer':
      return Number.isInteger(value);
    default:
      return typeof value === type;
  }
}

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

function article(type: string): string {
  return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`;
}

function preview(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function isHttpsUrl(value: string): boolean {
  try {
    return new URL(value).protocol === 'https:';
  } catch {
    return false;
  }
}

/** The known name nearest to a typo (edit distance ≤ 2), for "did you mean" hints. */
export function closest(name: string, candidates: string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of candidates) {
    const d = distance(name, candidate);
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}

function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let previous = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const current = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1));
      previous = current;
    }
  }
  return row[b.length];
}
