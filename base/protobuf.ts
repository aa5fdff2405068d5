/**
 * Protocol buffers for the gRPC daemons (containerd, CRI), read from the JSON trees the build makes of
 * their .proto files (base/protos.ts). protobufjs generates and compiles an encoder and a decoder for
 * each message type on first use, which cost 35-65 ms of every ctr, nerdctl, cri and auto command; the
 * few messages a command exchanges are read here by walking the tree instead.
 *
 * Answers come out as the adapters were written to read them, protobufjs's toObject with camelCase
 * names, longs as numbers, enums as their names and defaults filled in: a field the answer lacks is 0,
 * '', false, an empty Buffer, [], {}, null for a message, an enum's first name; none for a oneof member.
 * test/unit/protobuf.test.ts holds this to protobufjs itself on the daemons' recorded answers.
 *
 * An answer is the daemon's, not ours: a truncated or malformed one (a field number out of range, a
 * field of the wrong wire type, a group) is an error rather than read as something else; a map key such
 * as "__proto__" is an own property like any other; and an answer of more than MAX_MESSAGES messages is
 * refused, since filling in every absent field makes each message, even an empty one of two bytes, a
 * few hundred bytes of heap.
 */

interface FieldJson { type: string; id: number; rule?: string; keyType?: string; options?: Record<string, unknown> }
interface NodeJson {
  nested?: Record<string, NodeJson>;
  fields?: Record<string, FieldJson>;
  oneofs?: Record<string, { oneof: string[] }>;
  values?: Record<string, number>;
  methods?: Record<string, { requestType: string; responseType: string }>;
}

type Kind = 'int32' | 'uint32' | 'int64' | 'uint64' | 'sint32' | 'sint64' | 'bool' | 'fixed32' | 'sfixed32' | 'float'
  | 'fixed64' | 'sfixed64' | 'double' | 'string' | 'bytes';

/** The wire type of each scalar type: 0 varint, 1 64-bit, 2 length-delimited, 5 32-bit. */
const WIRE: Record<Kind, number> = {
  int32: 0, uint32: 0, int64: 0, uint64: 0, sint32: 0, sint64: 0, bool: 0, fixed32: 5, sfixed32: 5, float: 5,
  fixed64: 1, sfixed64: 1, double: 1, string: 2, bytes: 2,
};

const isScalar = (t: string): t is Kind => Object.hasOwn(WIRE, t);

interface Field {
  name: string;
  id: number;
  repeated: boolean;
  /** For a map, its key's scalar type; the field's `type` is then the value's. */
  keyType?: string;
  oneof: boolean;
  /** Set on first use: a scalar's kind, else the message or enum it names. */
  scalar?: Kind;
  message?: MessageType;
  enumValues?: Record<string, number>;
}

interface MessageType { name: string; fields: Field[]; byId: Map<number, Field> }

/** Nested deeper than this, an answer is refused (protobufjs's own limit). */
const MAX_DEPTH = 100;

/** Messages in one answer, at most: far more containers than any node runs, a bound on the heap an answer takes. */
export const MAX_MESSAGES = 200_000;

export class ProtoError extends Error {}

export class Protos {
  private readonly messages = new Map<string, MessageType>();
  private readonly services = new Map<string, Record<string, { request: string; response: string }>>();

  private readonly root: NodeJson;

  /** `tree`: a protobufjs JSON tree (protobuf.Root's toJSON()). */
  constructor(tree: object) {
    this.root = tree as NodeJson;
  }

  /** A service's methods, each with its request and response types' full names. */
  service(fullName: string): Record<string, { request: string; response: string }> {
    const known = this.services.get(fullName);
    if (known) return known;
    const path = fullName.split('.');
    const node = this.at(path);
    if (!node?.methods) throw new ProtoError(`no service ${fullName} in the protos`);
    const scope = path.slice(0, -1);
    const full = (type: string) => this.resolve(type, scope).join('.');
    const methods = Object.fromEntries(Object.entries(node.methods).map(([m, d]) =>
      [m, { request: full(d.requestType), response: full(d.responseType) }]));
    this.services.set(fullName, methods);
    return methods;
  }

  encode(typeName: string, value: object): Buffer {
    const out: Buffer[] = [];
    this.write(this.message(typeName), value as Record<string, unknown>, out, 0);
    return Buffer.concat(out);
  }

