// Checks the schema cannot express: names in one part of a provider file that must exist in
// another. A scope a provider does not list is a typo that would otherwise surface only as a
// consent page error (or, worse, a silently narrower grant).
import { closest, type ValidationProblem } from './validate.js';

/** Problems with references inside a (merged, complete) definition; defensive about shapes. */
export function checkReferences(data: unknown): ValidationProblem[] {
  const problems: ValidationProblem[] = [];
  const oauth2 = field(data, 'oauth2');
  const scopes = field(oauth2, 'scopes');
  // Without a scope list there is nothing to check against: the provider accepts what it accepts.
  if (!isObject(scopes)) return problems;
  const known = Object.keys(scopes);
  const checkList = (list: unknown, path: string) => {
    if (!Array.isArray(list)) return;
    list.forEach((scope, i) => {
      if (typeof scope !== 'string' || Object.hasOwn(scopes, scope)) return;
      const hint = closest(scope, known);
      problems.push({ path: `${path}[${i}]`, message: `${JSON.stringify(scope)} is not in $.oauth2.scopes${hint ? ` (did you mean "${hint}"?)` : ''}` });
    });
  };
  checkList(field(oauth2, 'default_scopes'), '$.oauth2.default_scopes');
  return problems;
}

function field(value: unknown, key: string): unknown {
  return isObject(value) && Object.hasOwn(value, key) ? value[key] : undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
