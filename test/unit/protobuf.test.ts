import { expect } from 'chai';
import * as protobuf from 'protobufjs';
import { protoTree } from '../../base/protos';
import { MAX_MESSAGES, ProtoError, Protos } from '../../base/protobuf';
import { CONTAINERD, CRI, type Daemon } from '../support/grpc-replay';
import { recordings } from '../support/recorded';

/**
 * base/protobuf.ts against protobufjs itself (what grpc-js's proto-loader reads answers with), on the
 * daemons' recorded answers: protobufjs writes each answer's bytes, and both read them back.
 */
const OPTIONS = { longs: Number, enums: String, defaults: true };

function both(daemon: Daemon) {
  const tree = protoTree(daemon.protoDir);
  return { ours: new Protos(tree), theirs: protobuf.Root.fromJSON(tree as protobuf.INamespace) };
}

/** Buffers as arrays, so that deep equality compares bytes, not Buffer against Uint8Array. */
const plain = (v: unknown) => JSON.parse(JSON.stringify(v, (_, x) => (x?.type === 'Buffer' ? x.data : x)));

for (const [dir, daemon] of [['containerd', CONTAINERD], ['cri', CRI]] as const) {
  describe(`protobuf: ${dir}'s recorded answers read as protobufjs reads them`, () => {
    const { ours, theirs } = both(daemon);
    const exchanges = recordings(dir).flatMap((r) => r.exchanges.map((e) => ({ file: r.file, ...e })));

    it(`every answer and request of fixtures/${dir} (${exchanges.length} exchanges)`, () => {
      let compared = 0;
      for (const e of exchanges) {
        const types = ours.service(daemon.services[e.service])[e.method];
        const requestType = theirs.lookupType(types.request);
        // A request as we write it, read by protobufjs, is the request protobufjs would have written.
        const request = requestType.toObject(requestType.decode(ours.encode(types.request, e.request)), OPTIONS);
        const theirBytes = requestType.encode(requestType.fromObject(e.request)).finish();
        const expected = requestType.toObject(requestType.decode(theirBytes), OPTIONS);
        expect(plain(request), `${e.file}: request of ${e.method}`).to.deep.equal(plain(expected));
        if (!e.response) continue;
        const responseType = theirs.lookupType(types.response);
        const bytes = Buffer.from(responseType.encode(responseType.fromObject(e.response)).finish());
        expect(plain(ours.decode(types.response, bytes)), `${e.file}: answer of ${e.method}`)
          .to.deep.equal(plain(responseType.toObject(responseType.decode(bytes), OPTIONS)));
        compared++;
      }
      expect(compared).to.be.greaterThan(5);
    });
  });
}