  decode(typeName: string, bytes: Buffer): Record<string, unknown> {
    return this.read(this.message(typeName), bytes, 0, { messages: 0 });
  }

  private at(path: string[]): NodeJson | undefined {
    let node: NodeJson | undefined = this.root;
    for (const part of path) node = node?.nested && Object.hasOwn(node.nested, part) ? node.nested[part] : undefined;
    return node;
  }

  /** Protobuf's scoping: a relative name is looked up from the innermost enclosing scope outwards. */
  private resolve(name: string, scope: string[]): string[] {
    const parts = name.replace(/^\./, '').split('.');
    for (let i = name.startsWith('.') ? 0 : scope.length; i >= 0; i--) {
      const path = [...scope.slice(0, i), ...parts];
      if (this.at(path)) return path;
    }
    throw new ProtoError(`type ${name} (from ${scope.join('.')}) is not in the protos`);
  }

  private message(fullName: string): MessageType {
    const known = this.messages.get(fullName);
    if (known) return known;
    const path = fullName.split('.');
    const node = this.at(path);
    if (!node?.fields) throw new ProtoError(`no message ${fullName} in the protos`);
    const inOneof = new Set(Object.values(node.oneofs ?? {}).flatMap((o) => o.oneof));
    const fields = Object.entries(node.fields).map(([name, f]): Field => ({
      name, id: f.id, repeated: f.rule === 'repeated', keyType: f.keyType, oneof: inOneof.has(name),
    })).sort((a, b) => a.id - b.id);
    const type: MessageType = { name: fullName, fields, byId: new Map(fields.map((f) => [f.id, f])) };
    this.messages.set(fullName, type);
    // Field types are resolved after the type is known, so that a message may contain itself.
    try {
      for (const f of fields) {
        const t = node.fields[f.name].type;
        if (isScalar(t)) {
          f.scalar = t;
          continue;
        }
        const target = this.resolve(t, path);
        const values = this.at(target)!.values;
        if (values) f.enumValues = values;
        else f.message = this.message(target.join('.'));
      }
    } catch (err) {
      this.messages.delete(fullName); // never half a type
      throw err;
    }
    return type;
  }

  // -- decoding

  private read(type: MessageType, buf: Buffer, depth: number, count: { messages: number }): Record<string, unknown> {
    if (depth > MAX_DEPTH) throw new ProtoError(`${type.name}: nested deeper than ${MAX_DEPTH}`);
    if (++count.messages > MAX_MESSAGES) throw new ProtoError(`more than ${MAX_MESSAGES} messages in one answer`);
    const out: Record<string, unknown> = {};
    for (const f of type.fields) {
      if (f.oneof) continue;
      out[f.name] = f.keyType ? {} : f.repeated ? [] : absent(f);
    }
    const r = new Reader(buf);
    while (!r.done()) {
      const [id, wire] = r.tag();
      const f = type.byId.get(id);
      if (!f) {
        r.skip(wire);
        continue;
      }
      if (f.keyType) {
        if (wire !== 2) throw new ProtoError(`${type.name}.${f.name}: a map entry must be length-delimited`);
        const [k, v] = this.entry(f, r.bytes(), depth, count);
        Object.defineProperty(out[f.name], k, { value: v, enumerable: true, writable: true, configurable: true });
      } else if (f.repeated) {
        const list = out[f.name] as unknown[];
        const kind = f.scalar ?? (f.enumValues ? 'int32' : undefined);
        if (kind && WIRE[kind] !== 2 && wire === 2) {
          const packed = new Reader(r.bytes());
          while (!packed.done()) list.push(this.value(f, WIRE[kind], packed, depth, count));
        } else {
          list.push(this.value(f, wire, r, depth, count));
        }
      } else {
        out[f.name] = this.value(f, wire, r, depth, count);
      }
    }
    return out;
  }

  private entry(f: Field, bytes: Buffer, depth: number, count: { messages: number }): [string, unknown] {
    const r = new Reader(bytes);
    const [keyField, valueField] = entryFields(f);
    let key = absent(keyField);
    let value = absent(valueField);
    while (!r.done()) {
      const [id, wire] = r.tag();
      if (id === 1) key = this.value(keyField, wire, r, depth, count);
      else if (id === 2) value = this.value(valueField, wire, r, depth, count);
      else r.skip(wire);
    }
    return [String(key), value];
  }

