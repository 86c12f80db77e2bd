/**
 * loadServiceModel on the real serverless.yml: what the local runtime reads from the one source of truth.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import {
  LOCAL_ACCOUNT,
  LOCAL_REGION,
  functionLogicalId,
  loadServiceModel,
  type FunctionDef,
  type FunctionEvent,
  type ServiceModel,
} from '../../local/serverless-config';
import { substituteDefinition } from '../../local/sfn/service';
import { parseConfig } from '../../src/config';

const ROOT = path.resolve(__dirname, '../..');
const SQS = 'http://127.0.0.1:9999';
const BUCKET = process.env.OPENVOD_MEDIA_BUCKET ?? 'openvod-dev-media';

let model: ServiceModel;
beforeAll(() => {
  model = loadServiceModel({ root: ROOT, endpoints: { sqs: SQS } });
});

const fn = (name: string): FunctionDef => {
  const f = model.functions.find((x) => x.name === name);
  if (!f) throw new Error(`no function ${name} in serverless.yml`);
  return f;
};
const eventsOf = <T extends FunctionEvent['type']>(type: T) =>
  model.functions.flatMap((f) =>
    f.events
      .filter((e) => e.type === type)
      .map((e) => ({ fn: f, e: e as Extract<FunctionEvent, { type: T }> })),
  );
const table = (logicalId: string) => {
  const t = model.tables.find((x) => x.logicalId === logicalId);
  if (!t) throw new Error(`no table ${logicalId}`);
  return t.properties as Record<string, unknown>;
};

describe('loadServiceModel(serverless.yml)', () => {
  it('names the service, stage and region', () => {
    expect(model).toMatchObject({ service: 'openvod', stage: 'dev', region: LOCAL_REGION });
  });

  it('lists the functions, each with a handler module that exports it', () => {
    expect(model.functions.map((f) => f.name)).toEqual(
      expect.arrayContaining(['api', 'intake', 'uploadTrigger', 'notifier', 'worker']),
    );
    for (const f of model.functions) {
      expect(f.fullName).toBe(`openvod-dev-${f.name}`);
      expect(f.arn).toBe(`arn:aws:lambda:${LOCAL_REGION}:${LOCAL_ACCOUNT}:function:${f.fullName}`);
      expect(f.timeoutSeconds).toBeGreaterThan(0);
      const [file, exported] = f.handler.split(/\.(?=[^./]+$)/);
      const source = path.join(ROOT, `${file}.ts`);
      expect(existsSync(source)).toBe(true);
      expect(readFileSync(source, 'utf8')).toMatch(
        new RegExp(`export\\s+(const|async function|function)\\s+${exported}\\b`),
      );
    }
    expect(functionLogicalId('uploadTrigger')).toBe('UploadTriggerLambdaFunction');
    expect(fn('worker').timeoutSeconds).toBe(900);
  });

  it('routes POST / of the HTTP API to the api function, and the client upload endpoint to its function', () => {
    const http = eventsOf('httpApi');
    expect(http.map((x) => [x.fn.name, x.e])).toEqual([
      ['api', { type: 'httpApi', method: 'POST', path: '/' }],
      ['clientUpload', { type: 'httpApi', method: 'POST', path: '/upload/apply' }],
      ['clientUpload', { type: 'httpApi', method: 'OPTIONS', path: '/upload/apply' }],
    ]);
    expect(fn('clientUpload').timeoutSeconds).toBeLessThanOrEqual(30);
    // API Gateway's integration timeout is 30 s.
    expect(fn('api').timeoutSeconds).toBeLessThanOrEqual(30);
  });

  it('maps the IntakeQueue to the intake function with ReportBatchItemFailures', () => {
    const sqs = eventsOf('sqs');
    expect(sqs.map((x) => [x.fn.name, x.e.queueLogicalId])).toEqual([
      ['intake', 'IntakeQueue'],
      ['pusher', 'EventDeliveryQueue'],
    ]);
    expect(sqs[0].e).toMatchObject({ batchSize: 10, reportBatchItemFailures: true });
    // AWS refuses an SQS mapping whose queue's visibility timeout is below the function timeout.
    const q = model.queues.find((x) => x.logicalId === 'IntakeQueue');
    expect(q?.visibilityTimeout).toBeGreaterThanOrEqual(fn('intake').timeoutSeconds);
  });

  it('maps the TasksTable stream to the notifier', () => {
    const streams = eventsOf('stream');
    expect(streams.map((x) => [x.fn.name, x.e.tableLogicalId])).toEqual([
      ['notifier', 'TasksTable'],
      ['eventEnqueue', 'EventsTable'],
    ]);
    expect(streams[0].e).toMatchObject({ startingPosition: 'TRIM_HORIZON', reportBatchItemFailures: true });
    expect(streams[0].e.batchSize).toBeGreaterThan(0);
    // Retried without limit (there is no on-failure destination): the notifier itself skips poison records.
    expect(streams[0].e.maximumRetryAttempts).toBe(-1);
  });

  it('sends ObjectCreated under uploads/ of the media bucket to the upload trigger', () => {
    const s3 = eventsOf('s3');
    expect(s3).toHaveLength(1);
    expect(s3[0].fn.name).toBe('uploadTrigger');
    expect(s3[0].e).toMatchObject({ bucketName: BUCKET, event: 's3:ObjectCreated:*', prefix: 'uploads/' });
    expect(model.buckets).toEqual([BUCKET]);
  });

  it('declares the tables; the tasks table has streams NEW_AND_OLD_IMAGES, TTL and its two GSIs', () => {
    expect(model.tables.map((t) => t.logicalId)).toEqual(
      expect.arrayContaining(['AppsTable', 'TasksTable', 'MediaTable', 'EventsTable']),
    );
    for (const t of model.tables) expect(t.properties.TableName).toBe(model.physicalNames[t.logicalId]);
    const tasks = table('TasksTable');
    expect(tasks.TableName).toBe('openvod-dev-tasks');
    expect(tasks.StreamSpecification).toEqual({ StreamViewType: 'NEW_AND_OLD_IMAGES' });
    expect(tasks.TimeToLiveSpecification).toEqual({ AttributeName: 'expiresAt', Enabled: true });
    expect(tasks.KeySchema).toEqual([
      { AttributeName: 'pk', KeyType: 'HASH' },
      { AttributeName: 'sk', KeyType: 'RANGE' },
    ]);
    const gsis = tasks.GlobalSecondaryIndexes as Array<{
      IndexName: string;
      KeySchema: Array<{ AttributeName: string }>;
    }>;
    expect(gsis.map((g) => [g.IndexName, g.KeySchema.map((k) => k.AttributeName)])).toEqual(
      expect.arrayContaining([
        ['byCreateTime', ['gsi1pk', 'gsi1sk']],
        ['byFinishTime', ['gsi2pk', 'gsi2sk']],
      ]),
    );
    // Every key attribute is declared.
    for (const t of model.tables) {
      const p = t.properties as Record<
        string,
        Array<{ AttributeName: string; KeySchema?: Array<{ AttributeName: string }> }>
      >;
      const declared = new Set(p.AttributeDefinitions.map((a) => a.AttributeName));
      const used = [
        ...p.KeySchema,
        ...(p.GlobalSecondaryIndexes ?? []).flatMap((g) => g.KeySchema ?? []),
      ].map((k) => k.AttributeName);
      for (const u of used) expect(declared).toContain(u);
    }
    expect(table('EventsTable').TimeToLiveSpecification).toMatchObject({ Enabled: true });
  });

  it('gives every queue a dead-letter queue that is itself declared (and has none)', () => {
    const dlqs = new Set(model.queues.flatMap((q) => (q.redrive ? [q.redrive.dlqLogicalId] : [])));
    const work = model.queues.filter((q) => !dlqs.has(q.logicalId));
    expect(work.map((q) => q.logicalId)).toContain('IntakeQueue');
    for (const q of work) {
      expect(q.redrive).toBeDefined();
      expect(q.redrive!.maxReceiveCount).toBeGreaterThan(0);
      const dlq = model.queues.find((x) => x.logicalId === q.redrive!.dlqLogicalId);
      expect(dlq).toBeDefined();
      expect(dlq!.redrive).toBeUndefined();
      // A DLQ keeps messages at least as long as its source queue.
      expect(dlq!.messageRetentionPeriod ?? 345600).toBeGreaterThanOrEqual(
        q.messageRetentionPeriod ?? 345600,
      );
    }
    expect(model.physicalNames.IntakeQueue).toBe('openvod-dev-intake');
  });

  it('loads the task-flow state machine with a substitution for every placeholder', () => {
    expect(model.stateMachines).toHaveLength(1);
    const sm = model.stateMachines[0];
    expect(sm.name).toBe('openvod-dev-task-flow');
    const asl = JSON.parse(
      readFileSync(path.join(ROOT, 'statemachines/task-flow.asl.json'), 'utf8'),
    ) as object;
    expect(sm.definition).toEqual(asl);
    const placeholders = new Set(
      [...JSON.stringify(sm.definition).matchAll(/\$\{([^}]+)\}/g)].map((m) => m[1]),
    );
    expect(placeholders.size).toBeGreaterThan(0);
    for (const p of placeholders) {
      expect(sm.substitutions).toHaveProperty(p);
      expect(sm.substitutions[p]).not.toMatch(/\$\{|^$|arn:local:/);
    }
    expect(sm.substitutions.WorkerFunctionArn).toBe(fn('worker').arn);
    // Every *FunctionArn placeholder names a function of serverless.yml.
    const arns = new Set(model.functions.map((f) => f.arn));
    for (const p of [...placeholders].filter((x) => x.endsWith('FunctionArn'))) {
      expect({ p, known: arns.has(sm.substitutions[p]) }).toEqual({ p, known: true });
    }
    const resolved = JSON.stringify(substituteDefinition(sm.definition, sm.substitutions));
    expect(resolved).not.toContain('${');
  });

  it('resolves the environment to local names that parseConfig accepts', () => {
    expect(model.environment).toMatchObject({
      OPENVOD_MODE: 'aws',
      APPS_TABLE: 'openvod-dev-apps',
      TASKS_TABLE: 'openvod-dev-tasks',
      MEDIA_TABLE: 'openvod-dev-media',
      MEDIA_BUCKET: BUCKET,
      INTAKE_QUEUE_URL: `${SQS}/${LOCAL_ACCOUNT}/openvod-dev-intake`,
      TASK_FLOW_STATE_MACHINE_ARN: `arn:aws:states:${LOCAL_REGION}:${LOCAL_ACCOUNT}:stateMachine:openvod-dev-task-flow`,
    });
    expect('OPENVOD_KMS_KEY_ID' in model.environment).toBe(true);
    for (const v of Object.values(model.environment)) expect(v).not.toMatch(/\$\{|\[object/);
    const config = parseConfig({
      ...model.environment,
      OPENVOD_MODE: 'local',
      OPENVOD_LOCAL_MASTER_KEY: randomBytes(32).toString('base64'),
    });
    expect(config.tables).toMatchObject({
      apps: 'openvod-dev-apps',
      tasks: 'openvod-dev-tasks',
      media: 'openvod-dev-media',
    });
    expect(model.containerEnvironment).toMatchObject({
      TASKS_TABLE: 'openvod-dev-tasks',
      MEDIA_BUCKET: BUCKET,
    });
  });

  it('follows the stage into every name', () => {
    const prod = loadServiceModel({ root: ROOT, stage: 'prod', endpoints: { sqs: SQS } });
    expect(prod.stage).toBe('prod');
    expect(prod.physicalNames.TasksTable).toBe('openvod-prod-tasks');
    expect(prod.functions.find((f) => f.name === 'api')?.fullName).toBe('openvod-prod-api');
    expect(prod.stateMachines[0].name).toBe('openvod-prod-task-flow');
    expect(prod.environment.TASKS_TABLE).toBe('openvod-prod-tasks');
  });
});

describe('schedule events', () => {
  test('the intake sweep is read from serverless.yml as a local timer', () => {
    const m = loadServiceModel({
      root: path.resolve(__dirname, '../..'),
      endpoints: { sqs: 'http://127.0.0.1:1' },
    });
    const intake = m.functions.find((f) => f.name === 'intake')!;
    expect(intake.events).toContainEqual({ type: 'schedule', everyMs: 60_000, input: { sweep: true } });
  });
});
