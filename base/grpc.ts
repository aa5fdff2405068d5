/**
 * A unary gRPC call, always with a deadline: how the engine calls containerd, CRI runtimes and its
 * plugin programs' adapter service.
 *
 * A unary call is one HTTP/2 request: a POST to /package.Service/Method with one length-prefixed
 * message, answered by one message and a grpc-status trailer. node:http2 makes that request and
 * base/protobuf.ts encodes and reads the messages. grpc-js cost 35-65 ms of every ctr, nerdctl, cri
 * and auto command to load and to generate its codecs, and 0.3-0.5 ms more than this of every call to
 * a plugin; this costs node:http2's loading, 4-9 ms, and only in a command that calls a daemon.
 * (grpc-js still starts plugins: their health check, controller and stdio stream.)
 */
import type * as http2 from 'node:http2';
import type { NetConnectOpts } from 'node:net';
import { protoTree } from './protos';
import { ProtoError, Protos } from './protobuf';

/** gRPC's status codes (grpc/doc/statuscodes.md). */
export const Status = {
  OK: 0, CANCELLED: 1, UNKNOWN: 2, INVALID_ARGUMENT: 3, DEADLINE_EXCEEDED: 4, NOT_FOUND: 5, ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7, RESOURCE_EXHAUSTED: 8, FAILED_PRECONDITION: 9, ABORTED: 10, OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12, INTERNAL: 13, UNAVAILABLE: 14, DATA_LOSS: 15, UNAUTHENTICATED: 16,
} as const;

/** Longer than this, a timer fires at once (Node's limit): a longer deadline is as good as none. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export class GrpcError extends Error {
  /** `dropped`: the connection failed or ended before an answer, rather than the peer answering a status. */
  constructor(readonly code: number, readonly details: string, readonly dropped = false) {
    super(`${Object.keys(Status).find((k) => Status[k as keyof typeof Status] === code) ?? code}: ${details}`);
  }
}

/** The gRPC status an HTTP status means, for an answer that carries none (the gRPC over HTTP/2 spec's table). */
function statusOfHttp(code: number): number {
  if (code === 400) return Status.INTERNAL;
  if (code === 401) return Status.UNAUTHENTICATED;
  if (code === 403) return Status.PERMISSION_DENIED;
  if (code === 404) return Status.UNIMPLEMENTED;
  if ([429, 502, 503, 504].includes(code)) return Status.UNAVAILABLE;
  return Status.UNKNOWN;
}

/** Each directory's protos, read once per process. */
const protosOf = new Map<string, Protos>();

/** Unary calls to one server over one HTTP/2 connection, opened at the first call and again after it drops. */
export class UnaryClient {
  private session?: http2.ClientHttp2Session;

  /**
   * `address`: a unix socket's path, or a TCP host and port. `maxBytes`: an answer larger is refused
   * (RESOURCE_EXHAUSTED) rather than held in memory.
   */
  constructor(private readonly address: NetConnectOpts, private readonly protoDir: string,
    private readonly maxBytes: number) {}

  /** `service` (its full name) `.method(request)`, with `metadata` as headers; rejects with a GrpcError. */
  async call<T>(service: string, method: string, request: object, metadata: Record<string, string>,
    deadlineMs: number): Promise<T> {
    let protos = protosOf.get(this.protoDir);
    if (!protos) protosOf.set(this.protoDir, protos = new Protos(protoTree(this.protoDir)));
    const methods = protos.service(service);
    if (!Object.hasOwn(methods, method)) {
      throw new GrpcError(Status.UNIMPLEMENTED, `${service} has no method ${method} in the protos`);
    }
    const types = methods[method];
    // gRPC's metadata: lowercase names, printable ASCII values; HTTP/2 would send others and the peer
    // reset the stream, which would read as a daemon not answering.
    for (const [key, value] of Object.entries(metadata)) {
      if (!/^[0-9a-z_.-]+$/.test(key) || !/^[\x20-\x7e]*$/.test(value)) {
        throw new GrpcError(Status.INTERNAL, `metadata ${JSON.stringify(key)}: ${JSON.stringify(value)} is not ` +
          'a lowercase name and a printable ASCII value');
      }
    }
    const message = protoStep(`asking ${method}`, () => protos.encode(types.request, request));
    const frame = Buffer.alloc(5 + message.length);
    frame.writeUInt32BE(message.length, 1);
    message.copy(frame, 5);
    const answer = await this.exchange(`/${service}/${method}`, frame, metadata, deadlineMs);
    return protoStep(`the answer to ${method} is not a ${types.response}`,
      () => protos.decode(types.response, answer) as T);
  }

  /** Ends the connection; a call after this opens a new one. */
  close(): void {
    this.session?.destroy();
    this.session = undefined;
  }

  private connect(h2: typeof http2): http2.ClientHttp2Session {
    if (this.session && !this.session.closed && !this.session.destroyed) return this.session;
    const net = require('node:net') as typeof import('node:net');
    const session = h2.connect('http://localhost', {
      createConnection: () => net.connect(this.address), settings: { enablePush: false },
    });
    // Its calls' errors say what happened; this keeps a dropped connection from being an uncaught 'error'.
    session.on('error', () => undefined);
    session.on('close', () => {
      if (this.session === session) this.session = undefined;
    });
    session.on('goaway', () => {
      if (this.session === session) this.session = undefined;
    });
    // An idle connection does not keep the process alive; a call in flight does, by its deadline's timer.
    session.unref();
    this.session = session;
    return session;
  }