describe('protobuf: what a daemon could send', () => {
  // A message of every kind the readers treat apart, written by protobufjs.
  const root = protobuf.parse(`syntax = "proto3";
    package t;
    enum Color { RED = 0; GREEN = 1; }
    message Inner { string s = 1; Inner next = 2; }
    message All {
      int32 i32 = 1; int64 i64 = 2; uint32 u32 = 3; uint64 u64 = 4; sint32 s32 = 5; sint64 s64 = 6;
      bool b = 7; fixed32 f32 = 8; sfixed32 sf32 = 9; float fl = 10; fixed64 f64 = 11; sfixed64 sf64 = 12;
      double d = 13; string s = 14; bytes by = 15; Color c = 16; Inner inner = 17;
      repeated int32 packed = 18; repeated Inner list = 19; map<string, string> labels = 20;
      map<string, Inner> byName = 21; oneof pick { string a = 22; int32 n = 23; }
    }`, { keepCase: false }).root;
  const ours = new Protos(root.toJSON());
  const All = root.lookupType('t.All');
  const write = (o: object) => Buffer.from(All.encode(All.fromObject(o)).finish());
  const theirs = (b: Buffer) => plain(All.toObject(All.decode(b), OPTIONS));
  const sample = {
    i32: -5, i64: -(2 ** 40), u32: 4_000_000_000, u64: 2 ** 50, s32: -7, s64: -(2 ** 45), b: true, f32: 7, sf32: -9,
    fl: 1.5, f64: 2 ** 40, sf64: -(2 ** 40), d: -2.25, s: 'é ok', by: Buffer.from([0, 1, 255]), c: 'GREEN',
    inner: { s: 'x', next: { s: 'y' } }, packed: [1, -1, 300], list: [{ s: 'a' }, {}], labels: { k: 'v', '': 'empty' },
    byName: { one: { s: '1' } }, n: 0,
  };

  it('scalars, enums, nested, repeated, map and oneof fields as protobufjs reads them; absent ones as defaults', () => {
    expect(plain(ours.decode('t.All', write(sample)))).to.deep.equal(theirs(write(sample)));
    expect(plain(ours.decode('t.All', Buffer.alloc(0)))).to.deep.equal(theirs(Buffer.alloc(0)));
    // Written by us, read by protobufjs: the same message.
    expect(theirs(ours.encode('t.All', sample))).to.deep.equal(theirs(write(sample)));
  });

  it('repeated numbers come packed or one by one, and fields this side does not know are passed over', () => {
    const unpacked = Buffer.from([0x90, 0x01, 0x01, 0x90, 0x01, 0x02]); // field 18, varint, twice
    const unknown = Buffer.from([0xf8, 0x07, 0x05, 0xfa, 0x07, 0x01, 0x41]); // fields 127 (varint) and 127 (bytes)
    expect(ours.decode('t.All', Buffer.concat([unknown, unpacked])).packed).to.deep.equal([1, 2]);
  });

  it('a map key "__proto__" is an own property and Object.prototype is untouched', () => {
    const out = ours.decode('t.All', write({ labels: { ['__proto__']: 'planted', k: 'v' } }));
    const labels = out.labels as Record<string, string>;
    expect(Object.getOwnPropertyNames(labels).sort()).to.deep.equal(['__proto__', 'k']);
    expect(Object.getPrototypeOf(labels)).to.equal(Object.prototype);
    expect(({} as Record<string, unknown>).planted).to.equal(undefined);
  });

  it('a message cut anywhere is an error, never a partial answer', () => {
    const bytes = write(sample);
    for (let n = 1; n < bytes.length; n++) {
      let out: unknown;
      try {
        out = ours.decode('t.All', bytes.subarray(0, n));
      } catch (err) {
        expect(err).to.be.instanceOf(ProtoError);
        continue;
      }
      // Cut between two fields, it is a shorter message: protobufjs reads the same.
      expect(plain(out), `cut at ${n}`).to.deep.equal(theirs(bytes.subarray(0, n)));
    }
  });

  it('lengths past the end, wrong wire types, long varints, groups and deep nesting are errors', () => {
    const bad: [string, Buffer][] = [
      ['a length past the end', Buffer.from([0x72, 0x7f, 0x61])],
      ['a length of 2^32', Buffer.from([0x72, 0x80, 0x80, 0x80, 0x80, 0x10])],
      ['a string sent as a varint', Buffer.from([0x70, 0x01])],
      ['a varint of 11 bytes', Buffer.from([0x08, ...Array(10).fill(0xff), 0x01])],
      ['a group', Buffer.from([0xfb, 0x07])],
      ['nesting 200 deep', Array.from({ length: 200 }).reduce<Buffer>((b) =>
        Buffer.concat([Buffer.from([0x12]), varint(b.length), b]), Buffer.from([0x0a, 0x00]))],
    ];
    for (const [what, bytes] of bad) {
      const type = what.startsWith('nesting') ? 't.Inner' : 't.All';
      expect(() => ours.decode(type, bytes), what).to.throw(ProtoError);
    }
  });

  it('a field number past 2^29-1 or of 0 is an error, not rounded onto another field', () => {
    // Tag 2^59+2 (field 2^56, length-delimited) would round to a varint field 2^56 and its body read as fields.
    const big = Buffer.from('82808080808080800805' + '0a03657666', 'hex');
    expect(() => ours.decode('t.Inner', big)).to.throw(ProtoError, /out of range/);
    expect(() => ours.decode('t.Inner', Buffer.from([0x00, 0x01]))).to.throw(ProtoError, /field number 0/);
  });

  it('sint32 is the zigzag of its low 32 bits, whatever the varint\'s length', () => {
    const bytes = Buffer.from([0x28, 0xe3, 0xb8, 0xb4, 0x86, 0x1d]); // field 5, 36 bits
    expect(ours.decode('t.All', bytes).s32).to.equal(theirs(bytes).s32);
  });

  it(`an answer of more than ${MAX_MESSAGES} messages is refused, not filled in until memory runs out`, () => {
    const empty = Buffer.from([0x9a, 0x01, 0x00]); // one empty Inner in list
    expect((ours.decode('t.All', Buffer.concat(Array(1000).fill(empty))).list as unknown[]).length).to.equal(1000);
    expect(() => ours.decode('t.All', Buffer.concat(Array(MAX_MESSAGES + 1).fill(empty))))
      .to.throw(ProtoError, /messages in one answer/);
  });

  it('a request that does not fit its type is an error: a string for a list, NaN for a number', () => {
    expect(() => ours.encode('t.All', { packed: 'abc' })).to.throw(ProtoError, /expects a list/);
    expect(() => ours.encode('t.All', { i32: Number.NaN })).to.throw(ProtoError, /not a number/);
  });

  it('an enum value this side does not name comes as its number, as protobufjs gives it', () => {
    expect(ours.decode('t.All', Buffer.from([0x80, 0x01, 0x07])).c).to.equal(7);
    expect(() => ours.encode('t.All', { c: 'BLUE' })).to.throw(ProtoError, /BLUE is not one of RED, GREEN/);
  });
});

function varint(n: number): Buffer {
  const out: number[] = [];
  do {
    out.push((n & 0x7f) | (n > 0x7f ? 0x80 : 0));
    n >>>= 7;
  } while (n);
  return Buffer.from(out);
}
