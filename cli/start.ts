#!/usr/bin/env node
/**
 * What `scope-engine` starts: the CLI's one-file bundle (build-bundle.ts made it), compiled with V8's
 * code cache. Compiling the bundle, and then each function of it a command runs, is most of a command's
 * own time; V8 can save that work after a run and take it back on the next. So the first run saves
 * what it compiled in bundle.js.cache beside the bundle (and grpc.js.cache for the gRPC chunk), and
 * later runs start from it.
 *
 * The cache is code: it is read only when it is as trustworthy as the bundle beside it, owned by
 * this user or root and writable by nobody else, in a directory likewise, and only for the bundle
 * it was made from: V8 itself checks the source's length, not its text, so the cache begins with the
 * bundle's inode, size and modification time, and one made for another build is made again. A user
 * who may not write there runs without one, as fast as before.
 */
import { readFileSync, renameSync, statSync, writeFileSync, type Stats } from 'node:fs';
import Module from 'node:module';
import { dirname, join } from 'node:path';
import { Script } from 'node:vm';

/** Owned by us or root, writable by no one else. */
function trusted(st: Stats): boolean {
  const me = process.geteuid?.() ?? -1;
  return (st.uid === me || st.uid === 0) && (st.mode & 0o022) === 0;
}

/** Which build of `file` a cache was made for. */
function keyOf(file: string): Buffer {
  const st = statSync(file, { bigint: true });
  return Buffer.from(`${st.ino}:${st.size}:${st.mtimeNs}\n`);
}

function readCache(cache: string, key: Buffer): Buffer | undefined {
  try {
    if (!trusted(statSync(dirname(cache))) || !trusted(statSync(cache))) return undefined;
    const data = readFileSync(cache);
    return data.subarray(0, key.length).equals(key) ? data.subarray(key.length) : undefined;
  } catch {
    return undefined; // none yet
  }
}

/** Saves what V8 compiled by the end of this run, atomically; where we may not write, nothing. */
function saveCache(cache: string, script: Script, key: Buffer): void {
  try {
    if (statSync(dirname(cache)).uid !== process.geteuid?.()) return;
    const tmp = `${cache}.${process.pid}`;
    writeFileSync(tmp, Buffer.concat([key, script.createCachedData()]), { mode: 0o644 });
    renameSync(tmp, cache);
  } catch {
    // a full disk or a read-only install: the next run compiles again
  }
}

/**
 * Node's module wrapper, and one more parameter: code compiled by vm.Script has no import() of its own
 * (and V8's code cache drops the option that would give it one), so the bundle's one import(), which
 * loads in-process plugin modules that may be ES modules, calls this file's (build-bundle.ts rewrites it).
 */
const WRAPPER = '(function (exports, require, module, __filename, __dirname, __importModule) { ';
const importModule = (url: string): Promise<unknown> => import(url);

/**
 * Runs one of the CLI's files as Node runs a module, from its cache: the bundle, and the chunks it
 * loads when a command needs them (CHUNKS). Its require finds packages from the bundle's directory,
 * and a chunk through this function again.
 */
function runCached(file: string): unknown {
  const cache = `${file}.cache`;
  const key = keyOf(file);
  const cachedData = readCache(cache, key);
  // latin1: the bundle is ASCII (esbuild escapes the rest), and decoding it as UTF-8 cost a millisecond.
  const source = readFileSync(file, 'latin1').replace(/^#!/, '//');
  const script = new Script(`${WRAPPER}${source}\n})`, { filename: file, cachedData });
  if (!cachedData || script.cachedDataRejected) process.once('exit', () => saveCache(cache, script, key));
  const mod = new Module(file, module);
  mod.filename = file;
  const plain = Module.createRequire(file);
  const require = Object.assign((id: string) => (CHUNKS.has(id) ? chunk(id) : plain(id)), plain);
  const run = script.runInThisContext() as (...args: unknown[]) => void;
  run.call(mod.exports, mod.exports, require, mod, file, dirname(file), importModule);
  return mod.exports;
}

/** Files build-bundle.ts writes beside the bundle, required by it as "./NAME.js" when first needed, run once. */
const CHUNKS = new Set(['./grpc.js']);
const loaded = new Map<string, unknown>();

function chunk(id: string): unknown {
  if (!loaded.has(id)) loaded.set(id, runCached(join(__dirname, id)));
  return loaded.get(id);
}

runCached(join(__dirname, 'bundle.js'));
