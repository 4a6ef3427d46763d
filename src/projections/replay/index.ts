export { diffProjection, replayAgainstProjection, type ProjectionDiff, type ReplayReport } from './diff.js';
export { replayRoutes } from './routes.js';
