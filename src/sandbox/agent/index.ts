export { runAgent, type AgentOptions, type AgentResult, type LlmCallReport, type ModelClient } from './loop.js';
export { toolDefinitions, toSandboxCall, type AgentToolName, type ToolDefinition } from './tools.js';
export { llmErrorCode, modelFailureCode, type LlmErrorCode } from './errors.js';
