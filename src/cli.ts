// The command table. Each command's code is imported only when that command runs, so start-up
// stays close to `node -e 0`. This file is also the one error boundary: commands throw, main()
// prints one line and sets the exit code.
import fs from 'node:fs';
import path from 'node:path';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { ExitCode, InterruptedError, UsageError, exitCodeOf, formatError } from './errors.js';
import { packageRoot } from './home.js';
import { processIO } from './commands/io.js';

export const CONNECTION_NAME = /^[a-z0-9][a-z0-9_-]{0,63}$/;

function connectionName(value: string): string {
  if (!CONNECTION_NAME.test(value)) {
    throw new InvalidArgumentError(`\`${value}\` is not a valid connection name (use lowercase letters, digits, - and _; at most 64)`);
  }
  return value;
}

function port(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || n > 65535) throw new InvalidArgumentError(`expected a port number 1-65535, got \`${value}\``);
  return n;
}

function positiveSeconds(value: string): number {
  const n = Number(value);
  if (!/^\d+(\.\d+)?$/.test(value) || n <= 0) throw new InvalidArgumentError(`expected a positive number of seconds, got \`${value}\``);
  return n;
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1) throw new InvalidArgumentError(`expected a positive integer, got \`${value}\``);
  return n;
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

function version(): string {
  const pkg = JSON.parse(fs.readFileSync(path.join(packageRoot, 'package.json'), 'utf8')) as { version: string };
  return pkg.version;
}

/** Runs a command module's main and turns a returned number into the process exit code. */
async function dispatch(load: () => Promise<{ main: (...args: never[]) => Promise<unknown> }>, ...args: unknown[]): Promise<void> {
  const module = await load();
  const result = await (module.main as (...a: unknown[]) => Promise<unknown>)(...args, processIO());
  if (typeof result === 'number') process.exitCode = result;
}

