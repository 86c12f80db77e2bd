/**
 * The embedded local runtime behind `npm start`: local emulators of DynamoDB (with Streams), S3 and SQS,
 * the real ASL run by a local Step Functions service, and the handlers of serverless.yml wired to them as
 * AWS wires them (HTTP API, S3 notifications, SQS and DynamoDB Streams event-source mappings, Lambda and
 * Fargate task states). Everything it keeps lives under one data directory.
 */
import './polyfills';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync, renameSync } from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import {
  CreateTableCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  DynamoDBClient,
  ResourceInUseException,
  UpdateTableCommand,
  UpdateTimeToLiveCommand,
  type CreateTableCommandInput,
} from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { startDynamoDb } from './emulators/dynamodb';
import { localS3ClientOptions, startS3 } from './emulators/s3';
import { startSqs } from './emulators/sqs';
import { startStreamMapping } from './wiring/ddb-streams';
import { startSqsMapping } from './wiring/sqs-mapping';
import { makeS3NotificationDispatcher, type S3NotificationRule } from './wiring/s3-notifications';
import { LocalStepFunctions, defaultRunContainerTask, substituteDefinition } from './sfn/service';
import { LOCAL_ACCOUNT, LOCAL_REGION, loadServiceModel, type ServiceModel } from './serverless-config';
import { LocalLambdas } from './lambdas';
import { startHttpApi } from './http-api';

export const ROOT = path.resolve(__dirname, '..');
const CREDS = { accessKeyId: 'local', secretAccessKey: 'local' };

export interface LocalOptions {
  port: number;
  dataDir: string;
  host?: string;
  /** Ports of the emulators; default port+1 … port+4. */
  ports?: { dynamodb?: number; s3?: number; sqs?: number; sfn?: number };
  log?: (msg: string) => void;
}

export interface LocalCredentials {
  Endpoint: string;
  SubAppId: number;
  SecretId: string;
  SecretKey: string;
  S3Endpoint: string;
  MediaBucket: string;
  DynamoDBEndpoint: string;
  SQSEndpoint: string;
  SFNEndpoint: string;
}

export interface LocalSystem {
  credentials: LocalCredentials;
  model: ServiceModel;
  lambdas: LocalLambdas;
  sfn: LocalStepFunctions;
  stop(): Promise<void>;
}

/** A one-line, actionable start-up failure. */
export class StartupError extends Error {
  override readonly name = 'StartupError';
}

function portFree(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, host, () => srv.close(() => resolve(true)));
  });
}

function writeJsonAtomic(file: string, value: unknown, mode = 0o600): void {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(value, null, 2) + '\n', { mode });
  renameSync(tmp, file);
}

/** The key that encrypts app secrets at rest in local mode (AWS uses KMS). Created once, kept 0600. */
function localMasterKey(dataDir: string): string {
  const file = path.join(dataDir, 'master.key');
  if (!existsSync(file)) writeFileSync(file, randomBytes(32).toString('base64') + '\n', { mode: 0o600 });
  chmodSync(file, 0o600);
  return readFileSync(file, 'utf8').trim();
}

