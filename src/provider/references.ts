// Checks the schema cannot express: names in one part of a provider file that must exist in
// another (default and tool scopes in the scope list, a deprecated tool's replacement among the tools). A scope a provider does not list is a typo that would otherwise surface only as a
// consent page error (or, worse, a silently narrower grant).
import { closest, type ValidationProblem } from './validate.js';

/** Problems with references inside a (merged, complete) definition; defensive about shapes. */
export function checkReferences(data: unknown): ValidationProblem[] {
  const problems: ValidationProblem[] = [];
  const oauth2 = field(data, 'oauth2');
  const scopes = field(oauth2, 'scopes');
  checkReplacements(field(data, 'tools'), problems);
  // Without a scope list there is nothing to check against: the provider accepts what it accepts.
  if (!isObject(scopes)) return problems;
  const known = Object.keys(scopes);
  const checkList = (list: unknown, path: string) => {
    if (!Array.isArray(list)) return;
    list.forEach((scope, i) => {
      if (typeof scope !== 'string' || Object.hasOwn(scopes, scope)) return;
      const hint = closest(scope, known);
      problems.push({
        path: `${path}[${i}]`,
        message: `${JSON.stringify(scope)} is not in $.oauth2.scopes${hint ? ` (did you mean "${hint}"?)` : ''}`,
      });
    });
  };
  checkList(field(oauth2, 'default_scopes'), '$.oauth2.default_scopes');
  const tools = field(data, 'tools');
  if (isObject(tools)) {
    for (const [name, tool] of Object.entries(tools)) {
      const at = `$.tools.${name}`;
      checkList(field(tool, 'scopes'), `${at}.scopes`);
      const optional = field(tool, 'optional_scopes');
      if (isObject(optional)) {
        for (const scope of Object.keys(optional)) {
          if (Object.hasOwn(scopes, scope)) continue;
          const hint = closest(scope, known);
          problems.push({
            path: `${at}.optional_scopes.${scope}`,
            message: `is not in $.oauth2.scopes${hint ? ` (did you mean "${hint}"?)` : ''}`,
          });
        }
      }
      const rules = field(tool, 'auth_when');
      if (Array.isArray(rules)) rules.forEach((rule, i) => checkList(field(rule, 'scopes'), `${at}.auth_when[${i}].scopes`));
    }
  }
  return problems;
}

/** A deprecated tool's `replaced_by` must name a tool of the same provider. */
function checkReplacements(tools: unknown, problems: ValidationProblem[]): void {
  if (!isObject(tools)) return;
  const names = Object.keys(tools);
  for (const [name, tool] of Object.entries(tools)) {
    const replacement = field(field(tool, 'deprecated'), 'replaced_by');
    if (typeof replacement !== 'string' || Object.hasOwn(tools, replacement)) continue;
    const hint = closest(replacement, names);
    problems.push({
      path: `$.tools.${name}.deprecated.replaced_by`,
      message: `${JSON.stringify(replacement)} is not a tool of this provider${hint ? ` (did you mean "${hint}"?)` : ''}`,
    });
  }
}

function field(value: unknown, key: string): unknown {
  return isObject(value) && Object.hasOwn(value, key) ? value[key] : undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
