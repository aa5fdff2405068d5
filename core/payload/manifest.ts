/**
 * A payload: a directory with a payload.json naming its files and the loader command. Loaded,
 * checked against the shipped schema and hashed on the host, before anything enters a container.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { crypto } from '../../base/lazy';
import { ScopeError } from '../../base/errors';
import { PACKAGE_ROOT } from '../../base/paths';
import { schemaValidators } from '../schemas';

export const BUILTIN_PAYLOAD_DIR = join(PACKAGE_ROOT, 'native', 'payload');

export interface PayloadFile {
  /** Relative to the install directory. */
  path: string;
  mode: number;
  data: Buffer;
  /** Where it was read on the host: the loader runs from a sealed copy of this, never from the container's. */
  source: string;
}

export interface Payload {
  name: string;
  version: string;
  dir: string;
  files: PayloadFile[];
  loader: { command: string[]; env: Record<string, string> };
  /** Where a running loader notes its PID (placeholders unfilled), if the payload keeps one. */
  lock?: string;
  /** sha256 of everything installed and run: an install with the same hash is this payload. */
  hash: string;
}

export function loadPayload(dir = BUILTIN_PAYLOAD_DIR): Payload {
  const manifestPath = join(dir, 'payload.json');
  let doc: any;
  try {
    doc = JSON.parse(readFileSync(manifestPath, 'utf8'));
  } catch (err) {
    throw new ScopeError('E_PAYLOAD', `payload manifest ${manifestPath}: ${(err as Error).message}`, { cause: err });
  }
  const validate = schemaValidators().payload;
  if (!validate(doc)) {
    const why = validate.errors!.map((e) => `${e.instancePath || 'the top level'} ${e.message}`).join('; ');
    throw new ScopeError('E_PAYLOAD', `payload manifest ${manifestPath}: ${why}`);
  }
  const files: PayloadFile[] = doc.files.map((f: { path: string; source?: string; mode?: string }) => {
    const source = resolve(dir, f.source ?? f.path);
    try {
      return { path: f.path, mode: parseInt(f.mode ?? '0644', 8), data: readFileSync(source), source };
    } catch (err) {
      throw new ScopeError('E_PAYLOAD', `payload ${doc.name}: file ${f.path} (${source}): ${(err as Error).message}` +
        (dir === BUILTIN_PAYLOAD_DIR ? '; build the native core with npm install' : ''), { cause: err });
    }
  });
  const loader = { command: doc.loader.command as string[], env: (doc.loader.env ?? {}) as Record<string, string> };
  const h = crypto().createHash('sha256').update(JSON.stringify({ name: doc.name, version: doc.version, loader }));
  for (const f of files) h.update(`\0${f.path}\0${f.mode}\0`).update(f.data);
  return { name: doc.name, version: doc.version, dir, files, loader, lock: doc.lock, hash: h.digest('hex') };
}

/** The loader's argv with {pid} and {install} filled in. */
export function substitute(argv: string[], values: { pid: number; install: string }): string[] {
  return argv.map((a) => a.replace(/\{pid\}/g, String(values.pid)).replace(/\{install\}/g, values.install));
}