export async function startLocal(opts: LocalOptions): Promise<LocalSystem> {
  const host = opts.host ?? '127.0.0.1';
  const log = opts.log ?? (() => undefined);
  const dataDir = path.resolve(opts.dataDir);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const ports = {
    api: opts.port,
    dynamodb: opts.ports?.dynamodb ?? opts.port + 1,
    s3: opts.ports?.s3 ?? opts.port + 2,
    sqs: opts.ports?.sqs ?? opts.port + 3,
    sfn: opts.ports?.sfn ?? opts.port + 4,
  };
  for (const [what, port] of Object.entries(ports)) {
    if (!(await portFree(port, host))) {
      throw new StartupError(
        what === 'api'
          ? `Port ${port} is in use: stop whatever listens on ${host}:${port} or set OPENVOD_PORT to another port.`
          : `Port ${port} (local ${what} emulator, OPENVOD_PORT+${port - opts.port}) is in use: stop whatever listens there or set OPENVOD_PORT to another port.`,
      );
    }
  }

  const stops: Array<() => Promise<void>> = [];
  const stopAll = async () => {
    for (const s of stops.reverse()) await s().catch((e: unknown) => log(`stop: ${(e as Error).message}`));
    stops.length = 0;
  };
  try {
    const dynamo = await startDynamoDb({ port: ports.dynamodb, dataDir, log }).catch((e: unknown) => {
      throw new StartupError((e as Error).message);
    });
    let dynamoStopped: Promise<void> | undefined;
    const stopDynamo = () => (dynamoStopped ??= dynamo.stop());
    stops.push(stopDynamo);

    // The S3 emulator delivers ObjectCreated records to the dispatcher built once the handlers exist.
    let dispatch: (r: import('aws-lambda').S3EventRecord) => void = () => undefined;
    const s3 = await startS3({ port: ports.s3, dataDir, log, onObjectCreated: (r) => dispatch(r) });
    stops.push(() => s3.stop());
    const sqs = await startSqs({
      port: ports.sqs,
      dataDir,
      log,
      region: LOCAL_REGION,
      accountId: LOCAL_ACCOUNT,
    });
    stops.push(() => sqs.stop());

    const model = loadServiceModel({ root: ROOT, endpoints: { sqs: sqs.endpoint } });
    const sfnEndpoint = `http://${host}:${ports.sfn}`;

    // The handlers' environment: what serverless.yml declares, pointed at the emulators.
    const env: Record<string, string> = {
      ...model.environment,
      OPENVOD_MODE: 'local',
      OPENVOD_DYNAMODB_ENDPOINT: dynamo.endpoint,
      OPENVOD_S3_ENDPOINT: s3.endpoint,
      OPENVOD_SQS_ENDPOINT: sqs.endpoint,
      OPENVOD_SFN_ENDPOINT: sfnEndpoint,
      OPENVOD_LOCAL_MASTER_KEY: localMasterKey(dataDir),
      AWS_REGION: LOCAL_REGION,
      AWS_ACCESS_KEY_ID: CREDS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: CREDS.secretAccessKey,
    };
    delete env.OPENVOD_KMS_KEY_ID;
    delete env.NODE_OPTIONS;
    Object.assign(process.env, env);

    await createResources(model, dynamo.endpoint, s3.endpoint, sqs.endpoint);

    const lambdas = new LocalLambdas(ROOT, model.functions);
    lambdas.preload();

    // Step Functions: the real ASL, Lambda states run the handlers, Fargate states run the container entrypoint.
    const containerEnv: Record<string, string> = { ...model.containerEnvironment, ...env };
    const sfn = new LocalStepFunctions({
      dataDir,
      region: LOCAL_REGION,
      accountId: LOCAL_ACCOUNT,
      invokeLambda: (arn, payload) => lambdas.invoke(arn, payload),
      runContainerTask: defaultRunContainerTask({
        command: [process.execPath, '--import', 'tsx', path.join(ROOT, 'layers/worker/entrypoint.ts')],
        cwd: ROOT,
        env: containerEnv,
      }),
      log,
    });
    for (const sm of model.stateMachines) {
      sfn.registerStateMachine(sm.name, substituteDefinition(sm.definition, sm.substitutions));
    }
    await sfn.listen(ports.sfn, host);
    // Stopping while flows run must leave no trace of the interrupted work: executions stay RUNNING (they are
    // resumed at the next start) and the task store goes away right after them, so a handler still running
    // cannot record a failure caused by the shutdown itself (e.g. the S3 emulator going away mid-upload).
    stops.push(stopDynamo);
    stops.push(() => sfn.close());

    // Event-source mappings and notifications, as declared on the functions.
    const s3Rules: S3NotificationRule[] = [];
    for (const f of model.functions) {
      for (const e of f.events) {
        if (e.type === 'stream') {
          const m = startStreamMapping({
            ddbEndpoint: dynamo.endpoint,
            tableName: model.physicalNames[e.tableLogicalId],
            batchSize: e.batchSize,
            startingPosition: e.startingPosition,
            maximumRetryAttempts: e.maximumRetryAttempts,
            reportBatchItemFailures: e.reportBatchItemFailures,
            checkpointFile: path.join(dataDir, 'streams', `${f.name}-${e.tableLogicalId}.json`),
            handler: async (event) => (await lambdas.invoke(f.name, event)) as void,
            log,
          });
          stops.push(() => m.stop());
        } else if (e.type === 'sqs') {
          const name = model.physicalNames[e.queueLogicalId];
          const m = startSqsMapping({
            sqsEndpoint: sqs.endpoint,
            queueUrl: `${sqs.endpoint}/${LOCAL_ACCOUNT}/${name}`,
            queueArn: `arn:aws:sqs:${LOCAL_REGION}:${LOCAL_ACCOUNT}:${name}`,
            batchSize: e.batchSize,
            maximumBatchingWindowMs: e.maximumBatchingWindow ? e.maximumBatchingWindow * 1000 : undefined,
            reportBatchItemFailures: e.reportBatchItemFailures,
            handler: async (event) => (await lambdas.invoke(f.name, event)) as void,
            log,
          });
          stops.push(() => m.stop());
        } else if (e.type === 'schedule') {
          // EventBridge schedules: once at start (catches up after a restart), then every period.
          const fire = () =>
            void lambdas
              .invoke(f.name, e.input)
              .catch((err: unknown) => log(`schedule ${f.name}: ${(err as Error).message}`));
          const first = setTimeout(fire, 1000);
          // OPENVOD_LOCAL_SCHEDULE_MS (local only, e.g. tests): every schedule fires this often instead.
          const timer = setInterval(fire, Number(process.env.OPENVOD_LOCAL_SCHEDULE_MS) || e.everyMs);
          first.unref();
          timer.unref();
          stops.push(async () => {
            clearTimeout(first);
            clearInterval(timer);
          });
        } else if (e.type === 's3') {
          s3Rules.push({
            bucket: e.bucketName,
            events: [e.event],
            prefix: e.prefix,
            suffix: e.suffix,
            handler: async (event) => {
              await lambdas.invoke(f.name, event);
            },
          });
        }
      }
    }
    const dispatcher = makeS3NotificationDispatcher(s3Rules, log);
    dispatch = dispatcher;
    stops.push(() => dispatcher.drain());

    await sfn.resumeRunning();

    const api = await startHttpApi({ host, port: ports.api, functions: model.functions, lambdas, log });
    stops.push(() => api.close());

    const credentials = await ensureDefaultApp(dataDir, {
      Endpoint: api.url,
      S3Endpoint: s3.endpoint,
      MediaBucket: model.environment.MEDIA_BUCKET,
      DynamoDBEndpoint: dynamo.endpoint,
      SQSEndpoint: sqs.endpoint,
      SFNEndpoint: sfnEndpoint,
    });
    return { credentials, model, lambdas, sfn, stop: stopAll };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

/** Creates the GSIs serverless.yml declares that an existing table lacks (one per UpdateTable, as DynamoDB requires). */
async function addMissingIndexes(ddb: DynamoDBClient, input: CreateTableCommandInput): Promise<void> {
  const wanted = input.GlobalSecondaryIndexes ?? [];
  if (wanted.length === 0) return;
  const current = await ddb.send(new DescribeTableCommand({ TableName: input.TableName }));
  const have = new Set((current.Table?.GlobalSecondaryIndexes ?? []).map((g) => g.IndexName));
  for (const gsi of wanted) {
    if (have.has(gsi.IndexName)) continue;
    await ddb.send(
      new UpdateTableCommand({
        TableName: input.TableName,
        AttributeDefinitions: input.AttributeDefinitions,
        GlobalSecondaryIndexUpdates: [
          { Create: { IndexName: gsi.IndexName, KeySchema: gsi.KeySchema, Projection: gsi.Projection } },
        ],
      }),
    );
    for (let i = 0; i < 100; i++) {
      const t = await ddb.send(new DescribeTableCommand({ TableName: input.TableName }));
      if (
        t.Table?.GlobalSecondaryIndexes?.find((g) => g.IndexName === gsi.IndexName)?.IndexStatus === 'ACTIVE'
      )
        break;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

async function createResources(
  model: ServiceModel,
  ddbEndpoint: string,
  s3Endpoint: string,
  sqsEndpoint: string,
) {
  const ddb = new DynamoDBClient({ region: LOCAL_REGION, endpoint: ddbEndpoint, credentials: CREDS });
  for (const t of model.tables) {
    const p = t.properties as Record<string, unknown>;
    const stream = p.StreamSpecification as { StreamViewType: string } | undefined;
    const input = {
      TableName: p.TableName,
      AttributeDefinitions: p.AttributeDefinitions,
      KeySchema: p.KeySchema,
      GlobalSecondaryIndexes: p.GlobalSecondaryIndexes,
      LocalSecondaryIndexes: p.LocalSecondaryIndexes,
      BillingMode: 'PAY_PER_REQUEST',
      StreamSpecification: stream
        ? { StreamEnabled: true, StreamViewType: stream.StreamViewType }
        : undefined,
    } as CreateTableCommandInput;
    try {
      await ddb.send(new CreateTableCommand(input));
    } catch (e) {
      if (!(e instanceof ResourceInUseException)) throw e;
      // A data directory from an earlier version: add the indexes declared since.
      await addMissingIndexes(ddb, input);
    }
    const ttl = p.TimeToLiveSpecification as { AttributeName: string; Enabled: boolean } | undefined;
    if (ttl?.Enabled) {
      const cur = await ddb.send(new DescribeTimeToLiveCommand({ TableName: String(p.TableName) }));
      if (cur.TimeToLiveDescription?.TimeToLiveStatus !== 'ENABLED') {
        await ddb.send(
          new UpdateTimeToLiveCommand({
            TableName: String(p.TableName),
            TimeToLiveSpecification: { AttributeName: ttl.AttributeName, Enabled: true },
          }),
        );
      }
    }
  }
  ddb.destroy();

  const s3 = new S3Client({ ...localS3ClientOptions, endpoint: s3Endpoint });
  for (const b of model.buckets) {
    try {
      await s3.send(new CreateBucketCommand({ Bucket: b }));
    } catch (e) {
      const name = (e as Error).name;
      if (name !== 'BucketAlreadyOwnedByYou' && name !== 'BucketAlreadyExists') throw e;
    }
  }
  s3.destroy();

  const sqs = new SQSClient({ region: LOCAL_REGION, endpoint: sqsEndpoint, credentials: CREDS });
  const arns = new Map<string, string>();
  // Dead-letter queues first: a RedrivePolicy names an existing queue.
  const ordered = [...model.queues].sort((a, b) => Number(Boolean(a.redrive)) - Number(Boolean(b.redrive)));
  for (const q of ordered) {
    const attributes: Record<string, string> = {};
    if (q.visibilityTimeout !== undefined) attributes.VisibilityTimeout = String(q.visibilityTimeout);
    if (q.messageRetentionPeriod !== undefined)
      attributes.MessageRetentionPeriod = String(q.messageRetentionPeriod);
    if (q.delaySeconds !== undefined) attributes.DelaySeconds = String(q.delaySeconds);
    if (q.redrive) {
      const dlqArn = arns.get(q.redrive.dlqLogicalId);
      if (!dlqArn)
        throw new Error(`queue ${q.name}: dead-letter queue ${q.redrive.dlqLogicalId} not declared`);
      attributes.RedrivePolicy = JSON.stringify({
        deadLetterTargetArn: dlqArn,
        maxReceiveCount: q.redrive.maxReceiveCount,
      });
    }
    let url: string | undefined;
    try {
      url = (await sqs.send(new CreateQueueCommand({ QueueName: q.name, Attributes: attributes }))).QueueUrl;
    } catch (e) {
      // An existing queue with other attributes (serverless.yml changed): keep it, it is still usable.
      if ((e as Error).name !== 'QueueNameExists' && (e as Error).name !== 'QueueAlreadyExists') throw e;
      url = `${sqsEndpoint}/${LOCAL_ACCOUNT}/${q.name}`;
    }
    const attrs = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }),
    );
    arns.set(q.logicalId, String(attrs.Attributes?.QueueArn));
  }
  sqs.destroy();
}

/** On first start, creates the default app; writes credentials.json (0600) with what a client needs. */
async function ensureDefaultApp(
  dataDir: string,
  endpoints: Omit<LocalCredentials, 'SubAppId' | 'SecretId' | 'SecretKey'>,
): Promise<LocalCredentials> {
  // Loaded here, after the environment points at the emulators.
  const { loadConfig, resetConfigForTests } = await import('../src/config');
  const { makeAppsService } = await import('../src/composition');
  const { makeClients } = await import('../src/adapters/clients');
  resetConfigForTests();
  const config = loadConfig();
  const clients = makeClients(config);
  const apps = makeAppsService(config, clients);
  const file = path.join(dataDir, 'credentials.json');
  let creds: { SubAppId: number; SecretId: string; SecretKey: string } | undefined;
  if (existsSync(file)) {
    const prev = JSON.parse(readFileSync(file, 'utf8')) as LocalCredentials;
    const still = await apps.resolve(prev.SecretId);
    if (still && still.secretKey === prev.SecretKey) creds = prev;
  }
  if (!creds) {
    const existing = await apps.listApps();
    if (existing.length > 0) {
      // credentials.json was lost or its key rotated: issue a fresh key for the first app.
      const c = await apps.rotateKey(existing[0].subAppId);
      creds = { SubAppId: c.subAppId, SecretId: c.secretId, SecretKey: c.secretKey };
    } else {
      const c = await apps.createApp('default');
      creds = { SubAppId: c.subAppId, SecretId: c.secretId, SecretKey: c.secretKey };
    }
  }
  clients.ddb.destroy();
  const out: LocalCredentials = {
    ...endpoints,
    SubAppId: creds.SubAppId,
    SecretId: creds.SecretId,
    SecretKey: creds.SecretKey,
  };
  writeJsonAtomic(file, out);
  return out;
}
