// keygate scopes <provider> --for-tools <a,b,...> [--json]
import { getProvider } from '../provider/index.js';
import { planScopes } from '../tools/index.js';
import type { CommandIO } from './io.js';
import { table } from './format.js';

export async function main(providerName: string, options: { forTools: string; json?: boolean }, io: CommandIO): Promise<void> {
  const provider = await getProvider(providerName);
  const plan = planScopes(provider, splitList(options.forTools));
  if (options.json) {
    io.stdout(`${JSON.stringify(plan, null, 2)}\n`);
    return;
  }
  if (plan.scopes.length) {
    io.stdout(`Scopes for ${plan.tools.join(', ')}: ${plan.scopes.join(' ')}\n\n`);
    io.stdout(
      table(
        ['SCOPE', 'NEEDED BY'],
        plan.scopes.map((s) => [s, plan.needed_by[s].join(', ')]),
      ),
    );
  } else {
    io.stdout(`${plan.tools.join(', ')} need${plan.tools.length === 1 ? 's' : ''} no scope.\n`);
  }
  if (plan.no_token.length) io.stdout(`\nNo token needed: ${plan.no_token.join(', ')}\n`);
  if (plan.bot.length)
    io.stdout(`\nA bot connection (\`keygate login ${provider.name} --bot\`) is needed for some calls of: ${plan.bot.join(', ')}\n`);
  const extra = plan.account_scopes.filter((s) => !plan.scopes.includes(s));
  io.stdout(
    `\n\`keygate login ${provider.name} --for-tools ${plan.tools.join(',')}\` requests: ${plan.login_scopes.join(' ') || '(no scopes)'}` +
      `${extra.length ? ` (${extra.join(', ')}: for keygate to name the account)` : ''}\n`,
  );
}

export function splitList(value: string): string[] {
  return value.split(/[,\s]+/).filter(Boolean);
}
