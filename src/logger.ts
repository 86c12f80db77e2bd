import { Logger } from '@aws-lambda-powertools/logger';

/**
 * Structured JSON logs (AWS Lambda Powertools). Correlation: handlers append `requestId` / `taskId` keys.
 * Never log a secret or a whole event: log identifiers and sizes.
 */
export const logger = new Logger({
  serviceName: 'openvod',
  logLevel: (process.env.OPENVOD_LOG_LEVEL ?? (process.env.JEST_WORKER_ID ? 'SILENT' : 'INFO')) as 'INFO',
});
