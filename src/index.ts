/**
 * keygate as a library: `openKeygate()` over one KEYGATE_HOME, the same operations as the CLI
 * (which is a client of this API), and the closed set of errors it throws.
 *
 * @packageDocumentation
 */
export { openKeygate, Keygate } from './api/keygate.js';
export type {
  CallOptions,
  CallResult,
  Connection,
  ConnectionStatus,
  JsonSchema,
  KeygateOptions,
  LoggedIn,
  LoginOptions,
  LoginSession,
  RunOptions,
  RunningCommand,
  StatusValue,
  StoreInfo,
  ToolCatalog,
  ToolInfo,
  UnreadableConnection,
} from './api/types.js';
export type { Tool, Parameter, ToolAuth } from './tools/catalogue.js';
export {
  KeygateError,
  UsageError,
  ConnectionNotFoundError,
  ProviderError,
  CredentialError,
  InterruptedError,
  VaultError,
  StoreUnavailableError,
  ProviderRequestError,
  ExitCode,
  formatError,
  type ErrorCode,
  type ErrorOptions,
} from './errors.js';
