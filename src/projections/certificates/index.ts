export { certificatesFromLog, projectCertificate, type CertificateReader } from './reader.js';
export { certificateRoutes } from './routes.js';
