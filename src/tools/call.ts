// One tool call through the same vault, refresh and revocation path as the proxy: parameters and
// scopes are checked first (nothing is sent when they fail), a 401 triggers one refresh and one
// replay, a short 429 is waited out once, 5xx and network failures of idempotent calls are retried
// with backoff, and other answers become errors that say what to do.
import { CredentialError, ProviderRequestError } from '../errors.js';
import { afterUnauthorized } from '../lifecycle/index.js';
import { networkReason, parseJson, request, type OutboundResponse } from '../net.js';
import type { ProviderDefinition } from '../provider/types.js';
import type { Vault } from '../vault/types.js';
import { getTool, type Tool } from './catalogue.js';
import { authorization, botLoginHint, selectCredential, unusable, type ToolCredential } from './credentials.js';
import { validateInput, type ToolInput } from './params.js';
import { pathIds, toolUrl } from './request.js';
import { requirementFor } from './scopes.js';

export type ToolResult =
  { kind: 'json'; status: number; body: unknown } | { kind: 'image'; status: number; bytes: Buffer; contentType: string };

export interface CallOptions {
  /** The user connection to use. Default `default`. */
  connection?: string;
  /** Default: the store KEYGATE_STORE names (the vault under KEYGATE_HOME), opened only when the tool needs a token. */
  vault?: Vault | (() => Promise<Vault>);
  /** The longest `retry_after` of a 429 that is waited out (once). Default 5000 ms. */
  maxRateLimitWaitMs?: number;
  /** Retries of 5xx answers and network failures for GET. Default 2. */
  retries?: number;
  /** Told before each wait (rate limit, backoff): for a progress line on stderr. */
  onWait?: (reason: string, ms: number) => void;
  signal?: AbortSignal;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function callTool(
  provider: ProviderDefinition,
  toolName: string | Tool,
  input: unknown,
  options: CallOptions = {},
): Promise<ToolResult> {
  const tool = typeof toolName === 'string' ? getTool(provider, toolName) : toolName;
  const params = validateInput(tool, input);
  const url = toolUrl(provider, tool, params);
  // A store opened here is closed here (a PostgreSQL pool would keep the process alive).
  let opened: { close(): Promise<void> } | undefined;
  const vault = async (): Promise<Vault> => {
    if (typeof options.vault === 'function') return options.vault();
    if (options.vault) return options.vault;
    const { openStore } = await import('../store/index.js');
    const store = await openStore();
    opened = store;
    return store;
  };
  try {
    return await send(
      provider,
      tool,
      params,
      url,
      await selectCredential({ provider, tool, connection: options.connection, vault }, requirementFor(tool, params)),
      options,
    );
  } finally {
    await opened?.close();
  }
}

async function send(
  provider: ProviderDefinition,
  tool: Tool,
  params: ToolInput,
  url: string,
  selected: ToolCredential,
  options: CallOptions,
): Promise<ToolResult> {
  let credential = selected;

  let refreshed = false;
  let rateLimited = false;
  let failures = 0;
  const retries = options.retries ?? 2;
  const replayable = tool.method === 'GET';
  for (;;) {
    let response: OutboundResponse;
    try {
      response = await request(url, {
        method: tool.method,
        headers: {
          ...authorization(provider, credential),
          accept: tool.response === 'image' ? 'image/*' : 'application/json',
          'user-agent': 'keygate',
        },
        signal: options.signal ?? AbortSignal.timeout(30_000),
      });
    } catch (err) {
      if (replayable && failures < retries && !options.signal?.aborted) {
        const delay = backoff(failures++);
        options.onWait?.(`${new URL(url).host} unreachable (${networkReason(err)})`, delay);
        await sleep(delay);
        continue;
      }
      throw new ProviderRequestError(`${tool.name}: ${tool.method} ${new URL(url).host} failed: ${networkReason(err)}`, {
        hint: 'check your network, then try again',
        cause: err,
      });
    }
    const status = response.statusCode;

    if (status === 401 && credential.kind === 'bot') {
      await response.body.dump();
      throw await botRejected(provider, credential);
    }
    if (status === 401 && credential.kind === 'user') {
      await response.body.dump();
      credential = await afterRejection(provider, tool, credential, refreshed);
      refreshed = true;
      continue;
    }
    if (status === 429 && !rateLimited) {
      const wait = retryAfterMs(response.headers['retry-after'], parseJson(await response.body.text()));
      if (wait !== undefined && wait <= (options.maxRateLimitWaitMs ?? 5000)) {
        rateLimited = true;
        options.onWait?.(`${provider.display_name} rate limit`, wait);
        await sleep(wait);
        continue;
      }
      throw rateLimitError(provider, tool, wait);
    }
    if (status >= 500 && replayable && failures < retries) {
      await response.body.dump();
      const delay = backoff(failures++);
      options.onWait?.(`${provider.display_name} answered ${status}`, delay);
      await sleep(delay);
      continue;
    }
    if (status >= 200 && status < 300) return result(provider, tool, response);
    const body = parseJson(await response.body.text());
    if (status === 429) throw rateLimitError(provider, tool, retryAfterMs(response.headers['retry-after'], body));
    throw answerError(provider, tool, params, status, body);
  }
}

/** A bot token that gets 401 was reset (or its bot deleted): it cannot be refreshed, so it is revoked. */
async function botRejected(provider: ProviderDefinition, credential: Extract<ToolCredential, { kind: 'bot' }>): Promise<CredentialError> {
  const { vault, connection } = credential;
  const reason = `${provider.display_name} answered 401 to the bot token: it was reset in the Developer Portal, or the bot was deleted`;
  await vault.update(provider.name, connection, (current) =>
    current && current.tokens.access_token === credential.record.tokens.access_token
      ? { ...current, status: 'revoked', status_reason: reason, status_changed_at: new Date().toISOString() }
      : current,
  );
  const named = connection === provider.bot?.default_connection ? '' : ` --connection ${connection}`;
  return new CredentialError(`${provider.name}/${connection} is revoked (${reason})`, { hint: botLoginHint(provider.name, named) });
}

/**
 * After a 401. The first: refresh (unless another process already did) and replay. A 401 to a
 * freshly refreshed token is Discord's answer both for a revoked grant and for a missing scope, so
 * the introspection endpoint (any live token may call it) tells them apart before the connection
 * is marked revoked.
 */
async function afterRejection(
  provider: ProviderDefinition,
  tool: Tool,
  credential: Extract<ToolCredential, { kind: 'user' }>,
  refreshed: boolean,
): Promise<ToolCredential> {
  const { vault, connection } = credential;
  const ref = `${provider.name}/${connection}`;
  const named = connection === 'default' ? '' : ` --connection ${connection}`;
  const token = credential.record.tokens.access_token;
  if (!refreshed) {
    const { record, next } = await afterUnauthorized(vault, provider, connection, token);
    if (next && record) return { ...credential, record };
    const now = record ?? credential.record;
    if (now.status !== 'connected') throw unusable(ref, now.status, now.status_reason, provider.name, named);
    throw new CredentialError(`${provider.display_name} answered 401 to ${ref}'s token and it could not be refreshed`, {
      hint: `try again later, or run \`keygate login ${provider.name}${named} --force\``,
    });
  }
  const introspection = provider.api.introspection?.path;
  if (introspection) {
    const { apiGet } = await import('../oauth/account.js');
    const check = await apiGet(provider, introspection, token);
    if (check.status === 200) {
      throw new CredentialError(`${provider.display_name} refused ${ref}'s token for ${tool.name}, though the token is live`, {
        hint: `the tool may need a scope its definition does not list; check \`keygate tools describe ${provider.name} ${tool.name}\``,
      });
    }
  }
  const reason = `${provider.display_name} answered 401 to a freshly refreshed token`;
  const stored = await vault.update(provider.name, connection, (current) =>
    current ? { ...current, status: 'revoked', status_reason: reason, status_changed_at: new Date().toISOString() } : current,
  );
  throw unusable(ref, 'revoked', stored?.status_reason ?? reason, provider.name, named);
}

async function result(provider: ProviderDefinition, tool: Tool, response: OutboundResponse): Promise<ToolResult> {
  const contentType = String(response.headers['content-type'] ?? '');
  if (tool.response === 'image') {
    if (!/^image\//i.test(contentType)) {
      throw new ProviderRequestError(
        `${tool.name}: ${provider.display_name} answered ${contentType || 'no content type'} where an image was expected`,
        { hint: 'try again later' },
      );
    }
    return {
      kind: 'image',
      status: response.statusCode,
      bytes: await response.body.bytes(),
      contentType: contentType.split(';')[0].trim(),
    };
  }
  const text = await response.body.text();
  if (text === '') return { kind: 'json', status: response.statusCode, body: null };
  const body = parseJson(text);
  if (body === undefined)
    throw new ProviderRequestError(`${tool.name}: ${provider.display_name} answered something that is not JSON`, {
      hint: 'try again later',
    });
  return { kind: 'json', status: response.statusCode, body };
}

/** 250 ms, 1 s, 4 s: enough for a restarting front end, short enough for an agent waiting on it. */
function backoff(attempt: number): number {
  return 250 * 4 ** attempt;
}

/** Discord puts the precise wait in the body (`retry_after`, seconds, float); the header is whole seconds. */
function retryAfterMs(header: string | string[] | undefined, body: unknown): number | undefined {
  const fromBody = (body as { retry_after?: unknown } | undefined)?.retry_after;
  if (typeof fromBody === 'number' && Number.isFinite(fromBody) && fromBody >= 0) return Math.ceil(fromBody * 1000);
  const seconds = Number(Array.isArray(header) ? header[0] : header);
  return Number.isFinite(seconds) && seconds >= 0 ? seconds * 1000 : undefined;
}

function rateLimitError(provider: ProviderDefinition, tool: Tool, waitMs: number | undefined): ProviderRequestError {
  const when = waitMs === undefined ? 'later' : `in ${(waitMs / 1000).toFixed(waitMs < 10_000 ? 1 : 0)} s`;
  return new ProviderRequestError(`${tool.name}: rate limited by ${provider.display_name}`, { hint: `try again ${when}` });
}

function answerError(provider: ProviderDefinition, tool: Tool, params: ToolInput, status: number, body: unknown): ProviderRequestError {
  const upstream = upstreamMessage(body);
  const ids = pathIds(tool, params);
  const known = tool.errors[String(status)];
  if (known) {
    return new ProviderRequestError(`${tool.name}: ${known.message}${ids ? ` (${ids})` : ''}`, {
      hint: known.hint ?? `${provider.display_name} answered ${status}${upstream}`,
    });
  }
  if (status === 404) {
    return new ProviderRequestError(`${tool.name}: ${provider.display_name} found nothing${ids ? ` for ${ids}` : ''} (404${upstream})`, {
      hint: ids ? 'check the id' : 'the endpoint may have moved; check the tool definition',
    });
  }
  if (status === 403) {
    return new ProviderRequestError(`${tool.name}: ${provider.display_name} refused access (403${upstream})`, {
      hint: 'the account lacks permission for this',
    });
  }
  return new ProviderRequestError(`${tool.name}: ${provider.display_name} answered ${status}${upstream}`, {
    hint: status >= 500 ? 'try again later' : `check the parameters (\`keygate tools describe ${provider.name} ${tool.name}\`)`,
  });
}

/** ": Unknown Guild", plus the first field error of Discord's "Invalid Form Body". */
function upstreamMessage(body: unknown): string {
  const b = body as { message?: unknown; errors?: unknown } | undefined;
  if (typeof b?.message !== 'string') return '';
  return `: ${b.message}${firstFieldError(b.errors)}`.slice(0, 300);
}

function firstFieldError(errors: unknown, path: string[] = []): string {
  if (typeof errors !== 'object' || errors === null) return '';
  for (const [key, value] of Object.entries(errors)) {
    if (key === '_errors' && Array.isArray(value)) {
      const first = value[0] as { message?: string } | undefined;
      if (first?.message) return ` (${path.join('.')}: ${first.message})`;
    }
    const found = firstFieldError(value, [...path, key]);
    if (found) return found;
  }
  return '';
}
