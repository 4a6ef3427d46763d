export { diffProjection, replayAgainstProjection, type ProjectionDiff, type ReplayReport } from './diff.js';