  private value(f: Field, wire: number, r: Reader, depth: number, count: { messages: number }): unknown {
    const kind: Kind = f.scalar ?? (f.enumValues ? 'int32' : 'bytes');
    if (wire !== WIRE[kind]) throw new ProtoError(`field ${f.name} came as wire type ${wire}, not ${WIRE[kind]}`);
    if (f.message) return this.read(f.message, r.bytes(), depth + 1, count);
    const v = r.scalar(kind);
    return f.enumValues ? Object.keys(f.enumValues).find((k) => f.enumValues![k] === v) ?? v : v;
  }

  // -- encoding

  private write(type: MessageType, value: Record<string, unknown>, out: Buffer[], depth: number): void {
    if (depth > MAX_DEPTH) throw new ProtoError(`${type.name}: nested deeper than ${MAX_DEPTH}`);
    for (const f of type.fields) {
      const v = value[f.name];
      if (v === undefined || v === null) continue;
      if (f.keyType) {
        if (typeof v !== 'object') throw new ProtoError(`${type.name}.${f.name}: a map expects an object`);
        const [keyField, valueField] = entryFields(f);
        for (const [k, item] of Object.entries(v as Record<string, unknown>)) {
          const entry: Buffer[] = [];
          this.field(keyField, keyField.scalar === 'string' ? k : Number(k), entry, depth);
          this.field(valueField, item, entry, depth);
          lengthDelimited(f.id, Buffer.concat(entry), out);
        }
      } else if (f.repeated) {
        if (!Array.isArray(v)) throw new ProtoError(`${type.name}.${f.name}: a repeated field expects a list`);
        for (const item of v) this.field(f, item, out, depth);
      } else if (f.oneof || f.message || !isZero(v)) {
        this.field(f, v, out, depth);
      }
    }
  }

  private field(f: Field, v: unknown, out: Buffer[], depth: number): void {
    if (f.message) {
      const inner: Buffer[] = [];
      this.write(f.message, v as Record<string, unknown>, inner, depth + 1);
      return lengthDelimited(f.id, Buffer.concat(inner), out);
    }
    if (f.enumValues) {
      const n = typeof v === 'number' ? v : f.enumValues[String(v)];
      if (n === undefined) {
        throw new ProtoError(`${f.name}: ${String(v)} is not one of ${Object.keys(f.enumValues).join(', ')}`);
      }
      return void out.push(varint(f.id * 8), varint(n));
    }
    const kind = f.scalar!;
    if (kind === 'string' || kind === 'bytes') {
      return lengthDelimited(f.id, kind === 'string' ? Buffer.from(String(v)) : Buffer.from(v as Uint8Array), out);
    }
    out.push(varint(f.id * 8 + WIRE[kind]));
    const n = Number(v);
    if (!Number.isFinite(n) && WIRE[kind] === 0) throw new ProtoError(`${f.name}: ${String(v)} is not a number`);
    if (kind === 'bool') out.push(varint(v ? 1 : 0));
    else if (kind === 'sint32' || kind === 'sint64') out.push(varint(n < 0 ? -2 * n - 1 : 2 * n));
    else if (WIRE[kind] === 0) out.push(varint(n));
    else out.push(fixed(kind, n));
  }
}

/** A field's value when the message lacks it: null for a message, an enum's first name, a scalar's zero. */
function absent(f: Field): unknown {
  if (f.message) return null;
  if (f.enumValues) return Object.keys(f.enumValues)[0];
  return f.scalar === 'bytes' ? Buffer.alloc(0) : f.scalar === 'string' ? '' : f.scalar === 'bool' ? false : 0;
}

/** A map field's entry as the message protobuf makes of it: key 1, value 2. */
function entryFields(f: Field): [Field, Field] {
  return [
    { name: `${f.name} key`, id: 1, repeated: false, oneof: false, scalar: f.keyType as Kind },
    { ...f, name: `${f.name} value`, id: 2, repeated: false, keyType: undefined },
  ];
}

function isZero(v: unknown): boolean {
  return v === 0 || v === '' || v === false || (v instanceof Uint8Array && v.length === 0);
}

function varint(n: number): Buffer {
  let big = BigInt.asUintN(64, BigInt(Math.trunc(n)));
  const bytes: number[] = [];
  do {
    const low = Number(big & 0x7fn);
    big >>= 7n;
    bytes.push(big ? low | 0x80 : low);
  } while (big);
  return Buffer.from(bytes);
}

