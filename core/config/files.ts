import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Env } from '../tokens';
import { PACKAGE_PLUGINS_FILE } from '../../base/paths';
import type { ConfigFile } from './entries';

export const SYSTEM_PLUGINS_FILE = '/etc/scope-engine/plugins.json';

/** Token for the list of plugins files an engine reads. */
export const ConfigFiles = Symbol('ConfigFiles');

/**
 * The plugins files to read, in order. The package's own file always; the system and user files
 * when they exist (as git reads /etc/gitconfig and ~/.gitconfig); the files a user names explicitly
 * (SCOPE_ENGINE_PLUGINS, --plugins) always, so that a typo in their path is an error, not a no-op.
 */
export function configFilesFor(env: Env, cliFiles: string[] = []): ConfigFile[] {
  const files: ConfigFile[] = [{ path: PACKAGE_PLUGINS_FILE, origin: 'package' }];
  if (existsSync(SYSTEM_PLUGINS_FILE)) files.push({ path: SYSTEM_PLUGINS_FILE, origin: 'system' });
  const configHome = env.XDG_CONFIG_HOME || join(env.HOME || homedir(), '.config');
  const userFile = join(configHome, 'scope-engine', 'plugins.json');
  if (existsSync(userFile)) files.push({ path: userFile, origin: 'user' });
  for (const p of (env.SCOPE_ENGINE_PLUGINS ?? '').split(':').filter(Boolean)) {
    files.push({ path: resolve(p), origin: 'env' });
  }
  for (const p of cliFiles) files.push({ path: resolve(p), origin: 'cli' });
  return files;
}
