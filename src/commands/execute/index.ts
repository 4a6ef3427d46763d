export { execute, limitsFor, type ExecuteDeps, type ExecuteOutcome } from './handler.js';
export { executeRoute, executeSummary } from './route.js';
export { parseExecuteRequest, requestInvalid, partInvalid, AJV_OPTIONS } from './request.js';
export type { RequestProblem } from './problems.js';
export { executeRequestSchema, type ExecuteRequest } from './request-schema.js';
export { sandboxHash, fingerprint, withoutCredentials } from './describe.js';
