/**
 * Reading and checking plugins.json files. Everything wrong in a file is refused before any adapter
 * is loaded, with the file, the entry and the fault in the message.
 */
import { readFileSync } from 'node:fs';
import type { ErrorObject } from 'ajv';
import { ScopeError } from '../../base/errors';
import { schemaValidators } from '../schemas';

/** A plugins file to read and what put it on the list (shown by `scope-engine runtimes`). */
export interface ConfigFile {
  path: string;
  origin: 'package' | 'system' | 'user' | 'env' | 'cli';
}

interface EntryBase {
  name: string;
  options: Record<string, unknown>;
  /** The file the entry came from and its index there, for messages. */
  file: ConfigFile;
  index: number;
  /** How long one call may take (plugins.json "callDeadlineMs"); else the environment's, else the default. */
  callDeadlineMs?: number;
}
export interface BuiltinEntry extends EntryBase {
  kind: 'builtin';
  builtin: string;
}
export interface ModuleEntry extends EntryBase {
  kind: 'module';
  module: string;
  /** How long importing and building it may take (plugins.json "importTimeoutMs"). */
  importTimeoutMs?: number;
}
export interface CommandEntry extends EntryBase {
  kind: 'command';
  command: string;
  args: string[];
  env: Record<string, string>;
  startTimeoutMs?: number;
}
export type AdapterEntry = BuiltinEntry | ModuleEntry | CommandEntry;

/** The entry kinds, told apart by the one key that names what to load. */
const KINDS = ['builtin', 'module', 'command'] as const;

/** Reads every file in order and returns their entries; refuses duplicate names across files. */
export function readConfigFiles(files: ConfigFile[]): AdapterEntry[] {
  const entries: AdapterEntry[] = [];
  const seen = new Map<string, AdapterEntry>();
  for (const file of files) {
    for (const entry of readConfigFile(file)) {
      const first = seen.get(entry.name);
      if (first) {
        throw configError(file, entry.index, entry.name,
          `the name "${entry.name}" is already taken by entry ${first.index} of ${first.file.path}; pick another name`);
      }
      seen.set(entry.name, entry);
      entries.push(entry);
    }
  }
  return entries;
}

export function readConfigFile(file: ConfigFile): AdapterEntry[] {
  let text: string;
  try {
    text = readFileSync(file.path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : String(err);
    throw new ScopeError('E_PLUGIN_CONFIG', `plugins file ${file.path}: ${why}`,
      { cause: err, details: { file: file.path } });
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new ScopeError('E_PLUGIN_CONFIG', `plugins file ${file.path}: not valid JSON: ${(err as Error).message}`,
      { cause: err, details: { file: file.path } });
  }
  const { pluginsFile: validateFile, pluginsBuiltin, pluginsModule, pluginsCommand } = schemaValidators();
  const validateEntry = { builtin: pluginsBuiltin, module: pluginsModule, command: pluginsCommand };
  if (!validateFile(doc)) {
    throw new ScopeError('E_PLUGIN_CONFIG', `plugins file ${file.path}: ${describe(validateFile.errors)}`,
      { details: { file: file.path } });
  }
  const raw = (doc as { plugins: Record<string, unknown>[] }).plugins;
  const names = new Set<string>();
  return raw.map((item, index) => {
    const label = typeof item.name === 'string' ? item.name : undefined;
    const kinds = KINDS.filter((k) => k in item);
    if (kinds.length !== 1) {
      const why = kinds.length === 0
        ? `it says none of "builtin", "module" and "command"; give one of them`
        : `it says both ${kinds.map((k) => `"${k}"`).join(' and ')}; give only one`;
      throw configError(file, index, label, why);
    }
    const kind = kinds[0];
    const check = validateEntry[kind];
    if (!check(item)) throw configError(file, index, label, describe(check.errors));
    const name = item.name as string;
    if (names.has(name)) throw configError(file, index, name, `the name "${name}" appears twice in this file`);
    names.add(name);
    const base = {
      name, options: (item.options ?? {}) as Record<string, unknown>, file, index,
      callDeadlineMs: item.callDeadlineMs as number | undefined,
    };
    if (kind === 'builtin') return { ...base, kind, builtin: item.builtin as string };
    if (kind === 'module') return {
      ...base, kind, module: item.module as string, importTimeoutMs: item.importTimeoutMs as number | undefined,
    };
    return {
      ...base, kind, command: item.command as string, args: (item.args ?? []) as string[],
      env: (item.env ?? {}) as Record<string, string>,
      startTimeoutMs: item.startTimeoutMs as number | undefined,
    };
  });
}

/** The error for a fault in one entry; exported so loaders report module faults the same way. */
export function configError(file: ConfigFile, index: number, name: string | undefined, why: string,
  cause?: unknown): ScopeError {
  const which = name ? `entry ${index} ("${name}")` : `entry ${index}`;
  return new ScopeError('E_PLUGIN_CONFIG', `plugins file ${file.path}: ${which}: ${why}`,
    { cause, details: { file: file.path, entry: index, name } });
}

/** ajv's errors as one sentence: `"optons" is not a known field; "name" must match ...`. */
function describe(errors: ErrorObject[] | null | undefined): string {
  if (!errors?.length) return 'does not match the schema';
  return errors.map((e) => {
    const where = e.instancePath ? `"${e.instancePath.replace(/^\//, '').replace(/\//g, '.')}"` : 'the top level';
    if (e.keyword === 'additionalProperties') {
      return `"${(e.params as { additionalProperty: string }).additionalProperty}" is not a known field` +
        (e.instancePath ? ` of ${where}` : '');
    }
    if (e.keyword === 'required') return `${where} lacks ` +
      `"${(e.params as { missingProperty: string }).missingProperty}"`;
    return `${where} ${e.message}`;
  }).join('; ');
}
