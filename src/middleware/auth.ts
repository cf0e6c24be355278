import { abortable } from 'abort-controller-x';
import { type CallOptions, type ClientMiddleware, type ClientMiddlewareCall, Metadata } from 'nice-grpc-common';
import { AuthNotEnabledError, isTokenError } from '../errors.js';
import type { Observer } from '../events.js';

const authenticatePath = '/etcdserverpb.Auth/Authenticate';

/**
 * The client's auth token: fetched lazily with the configured user and password (one
 * Authenticate at a time, shared by every call that needs it), or a static token.
 * @internal
 */
export class TokenSource {
  private cached: { token: string | undefined } | undefined;
  private inflight: Promise<string | undefined> | undefined;
  /** Set when etcd rejected the token: the next one fetched is a refresh, not the first. */
  private rejected = false;

  constructor(
    private readonly credentials: { username: string; password: string } | { token: string } | undefined,
    private readonly authenticate: (name: string, password: string) => Promise<string>,
    /** Told of each token fetched (event `tokenRefreshed`, a log line), when given. */
    private readonly observer?: Observer,
  ) {}

  /** True when the client was given credentials at all. */
  get configured(): boolean {
    return this.credentials !== undefined;
  }

  /** True when a rejected token can be replaced (user and password are known). */
  get refreshable(): boolean {
    return this.credentials !== undefined && 'username' in this.credentials;
  }

  /** The token to send, or undefined when none is configured or etcd has auth disabled. */
  get(signal?: AbortSignal): Promise<string | undefined> {
    const { credentials } = this;
    if (!credentials) return Promise.resolve(undefined);
    if ('token' in credentials) return Promise.resolve(credentials.token);
    if (this.cached) return Promise.resolve(this.cached.token);
    this.inflight ??= this.authenticate(credentials.username, credentials.password)
      .then(
        (token) => {
          this.observer?.tokenRefreshed(credentials.username, this.rejected ? 'rejected' : 'initial');
          this.rejected = false;
          return token;
        },
        (error: unknown) => {
          // Like Go's client: credentials for a cluster without auth are silently unused.
          if (error instanceof AuthNotEnabledError) {
            this.observer?.log?.debug('auth is not enabled on the cluster: the credentials are not used', { user: credentials.username });
            return undefined;
          }
          this.observer?.log?.warn('cannot get an auth token', { user: credentials.username, cause: (error as Error).message });
          throw error;
        },
      )
      .then((token) => {
        this.cached = { token };
        return token;
      })
      .finally(() => (this.inflight = undefined));
    return signal ? abortable(signal, this.inflight) : this.inflight;
  }

  /** Forgets `token` if it is still the current one (etcd rejected it); undefined: whatever is current. */
  invalidate(token?: string): void {
    if (this.cached && (token === undefined || this.cached.token === token)) {
      this.cached = undefined;
      this.rejected = true;
      this.observer?.log?.debug('auth token rejected by etcd; a new one will be fetched');
    }
  }
}

/**
 * Sends the auth token as `token` metadata on every call and stream. When etcd rejects it
 * (expired, stale auth revision, missing), the token is dropped; a unary call is then repeated
 * once with a fresh token, and a stream's owner reopens it (watch and keep-alive do).
 * @internal
 */
export function authMiddleware(tokens: TokenSource): ClientMiddleware {
  return async function* auth<Request, Response>(call: ClientMiddlewareCall<Request, Response>, options: CallOptions) {
    if (call.method.path === authenticatePath || !tokens.configured) return yield* call.next(call.request, options);
    const token = await tokens.get(options.signal);
    try {
      return yield* call.next(call.request, withToken(options, token));
    } catch (error) {
      if (!isTokenError(error) || !tokens.refreshable) throw error;
      tokens.invalidate(token);
      if (call.requestStream || call.responseStream) throw error;
      const fresh = await tokens.get(options.signal);
      return yield* call.next(call.request, withToken(options, fresh));
    }
  };
}

function withToken(options: CallOptions, token: string | undefined): CallOptions {
  if (token === undefined) return options;
  const metadata = Metadata(options.metadata);
  metadata.set('token', token);
  return { ...options, metadata };
}