function lengthDelimited(id: number, body: Buffer, out: Buffer[]): void {
  out.push(varint(id * 8 + 2), varint(body.length), body);
}

function fixed(kind: Kind, n: number): Buffer {
  const b = Buffer.alloc(kind === 'fixed32' || kind === 'sfixed32' || kind === 'float' ? 4 : 8);
  if (kind === 'fixed32') b.writeUInt32LE(n);
  else if (kind === 'sfixed32') b.writeInt32LE(n);
  else if (kind === 'float') b.writeFloatLE(n);
  else if (kind === 'fixed64') b.writeBigUInt64LE(BigInt(n));
  else if (kind === 'sfixed64') b.writeBigInt64LE(BigInt(n));
  else b.writeDoubleLE(n);
  return b;
}

/** Reads one message's bytes; every read checks it stays inside them. */
class Reader {
  private pos = 0;

  constructor(private readonly buf: Buffer) {}

  done(): boolean {
    return this.pos >= this.buf.length;
  }

  /** A length (take() refuses one past the end, however large). */
  varint(): number {
    return Number(this.varint64());
  }

  /** A field's number and wire type; a number outside protobuf's 1 to 2^29-1 is refused, not rounded. */
  tag(): [number, number] {
    const tag = this.varint64();
    if (typeof tag !== 'number' && tag > 0xffffffffn) throw new ProtoError('a field number out of range');
    const n = Number(tag);
    if (n < 8) throw new ProtoError('field number 0');
    return [Math.floor(n / 8), n % 8];
  }

  /** A varint's 64 bits; most are short, and those never leave plain numbers. */
  varint64(): bigint | number {
    let low = 0;
    for (let shift = 0; shift < 28; shift += 7) {
      const b = this.byte();
      low += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) return low;
    }
    let big = BigInt(low);
    for (let shift = 28n; shift < 70n; shift += 7n) {
      const b = this.byte();
      big |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) return BigInt.asUintN(64, big);
    }
    throw new ProtoError('a varint longer than 10 bytes');
  }

  bytes(): Buffer {
    const n = this.varint();
    return this.take(n);
  }

  /** As protobufjs reads each type, longs then made numbers (exact to 2^53). */
  scalar(kind: Kind): unknown {
    if (WIRE[kind] === 0 && kind !== 'sint32' && kind !== 'sint64') {
      const n = this.varint64();
      if (typeof n === 'number') return kind === 'bool' ? n !== 0 : n; // under 2^28: the same in every type
      if (kind === 'bool') return n !== 0n;
      if (kind === 'uint64') return Number(n);
      if (kind === 'int32') return Number(BigInt.asIntN(32, n));
      return Number(kind === 'uint32' ? BigInt.asUintN(32, n) : BigInt.asIntN(64, n));
    }
    switch (kind) {
      case 'sint32':
      case 'sint64': {
        // sint32 is the zigzag of its low 32 bits, as protobufjs and Go read it.
        const n = kind === 'sint32' ? BigInt.asUintN(32, BigInt(this.varint64())) : BigInt(this.varint64());
        return Number((n >> 1n) ^ -(n & 1n));
      }
      case 'string': return this.bytes().toString('utf8');
      case 'bytes': return Buffer.from(this.bytes());
      case 'fixed32': return this.take(4).readUInt32LE();
      case 'sfixed32': return this.take(4).readInt32LE();
      case 'float': return this.take(4).readFloatLE();
      case 'fixed64': return Number(this.take(8).readBigUInt64LE());
      case 'sfixed64': return Number(this.take(8).readBigInt64LE());
      case 'double': return this.take(8).readDoubleLE();
      default: throw new ProtoError(`no reader for ${kind}`);
    }
  }

  /** Passes over a field this side does not know. */
  skip(wire: number): void {
    if (wire === 0) this.varint();
    else if (wire === 1) this.take(8);
    else if (wire === 2) this.bytes();
    else if (wire === 5) this.take(4);
    else throw new ProtoError(`wire type ${wire} is not protobuf 3's`);
  }

  private byte(): number {
    if (this.pos >= this.buf.length) throw new ProtoError('the message ends inside a field');
    return this.buf[this.pos++];
  }

  private take(n: number): Buffer {
    if (n > this.buf.length - this.pos) throw new ProtoError('the message ends inside a field');
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
}
