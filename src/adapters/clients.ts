import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { SFNClient } from '@aws-sdk/client-sfn';
import { KMSClient } from '@aws-sdk/client-kms';
import type { Config } from '../config';

/**
 * One client per AWS service per process, built from the configuration. In local mode the endpoints point
 * at the emulators and the credentials are placeholders (the emulators do not check signatures).
 */
export interface AwsClients {
  ddb: DynamoDBClient;
  doc: DynamoDBDocumentClient;
  s3: S3Client;
  sqs: SQSClient;
  sfn: SFNClient;
  kms: KMSClient;
}

const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };

export function makeClients(config: Config): AwsClients {
  const local = config.mode === 'local';
  const base = { region: config.region, ...(local ? { credentials: LOCAL_CREDENTIALS } : {}) };
  const ddb = new DynamoDBClient({ ...base, endpoint: config.endpoints.dynamodb });
  return {
    ddb,
    doc: DynamoDBDocumentClient.from(ddb, { marshallOptions: { removeUndefinedValues: true } }),
    s3: new S3Client({
      ...base,
      endpoint: config.endpoints.s3,
      forcePathStyle: Boolean(config.endpoints.s3),
      // Checksums only where S3 requires them: the S3 emulator stores aws-chunked trailers as content, and
      // presigned PUT URLs would otherwise carry the checksum of an empty body.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    }),
    sqs: new SQSClient({ ...base, endpoint: config.endpoints.sqs }),
    sfn: new SFNClient({ ...base, endpoint: config.endpoints.sfn }),
    kms: new KMSClient({ ...base }),
  };
}

let shared: AwsClients | undefined;
/** Module-scope clients for Lambda handlers (reused across warm invocations). */
export function sharedClients(config: Config): AwsClients {
  shared ??= makeClients(config);
  return shared;
}
export function resetSharedClients(): void {
  shared = undefined;
}
