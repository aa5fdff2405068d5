/**
 * The conformance suite for plugin authors: `import { runMatrix, SCENARIOS } from 'scope-engine/testing'`.
 * Put an adapter (built-in, in-process module or gRPC plugin) through the same scenarios as the
 * built-ins, against your own containers, or run `scope-engine matrix --lab FILE`.
 */
export {
  SCENARIOS, runScenarios, skip, type LabRow, type Outcome, type Scenario, type ScenarioContext, type ToolQuery,
} from './scenarios';
export {
  runMatrix, loadLab, formatMarkdown, countOutcomes, LAB_FILE, type MatrixRow, type MatrixOptions,
} from './matrix';
export { createFixtures, type Created } from './create';
export { buildBuiltin, testContainer, type Built, type Swaps } from './harness';
export { overPlugin } from './over-plugin';