export function buildProgram(): Command {
  const program = new Command('keygate');
  program
    .description(
      'Credentials for AI agents: OAuth login, an encrypted local vault, and a proxy that injects tokens so agents never hold them.',
    )
    .version(version(), '-V, --version', 'print the version')
    .helpOption('-h, --help', 'show help')
    .enablePositionalOptions()
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({ outputError: () => {} });

  program
    .command('login')
    .description('connect an account: OAuth2 authorization code flow with PKCE on a loopback callback')
    .argument('<provider>', 'provider name, e.g. discord')
    .option('--connection <name>', 'name of this connection (default: default; with --bot: bot)', connectionName)
    .option('--bot', 'store a bot token instead (read from $DISCORD_BOT_TOKEN or a hidden prompt, never a flag)')
    .option('--scopes <a,b,...>', "scopes to request instead of the provider's defaults")
    .option(
      '--for-tools <a,b,...>',
      'request exactly the scopes these tools need, plus what keygate needs to name the account (Discord: identify); not with --scopes',
    )
    .option('--port <n>', 'port of the callback server on 127.0.0.1 (default: setting login.port, 7998)', port)
    .option('--browser', 'open a browser (default: setting login.open_browser, true)')
    .option('--no-browser', 'do not open a browser (the BROWSER command, else the system opener); just print the URL')
    .option('--timeout <seconds>', 'how long to wait for the browser (default: setting login.timeout, 300)', positiveSeconds)
    .option('--force', 'replace an existing connected connection')
    .addHelpText('after', '\nSee which scopes --for-tools requests, and why: keygate scopes <provider> --for-tools <a,b,...>')
    .action((provider, options) => dispatch(() => import('./commands/login.js'), provider, options));

  program
    .command('install')
    .description("add a bot connection's bot to a server: the install consent, on the same loopback callback as login")
    .argument('<provider>', 'provider name, e.g. discord')
    .option('--connection <name>', 'the bot connection (default: bot)', connectionName)
    .option('--guild <id>', 'preselect this server and lock the choice')
    .option('--permissions <n>', 'permission integer to request (e.g. 2048: Send Messages)', '0')
    .option('--port <n>', 'port of the callback server on 127.0.0.1 (default: setting login.port, 7998)', port)
    .option('--browser', 'open a browser (default: setting login.open_browser, true)')
    .option('--no-browser', 'do not open a browser; just print the URL')
    .option('--timeout <seconds>', 'how long to wait for the browser (default: setting login.timeout, 300)', positiveSeconds)
    .action((provider, options) => dispatch(() => import('./commands/install.js'), provider, options));

  program
    .command('logout')
    .description('revoke the connection at the provider and delete it locally (kept if the revocation fails)')
    .argument('<provider>', 'provider name')
    .option('--connection <name>', 'connection name', connectionName, 'default')
    .option('--forget', 'delete the connection here even if the provider cannot be reached to revoke it')
    .action((provider, options) => dispatch(() => import('./commands/logout.js'), provider, options));

  program
    .command('list')
    .description('list every connection with its status, account, scopes and expiry')
    .option('--json', 'print one JSON document')
    .action((options) => dispatch(() => import('./commands/list.js'), options));

  program
    .command('get')
    .description('print a connection, or one field of it, from its stored metadata without decrypting it (`status` checks it)')
    .argument('<provider>', 'provider name')
    .option('--connection <name>', 'connection name', connectionName, 'default')
    .addOption(
      new Option('--field <name>', 'print one bare value').choices([
        'status',
        'provider',
        'connection',
        'scopes',
        'expires_at',
        'account_id',
        'account_name',
        'created_at',
        'refreshed_at',
        'kind',
        'application_id',
        'access_token',
        'refresh_token',
      ]),
    )
    .option('--json', 'print every non-secret field as JSON')
    .option('--reveal', 'allow printing access_token / refresh_token (refreshes first if needed)')
    .addHelpText(
      'after',
      `
get reads the stored status without decrypting the record or asking the
provider: it is fast, but a tampered record still shows its stored status
(--json says "verified": false). \`keygate status\` decrypts and checks live.
--field status prints not_connected when the connection does not exist.`,
    )
    .action((provider, options) => dispatch(() => import('./commands/get.js'), provider, options));

  program
    .command('status')
    .description('live health check of connections against the provider (exit 5 if one is expired or revoked)')
    .argument('[provider]', 'only this provider')
    .option('--connection <name>', 'only this connection', connectionName)
    .option('--json', 'print one JSON document')
    .action((provider, options) => dispatch(() => import('./commands/status.js'), provider, options));

  const vault = program.command('vault').description('manage the vault itself');
  vault
    .command('reset')
    .description('set the vault aside (renamed, never deleted) and start a fresh one, e.g. after losing the master key')
    .option('--yes', 'do not ask for confirmation (needed without a terminal)')
    .action((options) => dispatch(() => import('./commands/vault.js').then((m) => ({ main: m.reset })), options));

  program
    .command('doctor')
    .description('check set-up, client credentials, redirect URI, clock and every connection, each with its fix (exit 1 if one fails)')
    .argument('[provider]', 'only this provider (default: every provider with a connection or client credentials)')
    .option('--connection <name>', 'only this connection', connectionName)
    .option('--port <n>', 'the login callback port to check and build the redirect URI from', port, 7998)
    .option('--json', 'print one JSON document')
    .action((provider, options) => dispatch(() => import('./commands/doctor.js'), provider, options));

  program
    .command('run')
    .description('run a command behind a proxy that injects credentials; the command sees only placeholders')
    .argument('<command...>', 'the command to run, after --')
    .option(
      '--connection <provider/name>',
      'use this connection (repeatable); default: the default connection of each connected provider',
      collect,
    )
    .option('--verbose', 'print each proxied provider request to stderr')
    .option('--allow-nested', 'allow running inside another keygate run')
    .option('--sandbox', 'require the sandbox: fail if it cannot be made')
    .option('--no-sandbox', 'run the command without the sandbox (it can then read the vault and keygate itself)')
    .passThroughOptions()
    .addHelpText(
      'after',
      `
The command gets one placeholder variable per credential, never the token:
  DISCORD_ACCESS_TOKEN        discord/default (a user login)
  DISCORD_ACCESS_TOKEN_WORK   discord/work (with --connection discord/work)
  DISCORD_BOT_TOKEN           discord/bot (a bot, from login --bot)
On requests to the provider's API hosts, the proxy replaces a placeholder in
Authorization with the real token: "Bearer <user token>", "Bot <bot token>"
(a placeholder sent with the other kind's scheme is refused). A request with
no Authorization header gets the only credential of the run, else the
default user connection's, else it is refused. With a bot connection, the
Discord gateway WebSocket is relayed and the placeholder replaced in its
IDENTIFY/RESUME payloads (discord.js bots work as they are). Other hosts are
tunnelled untouched.

On Linux the command runs in a bubblewrap sandbox: the files, the network and
the terminal are as usual, but KEYGATE_HOME, keygate's own process and the
keychain are out of its reach. Without bwrap, run says so in one line.

Example:
  keygate run -- python agent.py
  keygate run --connection discord/work -- node agent.mjs`,
    )
    .action((command, options) => dispatch(() => import('./commands/run.js'), command, options));

  program
    .command('log')
    .description('show the log of requests the proxy made to provider hosts (never credentials)')
    .option('--json', 'print one JSON document')
    .option('--limit <n>', 'show the last n entries', positiveInt, 50)
    .action((options) => dispatch(() => import('./commands/log.js'), options));

  const tools = program.command('tools').description("list and describe a provider's tools (named API calls for `keygate call` and MCP)");
  tools
    .command('list')
    .description("list tools with the scopes each needs and whether the connection's granted scopes cover it")
    .argument('[provider]', 'only this provider')
    .option('--connection <name>', 'check coverage against this connection', connectionName, 'default')
    .option('--json', 'print one JSON document')
    .action((provider, options) => dispatch(() => import('./commands/tools.js').then((m) => ({ main: m.list })), provider, options));
  tools
    .command('describe')
    .description("show a tool's request, auth, scopes and parameter schema")
    .argument('<provider>', 'provider name')
    .argument('<tool>', 'tool name')
    .option('--json', 'print one JSON document (with the input JSON Schema)')
    .action((provider, tool, options) =>
      dispatch(() => import('./commands/tools.js').then((m) => ({ main: m.describe })), provider, tool, options),
    );

  program
    .command('call')
    .description('call one tool with validated parameters, through the vault, refresh and revocation path of the proxy')
    .argument('<provider>', 'provider name, e.g. discord')
    .argument('<tool>', 'tool name (see `keygate tools list`)')
    .option(
      '--connection <name>',
      'connection name (default: default; for a tool that needs a bot token, the bot connection: bot)',
      connectionName,
    )
    .option('--param <key=value>', 'a parameter (repeatable; a list takes a,b,c)', collect)
    .option('--input <json|->', 'parameters as a JSON object, or - to read it from stdin')
    .option('--output <file>', 'write the answer (JSON or an image) to this file')
    .option('--json', 'print {tool, status, body} (or the written file, for an image)')
    .addHelpText(
      'after',
      `
Parameters and scopes are checked before anything is sent: a bad parameter exits 2, a scope the
connection lacks exits 5 with the login command that adds it. JSON answers go to stdout; an image
goes to --output, or to stdout when it is not a terminal.

Examples:
  keygate call discord get_my_user
  keygate call discord list_my_guilds --param limit=5 --param with_counts=true
  keygate call discord get_guild_widget_png --param guild_id=81384788765712384 --output widget.png`,
    )
    .action((provider, tool, options) => dispatch(() => import('./commands/call.js'), provider, tool, options));

  program
    .command('mcp')
    .description('serve the tools as an MCP server over stdio (tokens never reach the agent), or print a client config')
    .option('--connection <provider/name>', 'serve this connection (repeatable); default: every connected connection', collect)
    .option('--tools <a,b,...>', 'expose only these tools (get_my_user or discord_get_my_user)')
    .option('--print-config', "print the JSON to paste into an MCP client's configuration, then exit")
    .addOption(new Option('--client <name>', 'with --print-config: the client').choices(['claude', 'cursor', 'vscode']).default('claude'))
    .addHelpText(
      'after',
      `
Tools are named <provider>_<tool> (discord_get_my_user); with two connections of one
provider, each name ends in _<connection>. keygate_status lists the connections.
A call that cannot succeed (missing scope, revoked, bad arguments) returns an
error result with the fix, and sends nothing upstream. Logs go to stderr.

Examples:
  keygate mcp --print-config --client vscode
  keygate mcp --connection discord/work --tools get_my_user,list_my_guilds`,
    )
    .action((options) => dispatch(() => import('./commands/mcp.js'), options, version()));

  program
    .command('scopes')
    .description('plan scopes from tools: the smallest set, and which tool needs each scope')
    .argument('<provider>', 'provider name')
    .requiredOption('--for-tools <a,b,...>', 'the tools you will call')
    .option('--json', 'print one JSON document')
    .action((provider, options) => dispatch(() => import('./commands/scopes.js'), provider, options));

  const providers = program.command('providers').description('list, inspect, validate and start provider definitions');
  providers
    .command('list')
    .description(
      'list providers: name, display name, source (bundled or custom), auth type; a broken file is marked with its first problem',
    )
    .option('--json', 'print one JSON document (adds the files each provider is made of)')
    .action((options) => dispatch(() => import('./commands/providers.js').then((m) => ({ main: m.list })), options));
  providers
    .command('inspect')
    .description('print the effective (merged) definition as a provider file you can save and edit')
    .argument('<name>', 'provider name')
    .option('--json', 'wrap it with its provenance: source (bundled or custom) and files')
    .addHelpText(
      'after',
      '\nOverride a bundled provider:\n  keygate providers inspect discord > "$KEYGATE_HOME/providers/discord.json"   # then edit it',
    )
    .action((name, options) => dispatch(() => import('./commands/providers.js').then((m) => ({ main: m.inspect })), name, options));
  providers
    .command('validate')
    .description('check a provider file: every problem, one per line with its JSON path (exit 4 if any)')
    .argument('<file>', 'path to the file')
    .option('--json', 'print one JSON document')
    .action((file, options) => dispatch(() => import('./commands/providers.js').then((m) => ({ main: m.validateFile })), file, options));
  providers
    .command('init')
    .description('write a starting file for a new provider in $KEYGATE_HOME/providers/, with "$schema" for editor help')
    .argument('<name>', 'name of the new provider (the file name)')
    .option('--force', 'replace an existing file')
    .action((name, options) => dispatch(() => import('./commands/providers.js').then((m) => ({ main: m.init })), name, options));
  providers
    .command('trust')
    .description("approve the provider file's API hosts and path prefix for its connections (shows the change)")
    .argument('<name>', 'provider name')
    .action((name) => dispatch(() => import('./commands/providers-trust.js'), name));

  const config = program
    .command('config')
    .description('user settings (flag > environment > config file > default); never secrets')
    .addHelpText(
      'after',
      `
Settings (environment variable in brackets):
  login.port          [KEYGATE_LOGIN_PORT]          callback port, default 7998
  login.open_browser  [KEYGATE_LOGIN_OPEN_BROWSER]  true or false, default true
  login.timeout       [KEYGATE_LOGIN_TIMEOUT]       seconds, default 300
  run.sandbox         [KEYGATE_RUN_SANDBOX]         auto, require or off, default auto
  refresh.margin      [KEYGATE_REFRESH_MARGIN]      seconds before expiry, or auto (default)
  log.retention_days  [KEYGATE_LOG_RETENTION_DAYS]  days of request log, 0 for none, default 30`,
    );
  const configAction =
    (name: string) =>
    (...args: unknown[]) =>
      dispatch(() => import('./commands/config.js').then((m) => ({ main: m[name as 'list'] })), ...args.slice(0, -1));
  config
    .command('list')
    .description('every setting with its value and where it comes from')
    .option('--json', 'print one JSON document')
    .action(configAction('list'));
  config
    .command('get')
    .description('print the effective value of a setting')
    .argument('<key>', 'e.g. login.port')
    .option('--json', 'print one JSON document')
    .action(configAction('get'));
  config
    .command('set')
    .description('store a setting in the config file')
    .argument('<key>', 'e.g. login.port')
    .argument('<value>', 'e.g. 8000')
    .option('--json', 'print one JSON document')
    .action(configAction('set'));
  config
    .command('unset')
    .description('remove a setting from the config file (back to the default)')
    .argument('<key>', 'e.g. login.port')
    .option('--json', 'print one JSON document')
    .action(configAction('unset'));
  config
    .command('path')
    .description('print where the config file is (under KEYGATE_HOME)')
    .option('--json', 'print one JSON document')
    .action(configAction('path'));

  const store = program
    .command('store')
    .description('where connections are kept: the local vault, or a PostgreSQL database shared by several hosts');
  store
    .command('migrate')
    .description('move every connection to another store, without logging in again')
    .requiredOption('--to <files|postgres://...>', 'the destination: `files` (the vault under KEYGATE_HOME) or a postgres:// URL')
    .addHelpText(
      'after',
      `
The source is the store in use (KEYGATE_STORE, default files). Each connection is
frozen in the source, copied, then removed from the source, so it is never live in
both with diverging refresh tokens; an interrupted run is finished by running it again.
A shared store's master key comes from KEYGATE_PASSPHRASE or KEYGATE_KEY_FILE.

Example:
  KEYGATE_PASSPHRASE=... keygate store migrate --to postgres://keygate@db.internal/keygate
  KEYGATE_STORE=postgres://keygate@db.internal/keygate keygate store migrate --to files`,
    )
    .action((options) => dispatch(() => import('./commands/store.js'), options));

  program
    .command('demo')
    .description('the whole product offline: log in to a local Discord emulator and run an agent through the proxy')
    .action(() => dispatch(() => import('./commands/demo.js')));

  program
    .command('emulator')
    .description('start the local Discord emulator in the foreground (for trying keygate offline)')
    .option('--port <n>', 'HTTPS port on 127.0.0.1 (default: the last one used in --dir, else random)', port)
    .option('--dir <path>', 'directory for its CA and state (apps, redirect URIs, tokens), kept across restarts (default: a temp dir)')
    .option('--redirect-uri <uri>', "register a redirect URI for the demo app (repeatable), e.g. login --port 8000's", collect)
    .option('--token-lifetime <seconds>', 'access token lifetime in whole seconds', positiveInt)
    .option('--env', 'print the export lines for the emulator in --dir and exit: eval "$(keygate emulator --dir <path> --env)"')
    .option('--auto-approve', 'approve authorize requests at once as alice, without the consent page (scripts)')
    .action((options) => dispatch(() => import('./commands/emulator.js'), options));

  return program;
}

