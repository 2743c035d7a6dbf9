// How the proxy gets the tokens it injects. The proxy knows only this interface; the refresh-aware
// implementation is src/lifecycle's createTokenAccess, which `keygate run` hands to the proxy.

export interface TokenAccess {
  /** The access token to inject now (the lifecycle code refreshes first when it expires soon). */
  getToken(provider: string, connection: string): Promise<string>;
  /** Upstream said 401 to a request sent with `token`: return a new token to replay once, or undefined to pass the 401 through. */
  onUnauthorized(provider: string, connection: string, token: string): Promise<string | undefined>;
}