  /** Sends one framed message and gives back the answer's one message. */
  private exchange(path: string, frame: Buffer, metadata: Record<string, string>, deadlineMs: number): Promise<Buffer> {
    const h2 = require('node:http2') as typeof http2;
    return new Promise((resolve, reject) => {
      let settled = false;
      // The metadata first, so that none of it can stand for one of the request's own headers.
      const stream = this.connect(h2).request({
        ...metadata, ':method': 'POST', ':path': path, 'content-type': 'application/grpc', te: 'trailers',
        'grpc-timeout': timeoutHeader(deadlineMs), 'user-agent': 'scope-engine',
      });
      const finish = (err: GrpcError | undefined, answer?: Buffer) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (err) {
          stream.close(h2.constants.NGHTTP2_CANCEL);
          reject(err);
        } else {
          resolve(answer!);
        }
      };
      const timer = setTimeout(() => finish(new GrpcError(Status.DEADLINE_EXCEEDED,
        `no answer within ${deadlineMs} ms`)), Math.min(deadlineMs, MAX_TIMER_MS));
      const chunks: Buffer[] = [];
      let size = 0;
      let status: number | undefined;
      let details = '';
      let ended = false;
      const readStatus = (headers: http2.IncomingHttpHeaders) => {
        if (headers['grpc-status'] === undefined) return false;
        const code = String(headers['grpc-status']);
        status = /^\d+$/.test(code) ? Number(code) : Status.UNKNOWN;
        details = grpcMessage(headers['grpc-message']);
        return true;
      };
      stream.on('response', (headers, flags) => {
        // Only an answer that ends here (trailers-only: an error at once) carries its status in these headers.
        const only = (flags & h2.constants.NGHTTP2_FLAG_END_STREAM) !== 0;
        if (!(only && readStatus(headers)) && headers[':status'] !== 200) {
          status = statusOfHttp(Number(headers[':status']));
          details = `HTTP status ${headers[':status']}`;
        }
      });
      stream.on('end', () => {
        ended = true;
      });
      stream.on('trailers', (headers) => readStatus(headers));
      stream.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size <= this.maxBytes + 5) return void chunks.push(chunk);
        finish(new GrpcError(Status.RESOURCE_EXHAUSTED, `the answer is larger than ${this.maxBytes} bytes`));
      });
      stream.on('error', (err) => finish(new GrpcError(Status.UNAVAILABLE, err.message, true)));
      stream.on('close', () => {
        // Ended by the peer without a status: it answered, wrongly; else the stream or connection broke.
        if (status === undefined && ended && stream.rstCode === h2.constants.NGHTTP2_NO_ERROR) {
          return finish(new GrpcError(Status.INTERNAL, 'the answer ended without a grpc-status'));
        }
        if (status === undefined) {
          return finish(new GrpcError(Status.UNAVAILABLE,
            `the connection ended without an answer (HTTP/2 code ${stream.rstCode})`, true));
        }
        if (status !== Status.OK) return finish(new GrpcError(status, details));
        try {
          finish(undefined, oneMessage(Buffer.concat(chunks)));
        } catch (err) {
          finish(err as GrpcError);
        }
      });
      stream.end(frame);
    });
  }
}

/** A ProtoError of `fn` as the call's error (INTERNAL), saying when it happened. */
function protoStep<T>(when: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (!(err instanceof ProtoError)) throw err;
    throw new GrpcError(Status.INTERNAL, `${when}: ${err.message}`);
  }
}

/** The one message of a unary answer: a flag byte (0, uncompressed: we offered no compression), a length, the bytes. */
function oneMessage(body: Buffer): Buffer {
  if (body.length < 5 || body.readUInt32BE(1) !== body.length - 5) {
    throw new GrpcError(Status.INTERNAL, `the answer is not one gRPC message (${body.length} bytes)`);
  }
  if (body[0] !== 0) throw new GrpcError(Status.INTERNAL, 'the answer is compressed, which was not asked for');
  return body.subarray(5);
}

/** grpc-message is percent-encoded; a malformed one is shown as it came, and control characters escaped. */
function grpcMessage(raw: string | string[] | undefined): string {
  const text = Array.isArray(raw) ? raw.join(',') : raw ?? '';
  let decoded = text;
  try {
    decoded = decodeURIComponent(text);
  } catch {
    // as it came
  }
  return decoded.replace(/[\x00-\x1f\x7f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** grpc-timeout: at most 8 digits (grpc-go refuses more), so a long deadline goes in a larger unit. */
function timeoutHeader(ms: number): string {
  let n = Math.max(1, Math.ceil(ms));
  for (const [unit, next] of [['m', 1000], ['S', 60], ['M', 60]] as const) {
    if (n < 1e8) return `${n}${unit}`;
    n = Math.ceil(n / next);
  }
  return `${Math.min(n, 99_999_999)}H`;
}
