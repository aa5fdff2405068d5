#!/usr/bin/env node
/**
 * What `scope-engine` starts: the CLI's one-file bundle (bundle.ts made it), compiled with V8's code
 * cache. Compiling the bundle, and then each function of it a command runs, is most of a command's
 * own time; V8 can save that work after a run and take it back on the next. So the first run saves
 * what it compiled in bundle.js.cache beside the bundle, and later runs start from it.
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

const BUNDLE = join(__dirname, 'bundle.js');
const CACHE = `${BUNDLE}.cache`;

/** Owned by us or root, writable by no one else. */
function trusted(st: Stats): boolean {
  const me = process.geteuid?.() ?? -1;
  return (st.uid === me || st.uid === 0) && (st.mode & 0o022) === 0;
}

/** Which build of the bundle a cache was made for. */
function keyOf(): Buffer {
  const st = statSync(BUNDLE, { bigint: true });
  return Buffer.from(`${st.ino}:${st.size}:${st.mtimeNs}\n`);
}

function readCache(key: Buffer): Buffer | undefined {
  try {
    if (!trusted(statSync(dirname(CACHE))) || !trusted(statSync(CACHE))) return undefined;
    const data = readFileSync(CACHE);
    return data.subarray(0, key.length).equals(key) ? data.subarray(key.length) : undefined;
  } catch {
    return undefined; // none yet
  }
}

/** Saves what V8 compiled by the end of this run, atomically; where we may not write, nothing. */
function saveCache(script: Script, key: Buffer): void {
  try {
    if (statSync(dirname(CACHE)).uid !== process.geteuid?.()) return;
    const tmp = `${CACHE}.${process.pid}`;
    writeFileSync(tmp, Buffer.concat([key, script.createCachedData()]), { mode: 0o644 });
    renameSync(tmp, CACHE);
  } catch {
    // a full disk or a read-only install: the next run compiles again
  }
}

const source = readFileSync(BUNDLE, 'utf8').replace(/^#!/, '//');
const key = keyOf();
const cachedData = readCache(key);
const script = new Script(Module.wrap(source), { filename: BUNDLE, cachedData });
if (!cachedData || script.cachedDataRejected) process.once('exit', () => saveCache(script, key));
// As Node runs a file: (exports, require, module, __filename, __dirname), require resolving from the bundle.
const bundle = new Module(BUNDLE, module);
bundle.filename = BUNDLE;
const run = script.runInThisContext() as (...args: unknown[]) => void;
run.call(bundle.exports, bundle.exports, Module.createRequire(BUNDLE), bundle, BUNDLE, __dirname);
