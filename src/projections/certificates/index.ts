export { certificatesFromLog, projectCertificate, type CertificateReader } from './reader.js';
export { certificateRoutes } from './routes.js';
export { EventMirror } from './event-mirror.js';
