// keygate vault reset [--yes]: set the vault aside and start a fresh one (confirmed; nothing deleted).
import { InterruptedError, UsageError } from '../errors.js';
import { checkHome, keygateHome } from '../home.js';
import { loginCommand } from '../connection/hints.js';
import { planReset, setVaultAside } from '../vault/reset.js';
import { storeSetting } from '../store/index.js';
import type { CommandIO } from './io.js';

export async function reset(options: { yes?: boolean }, io: CommandIO): Promise<void> {
  if (storeSetting({ env: io.env }) !== 'files') {
    throw new UsageError('vault reset works on the local file vault, and KEYGATE_STORE names another store', {
      hint: 'unset KEYGATE_STORE to reset the local vault',
    });
  }
  const home = keygateHome(io.env);
  checkHome(home);
  const plan = await planReset(home);
  if (!plan.exists) {
    io.stdout(`No vault in ${home}: nothing to reset. The first login creates one.\n`);
    return;
  }
  const count = `${plan.connections.length} connection${plan.connections.length === 1 ? '' : 's'}`;
  if (!options.yes) {
    if (!io.stdinIsTTY) {
      throw new UsageError(`vault reset sets ${plan.vaultDir} aside (${count} will need a new login) and needs confirmation`, {
        hint: 'run `keygate vault reset --yes`',
      });
    }
    const { confirm } = await import('@inquirer/prompts');
    let yes: boolean;
    try {
      yes = await confirm({
        message: `Set the vault in ${plan.vaultDir} aside and start a fresh one? ${count} will need a new login.`,
        default: false,
      });
    } catch (err) {
      if ((err as Error)?.name === 'ExitPromptError') throw new InterruptedError('interrupted', { cause: err });
      throw err;
    }
    if (!yes) {
      io.stdout('Nothing changed.\n');
      return;
    }
  }
  const aside = await setVaultAside(home);
  io.stdout(`Set the old vault aside in ${aside} (nothing was deleted; remove it yourself once you are sure).\n`);
  io.stdout('A fresh vault is created on next use.\n');
  if (plan.connections.length > 0) {
    io.stdout(
      `Log in again (client credentials come from the environment or a prompt):\n${plan.connections.map((c) => `  ${loginCommand(c.provider, c.connection)}\n`).join('')}`,
    );
  }
}
