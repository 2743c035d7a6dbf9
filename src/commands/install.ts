// keygate install <provider> [--connection <bot connection>] [--guild <id>] [--permissions <n>]
//                            [--port <n>] [--no-browser] [--timeout <seconds>]
import { installBot } from '../bot/install.js';
import { setting } from '../config/index.js';
import { botDefinition } from '../bot/login.js';
import { getProvider } from '../provider/index.js';
import { openStore } from '../store/index.js';
import type { CommandIO } from './io.js';
import { openBrowser } from './login.js';

interface InstallCommandOptions {
  connection?: string;
  guild?: string;
  permissions: string;
  /** Undefined when the flag was not given: then the login.* setting decides, as for login. */
  port?: number;
  browser?: boolean;
  timeout?: number;
}

export async function main(providerName: string, flags: InstallCommandOptions, io: CommandIO): Promise<void> {
  const options = {
    ...flags,
    port: setting('login.port', { flag: flags.port, env: io.env }),
    browser: setting('login.open_browser', { flag: flags.browser, env: io.env }),
    timeout: setting('login.timeout', { flag: flags.timeout, env: io.env }),
  };
  const provider = await getProvider(providerName);
  const connection = options.connection ?? botDefinition(provider).default_connection;
  const vault = await openStore();
  const { record, installation } = await installBot(provider, vault, {
    connection,
    guild: options.guild,
    permissions: options.permissions,
    port: options.port,
    timeoutSeconds: options.timeout,
    env: io.env,
    interactive: io.stdinIsTTY,
    say: (line) => io.stdout(`${line}\n`),
    onAuthorizeUrl: async (url) => {
      if (options.browser) await openBrowser(url, io);
    },
  });
  io.stdout(
    `Installed ${record.provider}/${record.connection} (${record.account?.name ?? 'bot'}) in ${installation.guild_name} (${installation.guild_id}) with permissions ${installation.permissions}\n`,
  );
}
