export { createSandbox } from './bwrap-sandbox.js';
export { buildBwrapArgv, BARE_BWRAP_ARGS, SUPERVISOR_PATH_INSIDE, type BwrapProfile } from './argv.js';
export { assertSandboxSupported, runtimeIdentity } from './runtime.js';
export { prepareLimits } from './limits/index.js';
export {
  TOOL_NAMES,
  type ToolName,
  type SandboxLimits,
  type SandboxSpec,
  type ToolCall,
  type KilledBy,
  type FileObservation,
  type NetworkObservation,
  type ToolOutcome,
  type SandboxDescription,
  type DestructionReport,
  type Sandbox,
  type SandboxErrorCode,
} from './types.js';
