/** Which transport carries a client's calls: our channel on node:http2, or grpc-js's own. */
export type TransportKind = 'http2' | 'grpc-js';

/** The transports `ClientConfig.transport` accepts. @internal */
export const transportKinds: readonly TransportKind[] = ['http2', 'grpc-js'];

let fallback: TransportKind = 'http2';

/** The transport of a client whose config names none. @internal */
export function defaultTransport(): TransportKind {
  return fallback;
}

/**
 * Makes `kind` the transport of clients whose config names none. A seam for the test suite,
 * which runs whole on either transport (test/harness/transport.ts); not for applications.
 * @internal
 */
export function setDefaultTransport(kind: TransportKind): void {
  if (!transportKinds.includes(kind)) throw new Error(`unknown transport ${JSON.stringify(kind)}: expected one of ${transportKinds.join(', ')}`);
  fallback = kind;
}
