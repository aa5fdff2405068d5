import { join, resolve } from 'node:path';

/** The installed package's root: dist/core/paths.js sits two levels below it. */
export const PACKAGE_ROOT = resolve(__dirname, '..', '..');

/** The plugins.json shipped with the package, listing the built-in adapters. */
export const PACKAGE_PLUGINS_FILE = join(PACKAGE_ROOT, 'plugins.json');