/** Commander's own errors become UsageError (exit 2) with our one-line format. */
function fromCommander(err: CommanderError, program: Command): UsageError | undefined {
  if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version') return undefined;
  if (err.code === 'commander.help') {
    // A command group without its subcommand: commander has printed the group's help to stderr.
    process.exitCode = ExitCode.usage;
    return undefined;
  }
  const message = err.message.replace(/^error: /, '').replace(/\n/g, ' ');
  const name = program.args.find((a) => !a.startsWith('-'));
  const where = name && program.commands.some((c) => c.name() === name) ? `keygate ${name} --help` : 'keygate --help';
  return new UsageError(message, { hint: `see \`${where}\``, cause: err });
}

export async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
  try {
    if (argv.length === 0) {
      program.outputHelp();
      return;
    }
    await program.parseAsync(argv, { from: 'user' });
  } catch (err) {
    const error = err instanceof CommanderError ? fromCommander(err, program) : err;
    if (error === undefined) return;
    if (error instanceof InterruptedError) {
      process.exitCode = error.exitCode;
      return;
    }
    process.stderr.write(`${formatError(error)}\n`);
    if (process.env.KEYGATE_DEBUG === '1' && error instanceof Error) process.stderr.write(`${error.stack}\n`);
    process.exitCode = exitCodeOf(error);
  }
}
