// A consumer of the packed `keygate`, compiled with `tsc --strict` in a temporary project that
// installs the tarball (test/package/library.test.ts). It imports the package by name, so through
// its `exports` and `.d.ts`, uses every export, and prints what it saw as one JSON line for the test.
import {
  ConnectionNotFoundError,
  CredentialError,
  ExitCode,
  InterruptedError,
  Keygate,
  KeygateError,
  ProviderError,
  ProviderRequestError,
  StoreUnavailableError,
  UsageError,
  VaultError,
  formatError,
  openKeygate,
  type CallOptions,
  type CallResult,
  type Connection,
  type ConnectionStatus,
  type ErrorCode,
  type ErrorOptions,
  type JsonSchema,
  type KeygateOptions,
  type LoggedIn,
  type LoginOptions,
  type LoginSession,
  type Parameter,
  type RunOptions,
  type RunningCommand,
  type StatusValue,
  type StoreInfo,
  type Tool,
  type ToolAuth,
  type ToolCatalog,
  type ToolInfo,
  type UnreadableConnection,
} from 'keygate';
import pkg from 'keygate/package.json' with { type: 'json' };

const port = Number(process.env.CONSUMER_LOGIN_PORT);
const options: KeygateOptions = { env: process.env, stderr: (text) => process.stderr.write(text) };
const keygate: Keygate = openKeygate(options);

async function failure(work: () => Promise<unknown>): Promise<{ name: string; code: ErrorCode; exitCode: number; line: string }> {
  try {
    await work();
  } catch (err) {
    if (err instanceof KeygateError) return { name: err.name, code: err.code, exitCode: err.exitCode, line: formatError(err) };
    throw err;
  }
  throw new Error('expected a KeygateError');
}

const before: ConnectionStatus = await keygate.status('discord');
const beforeStatus: StatusValue = before.status;

const loginOptions: LoginOptions = { port, timeoutSeconds: 60, onProgress: (line) => process.stderr.write(`${line}\n`) };
const session: LoginSession = await keygate.login('discord', loginOptions);
// The test plays the browser once it sees this line.
process.stdout.write(`URL ${session.url}\n`);
const loggedIn: LoggedIn = await session.connection;

const connections: Array<Connection | UnreadableConnection> = await keygate.connections();
const one: Connection | undefined = await keygate.connection('discord');
const store: StoreInfo = await keygate.storeInfo();
const after: ConnectionStatus = await keygate.status('discord', 'default');
const all: ConnectionStatus[] = await keygate.statuses();

const tools: ToolInfo[] = await keygate.tools('discord');
const catalog: ToolCatalog = await keygate.toolCatalog('discord');
const getMyUser: ToolInfo = await keygate.tool('discord', 'get_my_user');
const definition: Tool = getMyUser.definition;
const auth: ToolAuth = definition.auth;
const params: Parameter[] = Object.values((await keygate.tool('discord', 'list_my_guilds')).definition.parameters);
const schema: JsonSchema = getMyUser.input_schema;
// What an LLM framework takes as a tool definition.
const llmTools = tools.map((t) => ({ name: t.name, description: t.description, input_schema: t.input_schema }));

const callOptions: CallOptions = { connection: 'default' };
const me: CallResult = await keygate.call('discord', 'get_my_user', {}, callOptions);
const guilds: CallResult = await keygate.call('discord', 'list_my_guilds', { limit: 2 });

const token: string = await keygate.revealAccessToken('discord');

// The child fetches the API with the placeholder it was given; the proxy swaps in the token.
const childScript = `
  const placeholder = process.env.DISCORD_ACCESS_TOKEN;
  const res = await fetch('https://discord.com/api/v10/users/@me', { headers: { authorization: 'Bearer ' + placeholder } });
  process.stdout.write(JSON.stringify({ placeholder, status: res.status, user: await res.json() }));
  process.exit(7);
`;
const runOptions: RunOptions = { connections: ['discord/default'], stdio: 'pipe', sandbox: 'auto' };
const running: RunningCommand = await keygate.run(process.execPath, ['--input-type=module', '-e', childScript], runOptions);
let childOut = '';
running.child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (childOut += chunk));
const childExit: number = await running.exit;

const errors = {
  usage: await failure(() => keygate.call('discord', 'no_such_tool', {})),
  badInput: await failure(() => keygate.call('discord', 'list_my_guilds', { limit: 'many' })),
  notConnected: await failure(() => keygate.revealAccessToken('discord', 'nobody')),
  provider: await failure(() => keygate.status('nosuchprovider')),
  relogin: await failure(() => keygate.login('discord', { port })),
};
const classes = [UsageError, ConnectionNotFoundError, ProviderError, CredentialError, InterruptedError, VaultError, StoreUnavailableError, ProviderRequestError].map((C) => {
  const errorOptions: ErrorOptions = { hint: 'do something' };
  const e = new C('example', errorOptions);
  return { name: e.name, code: e.code, exitCode: e.exitCode, keygateError: e instanceof KeygateError };
});

await keygate.close();

process.stdout.write(
  `REPORT ${JSON.stringify({
    version: pkg.version,
    home: keygate.home,
    beforeStatus,
    loggedIn,
    connections,
    one,
    store,
    after,
    all: all.length,
    tools: tools.length,
    llmTools: llmTools.length,
    catalog: { status: catalog.status, granted: catalog.granted_scopes, callable: catalog.tools.filter((t) => t.callable).map((t) => t.name) },
    getMyUser: { name: getMyUser.name, url: getMyUser.url, auth, schema },
    params: params.map((p) => p.in),
    me,
    guilds: guilds.kind === 'json' && Array.isArray(guilds.body) ? guilds.body.length : -1,
    token,
    child: { exit: childExit, pid: running.child.pid, output: JSON.parse(childOut) as unknown },
    errors,
    classes,
    exitCodes: ExitCode,
  })}\n`,
);
