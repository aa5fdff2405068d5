import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { createServer, type Http2Server, type ServerHttp2Stream } from 'node:http2';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { GrpcError, Status, UnaryClient } from '../../base/grpc';
import { PROTO_DIR } from '../../adapters/containerd/client';
import { tempDir } from '../support/tmp';

/**
 * The gRPC client the containerd and CRI adapters and the plugin host call with (base/grpc.ts) against an HTTP/2
 * daemon of ours that answers as a broken or hostile one would. (The recorded answers of the real
 * daemons, served by grpc-js, are the adapters' unit tests; the daemons themselves, the lab's.)
 */
const VERSION = 'containerd.services.version.v1.Version';

/** One gRPC message as the wire carries it: flag, length, bytes. */
function framed(bytes: Buffer, flag = 0): Buffer {
  const head = Buffer.alloc(5);
  head[0] = flag;
  head.writeUInt32BE(bytes.length, 1);
  return Buffer.concat([head, bytes]);
}

/** VersionResponse{version: "v"} */
const ANSWER = Buffer.from([0x0a, 0x01, 0x76]);

describe('gRPC unary calls: what a daemon could answer', function () {
  this.timeout(20_000);
  const dir = tempDir('grpc-unary-');
  const socket = join(dir, 'daemon.sock');
  let answer: (s: ServerHttp2Stream) => void = () => undefined;
  let server: Http2Server;
  const seen: Record<string, unknown>[] = [];

  before(async () => {
    server = createServer();
    server.on('stream', (s, headers) => {
      seen.push(headers);
      s.on('error', () => undefined);
      s.resume();
      s.on('end', () => answer(s));
    });
    await new Promise<void>((resolve) => server.listen(socket, resolve));
  });
  after(() => {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const client = () => new UnaryClient({ path: socket }, PROTO_DIR, 1024);
  const call = async (c = client(), deadlineMs = 3000) => {
    try {
      return await c.call<{ version: string }>(VERSION, 'Version', {}, { 'containerd-namespace': 'ns' }, deadlineMs);
    } finally {
      c.close();
    }
  };
  const failure = async (deadlineMs?: number): Promise<GrpcError> => {
    const err = await call(undefined, deadlineMs).then(() => expect.fail('it succeeded'), (e) => e);
    expect(err).to.be.instanceOf(GrpcError);
    return err;
  };
  const ok = (s: ServerHttp2Stream, body: Buffer, trailers = { 'grpc-status': '0' }) => {
    s.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
    s.on('wantTrailers', () => s.sendTrailers(trailers));
    s.end(body);
  };

  it('asks as gRPC asks: POST to the method\'s path, its metadata, a timeout; reads the one message', async () => {
    answer = (s) => ok(s, framed(ANSWER));
    expect((await call()).version).to.equal('v');
    expect(seen.at(-1)).to.deep.include({ ':method': 'POST', ':path': `/${VERSION}/Version`,
      'content-type': 'application/grpc', te: 'trailers', 'grpc-timeout': '3000m', 'containerd-namespace': 'ns' });
  });

  it('metadata that is no lowercase name and printable ASCII value (:path, a newline) is not sent', async () => {
    answer = (s) => ok(s, framed(ANSWER));
    const c = client();
    expect((await call(c)).version).to.equal('v');
    const asked = seen.length;
    const bad: Record<string, string>[] = [{ ':path': '/elsewhere' }, { 'containerd-namespace': 'a\nb' },
      { 'Containerd-Namespace': 'ns' }];
    for (const meta of bad) {
      const err = await c.call(VERSION, 'Version', {}, meta, 3000).then(() => expect.fail('it succeeded'), (e) => e);
      expect(err).to.deep.include({ code: Status.INTERNAL });
      expect(err.message).to.contain('not a lowercase name and a printable ASCII value');
    }
    expect(seen.length).to.equal(asked);
    c.close();
  });

  it('an error status, in the trailers or at once in the headers, comes with its words decoded', async () => {
    answer = (s) => ok(s, Buffer.alloc(0), { 'grpc-status': '5', 'grpc-message': 'no%20such%20thing' } as never);
    expect(await failure()).to.deep.include({ code: Status.NOT_FOUND, details: 'no such thing' });
    answer = (s) => s.respond({ ':status': 200, 'grpc-status': '7', 'grpc-message': 'bad%zz' }, { endStream: true });
    expect(await failure()).to.deep.include({ code: Status.PERMISSION_DENIED, details: 'bad%zz' });
  });

  it('a status in headers that do not end the answer is not taken: without trailers it is INTERNAL', async () => {
    answer = (s) => {
      s.respond({ ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '0' });
      s.end(framed(ANSWER));
    };
    const err = await failure();
    expect(err).to.deep.include({ code: Status.INTERNAL, dropped: false });
  });

  it('a status that is no number is UNKNOWN, and control characters in its words are escaped', async () => {
    answer = (s) => ok(s, Buffer.alloc(0), { 'grpc-status': 'abc', 'grpc-message': 'bad%1B%5B2J%0Anews' } as never);
    expect(await failure()).to.deep.include({ code: Status.UNKNOWN, details: 'bad\\x1b[2J\\x0anews' });
  });

  it('a long deadline is sent in a larger unit (8 digits at most) and does not fire at once', async () => {
    answer = (s) => ok(s, framed(ANSWER));
    const c = client();
    for (const [ms, header] of [[1e8, '100000S'], [2 ** 31, '2147484S'], [1e15, '99999999H']] as const) {
      expect((await c.call<{ version: string }>(VERSION, 'Version', {}, {}, ms)).version).to.equal('v');
      expect(seen.at(-1)!['grpc-timeout']).to.equal(header);
    }
    c.close();
  });

  it('a method the protos do not have, even one of Object\'s, is UNIMPLEMENTED before anything is sent', async () => {
    const asked = seen.length;
    for (const method of ['Nope', 'toString', '__proto__']) {
      const err = await client().call(VERSION, method, {}, {}, 1000).then(() => expect.fail('it succeeded'), (e) => e);
      expect(err, method).to.deep.include({ code: Status.UNIMPLEMENTED });
    }
    expect(seen.length).to.equal(asked);
  });

  it('an HTTP error without a gRPC status is read by the spec\'s table', async () => {
    answer = (s) => s.respond({ ':status': 503 }, { endStream: true });
    expect(await failure()).to.deep.include({ code: Status.UNAVAILABLE, details: 'HTTP status 503' });
  });

  it('an answer over the limit is refused, not held: RESOURCE_EXHAUSTED', async () => {
    answer = (s) => ok(s, framed(Buffer.alloc(64 * 1024, 0x0a)));
    expect((await failure()).code).to.equal(Status.RESOURCE_EXHAUSTED);
  });

  it('a compressed message, two messages, a lying length or bytes of no VersionResponse are INTERNAL', async () => {
    const bodies = [framed(ANSWER, 1), Buffer.concat([framed(ANSWER), framed(ANSWER)]),
      framed(ANSWER).subarray(0, 6), framed(Buffer.from([0x0a, 0x09, 0x76]))];
    for (const body of bodies) {
      answer = (s) => ok(s, body);
      expect((await failure()).code, body.toString('hex')).to.equal(Status.INTERNAL);
    }
  });

  it('no status at all (the stream reset, the connection dropped) is UNAVAILABLE', async () => {
    answer = (s) => s.close(2);
    expect((await failure()).code).to.equal(Status.UNAVAILABLE);
    answer = (s) => s.session?.destroy();
    expect((await failure()).code).to.equal(Status.UNAVAILABLE);
  });

  it('a daemon that never answers is DEADLINE_EXCEEDED at the deadline, and the next call works', async () => {
    answer = () => undefined;
    const c = client();
    const start = Date.now();
    const err = await c.call(VERSION, 'Version', {}, {}, 300).then(() => expect.fail('it succeeded'), (e) => e);
    expect(err).to.deep.include({ code: Status.DEADLINE_EXCEEDED });
    expect(Date.now() - start).to.be.within(250, 2000);
    answer = (s) => ok(s, framed(ANSWER));
    expect((await call(c)).version).to.equal('v');
  });

  it('an idle connection does not keep a program alive: it ends without closing its client', async () => {
    answer = (s) => ok(s, framed(ANSWER));
    const script = `const { UnaryClient } = require(${JSON.stringify(join(__dirname, '../../base/grpc.js'))});
      new UnaryClient({ path: ${JSON.stringify(socket)} }, ${JSON.stringify(PROTO_DIR)}, 1024)
        .call('${VERSION}', 'Version', {}, {}, 3000).then((v) => console.log(v.version));`;
    const start = Date.now();
    const out = await new Promise<string>((resolve, reject) => execFile(process.execPath, ['-e', script],
      { timeout: 10_000 }, (err, stdout) => (err ? reject(err) : resolve(stdout))));
    expect(out.trim()).to.equal('v');
    expect(Date.now() - start).to.be.below(5000);
  });
});
