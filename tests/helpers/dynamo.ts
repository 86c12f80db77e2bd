/**
 * DynamoDB Local on a free port, in a fresh temporary folder, with tables created as serverless.yml declares
 * them (keys, GSIs, streams), for integration tests.
 */
import '../../local/polyfills';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { CreateTableCommand, DynamoDBClient, type CreateTableCommandInput } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { startDynamoDb } from '../../local/emulators/dynamodb';
import { loadServiceModel, type ServiceModel } from '../../local/serverless-config';
import { freePort } from './ports';

export const LOCAL_AWS = {
  region: 'us-east-1',
  credentials: { accessKeyId: 'l', secretAccessKey: 'l' },
} as const;

export interface DynamoWithTables {
  /** The temporary folder DynamoDB Local keeps its data in (removed by stop; other emulators may share it). */
  dir: string;
  endpoint: string;
  ddb: DynamoDBClient;
  doc: DynamoDBDocumentClient;
  /** serverless.yml as the local runtime reads it. */
  model: ServiceModel;
  /** Destroys the clients, stops DynamoDB Local and removes its folder. */
  stop(): Promise<void>;
}

/** The serverless.yml model (no SQS needed: a placeholder endpoint). */
export function serviceModel(): ServiceModel {
  return loadServiceModel({
    root: path.resolve(__dirname, '../..'),
    endpoints: { sqs: 'http://127.0.0.1:1' },
  });
}

/**
 * Starts DynamoDB Local and creates the tables: `tables` maps serverless.yml logical ids to the table names
 * the test uses (a plain list names each table by its logical id).
 */
export async function startDynamoWithTables(
  tables: string[] | Record<string, string>,
  prefix = 'openvod-ddb-',
): Promise<DynamoWithTables> {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  const db = await startDynamoDb({ port: await freePort(), dataDir: dir });
  const ddb = new DynamoDBClient({ ...LOCAL_AWS, endpoint: db.endpoint });
  const model = serviceModel();
  const names = Array.isArray(tables) ? Object.fromEntries(tables.map((id) => [id, id])) : tables;
  const stop = async (): Promise<void> => {
    ddb.destroy();
    await db.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await createTables(ddb, model, names);
  } catch (e) {
    await stop();
    throw e;
  }
  return {
    dir,
    endpoint: db.endpoint,
    ddb,
    doc: DynamoDBDocumentClient.from(ddb, { marshallOptions: { removeUndefinedValues: true } }),
    model,
    stop,
  };
}

async function createTables(ddb: DynamoDBClient, model: ServiceModel, names: Record<string, string>) {
  for (const [logicalId, name] of Object.entries(names)) {
    const table = model.tables.find((x) => x.logicalId === logicalId);
    if (!table) throw new Error(`no table ${logicalId} in serverless.yml`);
    const t = table.properties as Record<string, unknown>;
    const stream = t.StreamSpecification as { StreamViewType: string } | undefined;
    await ddb.send(
      new CreateTableCommand({
        TableName: name,
        AttributeDefinitions: t.AttributeDefinitions,
        KeySchema: t.KeySchema,
        GlobalSecondaryIndexes: t.GlobalSecondaryIndexes,
        BillingMode: 'PAY_PER_REQUEST',
        StreamSpecification: stream
          ? { StreamEnabled: true, StreamViewType: stream.StreamViewType }
          : undefined,
      } as CreateTableCommandInput),
    );
  }
}
