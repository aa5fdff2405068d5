/**
 * A directory of .proto files, as grpc-js takes them (the plugins' protocol) and as base/protobuf.ts reads
 * them (containerd's, CRI's). Parsing them at run time cost 20-30 ms of every gRPC command, so
 * `npm run build` parses each directory once into dist/<dir>.json, a protobufjs JSON tree (what
 * proto-loader's fromJSON takes), and that is read instead while it is newer than every file of the
 * directory; without it (sources used unbuilt, or a .proto edited since), the files are parsed as
 * before. Same options either way: camelCase names (applied when parsing), and longs, enums and
 * defaults as the adapters read answers.
 */
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import type { PackageDefinition } from '@grpc/proto-loader';
import type * as protobuf from 'protobufjs';
import { PACKAGE_ROOT } from './paths';

const OPTIONS = { keepCase: false, longs: Number, enums: String, defaults: true };

function protoFiles(dir: string): string[] {
  return readdirSync(dir).filter((f) => f.endsWith('.proto')).sort();
}

/** Where the build writes `dir`'s JSON tree: the same path under dist/, with .json. */
function jsonOf(dir: string): string {
  return `${join(PACKAGE_ROOT, 'dist', relative(PACKAGE_ROOT, dir))}.json`;
}

/** Every .proto file of `dir`, with the messages and services they import from it, as grpc-js takes them. */
export function protoDefinitions(dir: string): PackageDefinition {
  const loader = require('@grpc/proto-loader') as typeof import('@grpc/proto-loader');
  return loader.fromJSON(protoTree(dir), OPTIONS);
}

/** The same as a protobufjs JSON tree (what base/protobuf.ts reads): the build's while it is fresh. */
export function protoTree(dir: string): protobuf.INamespace {
  const json = jsonOf(dir);
  try {
    const built = statSync(json).mtimeMs;
    const fresh = protoFiles(dir).every((f) => statSync(join(dir, f)).mtimeMs <= built);
    if (fresh) return JSON.parse(readFileSync(json, 'utf8'));
  } catch {
    // not built: parse
  }
  return parseTree(dir);
}

/** For the build: writes `dir`'s JSON tree. */
export function writeProtoJson(dir: string): string {
  const out = jsonOf(dir);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify(parseTree(dir)));
  return out;
}

/** Parses `dir`'s files as proto-loader's loadSync would, with the directory as its include path. */
function parseTree(dir: string): protobuf.INamespace {
  const protobufjs = require('protobufjs') as typeof protobuf;
  const root = new protobufjs.Root();
  // As proto-loader's includeDirs: the directory first, else protobufjs's own (its google/protobuf types).
  const own = root.resolvePath.bind(root);
  root.resolvePath = (origin, target) => {
    if (target.startsWith('/')) return target;
    try {
      statSync(join(dir, target));
      return join(dir, target);
    } catch {
      return own(origin, target);
    }
  };
  root.loadSync(protoFiles(dir), { keepCase: OPTIONS.keepCase });
  root.resolveAll();
  return root.toJSON();
}
