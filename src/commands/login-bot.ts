// keygate login <provider> --bot [--connection <name>] [--force]: the bot token comes from
// $DISCORD_BOT_TOKEN (the provider's bot.placeholder_env) or a hidden prompt, never from argv.
import { KeygateError, UsageError } from '../errors.js';
import { botDefinition, loginBot } from '../bot/login.js';
import { getProvider } from '../provider/index.js';
import { openStore } from '../store/index.js';
import type { CommandIO } from './io.js';
import type { LoginCommandOptions } from './login.js';

export async function main(providerName: string, options: LoginCommandOptions, io: CommandIO): Promise<void> {
  if (options.scopes !== undefined || options.forTools !== undefined)
    throw new UsageError('--scopes and --for-tools do not apply to --bot', {
      hint: 'a bot token has no scopes; its permissions are chosen with `keygate install --permissions`',
    });
  const provider = await getProvider(providerName);
  const bot = botDefinition(provider);
  const connection = options.connection ?? bot.default_connection;
  const token = await readToken(bot.placeholder_env, io);
  const vault = await openStore();
  const record = await loginBot(provider, vault, { connection, token, force: options.force });
  const app = record.application ? ` of ${record.application.name} (${record.application.id})` : '';
  io.stdout(`Connected ${record.provider}/${record.connection} as ${record.account?.name ?? '?'}, the bot${app}\n`);
  io.stdout(
    `Add it to a server with \`keygate install ${provider.name}${connection === bot.default_connection ? '' : ` --connection ${connection}`}\`\n`,
  );
}

async function readToken(variable: string, io: CommandIO): Promise<string> {
  const fromEnv = io.env[variable];
  if (fromEnv !== undefined && fromEnv.trim() !== '') return fromEnv;
  if (!io.stdinIsTTY) {
    throw new KeygateError('no bot token to log in with', {
      hint: `set ${variable} (Developer Portal → your app → Bot → Reset Token), or run in a terminal to be asked`,
    });
  }
  const { password } = await import('@inquirer/prompts');
  return password({ message: 'Bot token (hidden; Developer Portal → Bot → Reset Token):', mask: false });
}
