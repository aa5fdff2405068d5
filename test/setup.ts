// Loaded by mocha before any test (see .mocharc.json).
import 'reflect-metadata';
// The tests are a composition root, as the CLI is: every built-in adapter registered.
import '../adapters';
import { removeTempDirs } from './support/tmp';

/** Root hooks: whatever a test made under the temporary directory goes when the run ends. */
export const mochaHooks = {
  afterAll(): void {
    removeTempDirs();
  },
};
