// Loaded by mocha before any test (see .mocharc.json).
import 'reflect-metadata';
import { removeTempDirs } from './support/tmp';

/** Root hooks: whatever a test made under the temporary directory goes when the run ends. */
export const mochaHooks = {
  afterAll(): void {
    removeTempDirs();
  },
};
