import { constants as http2 } from 'node:http2';
import { Metadata, status as Status, type StatusObject } from '@grpc/grpc-js';

/**
 * How a finished HTTP/2 stream becomes a gRPC status, the same way grpc-js maps it (its
 * subchannel-call.ts), so our code and our users see the same codes and words on either
 * transport: grpc-status and a percent-decoded grpc-message from the trailers (or a
 * trailers-only response), else the HTTP status per the gRPC spec's table
 * (doc/http-grpc-status-mapping.md), else the RST_STREAM code.
 */

/** The gRPC status for a non-200 HTTP status without grpc-status. @internal */
export function statusFromHttpStatus(httpStatus: number, metadata: Metadata = new Metadata()): StatusObject {
  let code: Status;
  switch (httpStatus) {
    case 400:
      code = Status.INTERNAL;
      break;
    case 401:
      code = Status.UNAUTHENTICATED;
      break;
    case 403:
      code = Status.PERMISSION_DENIED;
      break;
    case 404:
      code = Status.UNIMPLEMENTED;
      break;
    case 429:
    case 502:
    case 503:
    case 504:
      code = Status.UNAVAILABLE;
      break;
    default:
      code = Status.UNKNOWN;
  }
  return { code, details: `Received HTTP status code ${httpStatus}`, metadata };
}

/**
 * The status carried by trailers (or by the headers of a trailers-only response). The
 * grpc-status and grpc-message entries are removed from the metadata the caller sees.
 * @internal
 */
export function statusFromTrailers(headers: Record<string, string | string[] | undefined>, httpStatus: number | undefined): StatusObject {
  let metadata: Metadata;
  try {
    metadata = Metadata.fromHttp2Headers(headers);
  } catch {
    metadata = new Metadata();
  }
  const [code] = metadata.get('grpc-status');
  if (typeof code === 'string') {
    metadata.remove('grpc-status');
    let details = '';
    const [message] = metadata.get('grpc-message');
    if (typeof message === 'string') {
      details = percentDecode(message);
      metadata.remove('grpc-message');
    }
    return { code: Number(code), details, metadata };
  }
  if (httpStatus !== undefined && httpStatus !== 200) return statusFromHttpStatus(httpStatus, metadata);
  return { code: Status.UNKNOWN, details: 'No status information received', metadata };
}

/**
 * grpc-message is percent-encoded UTF-8 (the spec allows any byte to be encoded; grpc-go
 * encodes only '%' and bytes outside printable ASCII, where this and grpc-js's decodeURI
 * agree). A malformed escape leaves the message as sent, as grpc-js does.
 */
function percentDecode(message: string): string {
  if (!message.includes('%')) return message;
  try {
    return decodeURIComponent(message);
  } catch {
    return message;
  }
}

/**
 * The status of a stream that closed without a final status of its own.
 * `dropped`: the stream ended because its connection went away (Node reports that as CANCEL).
 * `cause`: the error the stream emitted, if any.
 * @internal
 */
export function statusFromReset(rstCode: number, dropped: boolean, httpStatus: number | undefined, cause: (Error & { code?: string }) | undefined): StatusObject {
  const metadata = new Metadata();
  switch (rstCode) {
    case http2.NGHTTP2_NO_ERROR:
      if (httpStatus !== undefined && httpStatus !== 200) return statusFromHttpStatus(httpStatus, metadata);
      if (dropped) return { code: Status.UNAVAILABLE, details: 'Connection dropped', metadata };
      return { code: Status.INTERNAL, details: `Received RST_STREAM with code ${rstCode} (Call ended without gRPC status)`, metadata };
    case http2.NGHTTP2_REFUSED_STREAM:
      return { code: Status.UNAVAILABLE, details: 'Stream refused by server', metadata };
    case http2.NGHTTP2_CANCEL:
      return dropped ? { code: Status.UNAVAILABLE, details: 'Connection dropped', metadata } : { code: Status.CANCELLED, details: 'Call cancelled', metadata };
    case http2.NGHTTP2_ENHANCE_YOUR_CALM:
      return { code: Status.RESOURCE_EXHAUSTED, details: 'Bandwidth exhausted or memory limit exceeded', metadata };
    case http2.NGHTTP2_INADEQUATE_SECURITY:
      return { code: Status.PERMISSION_DENIED, details: 'Protocol not secure enough', metadata };
    case http2.NGHTTP2_INTERNAL_ERROR:
      if (cause === undefined) return { code: Status.INTERNAL, details: `Received RST_STREAM with code ${rstCode} (Internal server error)`, metadata };
      if (cause.code === 'ECONNRESET' || cause.code === 'ETIMEDOUT') return { code: Status.UNAVAILABLE, details: cause.message, metadata };
      return { code: Status.INTERNAL, details: `Received RST_STREAM with code ${rstCode} triggered by internal client error: ${cause.message}`, metadata };
    default:
      return { code: Status.INTERNAL, details: `Received RST_STREAM with code ${rstCode}`, metadata };
  }
}

/**
 * The detail of a call that never reached a server: it starts with grpc-js's words, which
 * src/retry.ts's `provablyUnsent` relies on to retry unsent writes safely.
 * @internal
 */
export function noConnectionDetails(lastError: string | undefined): string {
  return lastError === undefined ? 'No connection established' : `No connection established. Last error: ${lastError}`;
}
