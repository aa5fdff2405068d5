/**
 * The plugin author's kit: `import { serve } from 'scope-engine/sdk'` turns a ContainerRuntime into a
 * plugin program (see plugins/PROTOCOL.md and plugins/procscan/ for a complete one).
 */
export { serve } from './serve';
export { hclog, type HclogLevel } from './hclog';
export { ScopeError, type ErrorCode } from '../base/errors';
export type { Container, ContainerRuntime, ContainerState, ProbeResult } from '../core/runtime';
