/**
 * The conformance suite for plugin authors: `import { runMatrix, SCENARIOS } from 'scope-engine/testing'`.
 * Put an adapter (built-in, in-process module or gRPC plugin) through the same scenarios as the
 * built-ins, against your own containers, or run `scope-engine matrix --targets FILE`.
 */
export { SCENARIOS, runScenarios, skip, type MatrixTarget, type Outcome, type Scenario, type ScenarioContext } from './scenarios';
export { runMatrix, loadTargets, formatMarkdown, countOutcomes, LAB_TARGETS, type MatrixRow, type MatrixOptions } from './matrix';
export { createFixtures, type Created } from './create';
