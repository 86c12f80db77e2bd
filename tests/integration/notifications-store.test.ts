/**
 * Notifications on the real emulators, below the handlers: the notifier crashing mid-batch under the real
 * DynamoDB Streams wiring loses and doubles nothing; PullEvents/ConfirmEvents semantics on DynamoDB Local
 * (exclusive claims under concurrency, redelivery with a new handle, stale/expired/foreign handles);
 * local-aws-sqs honours per-message DelaySeconds (the push retries depend on it).
 */
import '../../local/polyfills';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { CreateTableCommand, DynamoDBClient, type CreateTableCommandInput } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand, ScanCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import {
  CreateQueueCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { startDynamoDb } from '../../local/emulators/dynamodb';
import { startSqs } from '../../local/emulators/sqs';
import { startStreamMapping } from '../../local/wiring/ddb-streams';
import { loadServiceModel } from '../../local/serverless-config';
import { DynamoEventStore, type StoredEvent } from '../../src/adapters/event-store';
import { DynamoEventConfigRepository } from '../../src/adapters/event-config-repo';
import { DynamoTaskStore } from '../../src/adapters/task-store';
import { eventId, notifyTaskChanges, publishEvent, type ItemImage } from '../../src/services/events';
import { confirmEvents, pullEvents, type PullDeps } from '../../src/services/pull';
import { ApiError } from '../../src/domain/errors';
import { freePort } from '../helpers/ports';

jest.setTimeout(60_000);

const region = 'us-east-1';
const credentials = { accessKeyId: 'l', secretAccessKey: 'l' };
let dir: string;
let stops: Array<() => Promise<void>> = [];
let ddbEndpoint: string;
let doc: DynamoDBDocumentClient;
let events: DynamoEventStore;
let configs: DynamoEventConfigRepository;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'openvod-notif-'));
  const db = await startDynamoDb({ port: await freePort(), dataDir: dir });
  stops.push(db.stop);
  ddbEndpoint = db.endpoint;
  const ddb = new DynamoDBClient({ region, endpoint: db.endpoint, credentials });
  const model = loadServiceModel({
    root: path.resolve(__dirname, '../..'),
    endpoints: { sqs: 'http://127.0.0.1:1' },
  });
  for (const id of ['TasksTable', 'EventsTable', 'MediaTable']) {
    const t = model.tables.find((x) => x.logicalId === id)!.properties as Record<string, unknown>;
    const stream = t.StreamSpecification as { StreamViewType: string } | undefined;
    await ddb.send(
      new CreateTableCommand({
        TableName: id,
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
  doc = DynamoDBDocumentClient.from(ddb, { marshallOptions: { removeUndefinedValues: true } });
  events = new DynamoEventStore(doc, 'EventsTable');
  configs = new DynamoEventConfigRepository(doc, 'EventsTable');
}, 60_000);

afterAll(async () => {
  doc?.destroy();
  for (const s of stops.reverse()) await s();
  stops = [];
  rmSync(dir, { recursive: true, force: true });
});

const until = async (what: string, ok: () => Promise<boolean>, ms = 20_000) => {
  const end = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
};

async function eventsOf(subAppId: number): Promise<StoredEvent[]> {
  const out: StoredEvent[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await doc.send(
      new ScanCommand({ TableName: 'EventsTable', ExclusiveStartKey: start, ConsistentRead: true }),
    );
    for (const i of page.Items ?? [])
      if (i.pk === `APP#${subAppId}` && String(i.sk).startsWith('EVT#')) out.push(i as StoredEvent);
    start = page.LastEvaluatedKey;
  } while (start);
  return out;
}

describe('notifier under the DynamoDB Streams wiring', () => {
  test('crashing mid-batch after storing some events: the retried batch completes the set, with no duplicate', async () => {
    const subAppId = 1500000101;
    const tasks = new DynamoTaskStore(doc, 'TasksTable');
    let puts = 0;
    let crashed = false;
    const stored: string[] = [];
    const deps = {
      events: {
        putOnce: async (e: StoredEvent) => {
          // The "Lambda" dies after its 7th stored event, once.
          if (!crashed && ++puts > 7) {
            crashed = true;
            throw new Error('simulated crash');
          }
          const ok = await events.putOnce(e);
          if (ok) stored.push(e.eventId);
          return ok;
        },
      },
      configs,
      tasks,
      procedureTask: async (t: { taskId: string; sessionContext?: string }) => ({
        TaskId: t.taskId,
        SessionContext: t.sessionContext ?? '',
      }),
      clock: Date.now,
    };
    const mapping = startStreamMapping({
      ddbEndpoint,
      tableName: 'TasksTable',
      batchSize: 100,
      startingPosition: 'TRIM_HORIZON',
      checkpointFile: path.join(dir, 'tasks-stream.json'),
      pollIntervalMs: 50,
      handler: async (event) => {
        const image = (i: unknown) =>
          i
            ? (unmarshall(i as Record<string, AttributeValue>) as ItemImage & Record<string, unknown>)
            : undefined;
        // A crash is a thrown error: the whole batch is retried, as Lambda does.
        const r = await notifyTaskChanges(
          { ...deps, procedureTask: (t) => deps.procedureTask(t) },
          event.Records.map((x) => ({
            seq: x.dynamodb?.SequenceNumber ?? '',
            oldImage: image(x.dynamodb?.OldImage),
            newImage: image(x.dynamodb?.NewImage),
          })),
        );
        if (r.failedSeq) throw new Error('notifier failed');
      },
    });
    stops.push(() => mapping.stop());
    // 5 flows of 2 subtasks in Change mode: 5 events each.
    const expected: string[] = [];
    for (let f = 0; f < 5; f++) {
      const taskId = `crash-${f}`;
      const base = { subAppId, notifyMode: 'Change', expiresAt: 9e9 };
      await doc.send(
        new PutCommand({
          TableName: 'TasksTable',
          Item: {
            pk: `TASK#${taskId}`,
            sk: '#TASK',
            taskId,
            taskType: 'Procedure',
            status: 'PROCESSING',
            createTime: new Date().toISOString(),
            priority: 0,
            subtaskCount: 2,
            sessionContext: `ctx-${f}`,
            ...base,
          },
        }),
      );
      for (const i of [0, 1]) {
        await doc.send(
          new PutCommand({
            TableName: 'TasksTable',
            Item: {
              pk: `TASK#${taskId}`,
              sk: `SUB#000${i}`,
              taskId,
              index: i,
              kind: 'Transcode',
              status: 'WAITING',
              input: {},
              template: {},
              progress: 0,
              errCode: 0,
              message: '',
              ...base,
            },
          }),
        );
      }
      for (const status of ['PROCESSING', 'SUCCESS']) {
        await Promise.all(
          [0, 1].map((i) =>
            doc.send(
              new UpdateCommand({
                TableName: 'TasksTable',
                Key: { pk: `TASK#${taskId}`, sk: `SUB#000${i}` },
                UpdateExpression: 'SET #s = :s',
                ExpressionAttributeNames: { '#s': 'status' },
                ExpressionAttributeValues: { ':s': status },
              }),
            ),
          ),
        );
        for (const i of [0, 1]) expected.push(eventId(taskId, `SUB#000${i}:${status}`));
      }
      await doc.send(
        new UpdateCommand({
          TableName: 'TasksTable',
          Key: { pk: `TASK#${taskId}`, sk: '#TASK' },
          UpdateExpression: 'SET #s = :s',
          ExpressionAttributeNames: { '#s': 'status' },
          ExpressionAttributeValues: { ':s': 'FINISH' },
        }),
      );
      expected.push(eventId(taskId, 'FINISH'));
    }
    await until('all 25 events', async () => (await eventsOf(subAppId)).length >= 25);
    await new Promise((r) => setTimeout(r, 500));
    expect(crashed).toBe(true);
    const all = await eventsOf(subAppId);
    expect(all.map((e) => e.eventId).sort()).toEqual([...expected].sort());
    // Each event was stored by exactly one put (the re-run's puts of the first 7 were refused as duplicates).
    expect([...stored].sort()).toEqual([...expected].sort());
    expect(all.every((e) => e.state === 'PENDING' && e.delivery === 'PULL')).toBe(true);
    const finish = all.find((e) => e.eventId === eventId('crash-3', 'FINISH'))!;
    expect(finish.content).toEqual({
      EventType: 'ProcedureStateChanged',
      ProcedureStateChangeEvent: { TaskId: 'crash-3', SessionContext: 'ctx-3' },
    });
    await mapping.stop();
  });
});

describe('PullEvents / ConfirmEvents on DynamoDB Local', () => {
  const pullDeps = (visibilityMs = 1500, waitMs = 300): PullDeps => ({
    events,
    clock: Date.now,
    visibilityMs,
    waitMs,
  });
  type Pulled = {
    EventSet: Array<{
      EventHandle: string;
      EventType: string;
      ProcedureStateChangeEvent: { TaskId: string };
    }>;
  };
  const pull = async (app: number, d = pullDeps()) => (await pullEvents(d, app, {})) as Pulled;
  const apiError = async (p: Promise<unknown>) => {
    try {
      await p;
    } catch (e) {
      if (e instanceof ApiError) return { code: e.code, message: e.message };
      throw e;
    }
    throw new Error('expected an ApiError');
  };
  async function seed(app: number, n: number, prefix: string) {
    await configs.update(app, { mode: 'PULL' }, new Date().toISOString());
    for (let i = 0; i < n; i++) {
      await publishEvent(
        { events, configs, clock: Date.now },
        {
          subAppId: app,
          eventId: `${prefix}${i}`,
          eventType: 'ProcedureStateChanged',
          content: { TaskId: `${prefix}${i}` },
        },
      );
    }
  }

  test('concurrent pulls never hand out the same event; at most 16 per pull; all events reach someone once', async () => {
    const app = 1500000201;
    await seed(app, 40, 'c');
    const long = pullDeps(30_000);
    const results = await Promise.all([pull(app, long), pull(app, long), pull(app, long), pull(app, long)]);
    const ids = results.flatMap((r) => r.EventSet.map((e) => e.ProcedureStateChangeEvent.TaskId));
    for (const r of results) expect(r.EventSet.length).toBeLessThanOrEqual(16);
    expect(new Set(ids).size).toBe(ids.length);
    // What the first round did not get, later pulls do.
    const more = [await pull(app, long), await pull(app, long), await pull(app, long)].flatMap((r) =>
      r.EventSet.map((e) => e.ProcedureStateChangeEvent.TaskId),
    );
    expect([...ids, ...more].sort()).toEqual(Array.from({ length: 40 }, (_, i) => `c${i}`).sort());
  });

  test('unconfirmed → delivered again with a new handle after the visibility timeout; the old handle is refused as superseded', async () => {
    const app = 1500000202;
    await seed(app, 2, 'r');
    const first = await pull(app);
    expect(first.EventSet.map((e) => e.ProcedureStateChangeEvent.TaskId).sort()).toEqual(['r0', 'r1']);
    expect((await pull(app)).EventSet).toEqual([]); // hidden while pulled (long poll ran out)
    // Confirm r0 in time; let r1's handle expire.
    const h0 = first.EventSet.find((e) => e.ProcedureStateChangeEvent.TaskId === 'r0')!.EventHandle;
    const h1 = first.EventSet.find((e) => e.ProcedureStateChangeEvent.TaskId === 'r1')!.EventHandle;
    await confirmEvents(pullDeps(), app, { EventHandles: [h0] });
    await new Promise((r) => setTimeout(r, 1700));
    const expired = await apiError(confirmEvents(pullDeps(), app, { EventHandles: [h1] }));
    expect(expired.code).toBe('InvalidParameterValue.EventHandles');
    expect(expired.message).toContain('expired');
    const again = await pull(app);
    expect(again.EventSet.map((e) => e.ProcedureStateChangeEvent.TaskId)).toEqual(['r1']);
    expect(again.EventSet[0].EventHandle).not.toBe(h1);
    const stale = await apiError(confirmEvents(pullDeps(), app, { EventHandles: [h1] }));
    expect(stale.message).toContain('superseded');
    await confirmEvents(pullDeps(), app, { EventHandles: [again.EventSet[0].EventHandle] });
    await new Promise((r) => setTimeout(r, 1700));
    expect((await pull(app)).EventSet).toEqual([]); // confirmed events never come back
  });

  test("another app's handle, a made-up handle, and a mix: refused by name, the valid ones confirmed", async () => {
    const a = 1500000203;
    const b = 1500000204;
    await seed(a, 1, 'fa');
    await seed(b, 1, 'fb');
    const ha = (await pull(a)).EventSet[0].EventHandle;
    const hb = (await pull(b)).EventSet[0].EventHandle;
    const foreign = await apiError(confirmEvents(pullDeps(), a, { EventHandles: [hb, 'nonsense'] }));
    expect(foreign.code).toBe('InvalidParameterValue.EventHandles');
    expect(foreign.message).toContain(`${hb} is not a handle of an event of this app`);
    expect(foreign.message).toContain('nonsense is not a handle');
    const mixed = await apiError(confirmEvents(pullDeps(), a, { EventHandles: [ha, hb] }));
    expect(mixed.message).toContain('The other 1 handle(s) were confirmed');
    // b's event is untouched by a's attempts: b confirms it.
    await confirmEvents(pullDeps(), b, { EventHandles: [hb] });
    const tooMany = await apiError(
      confirmEvents(pullDeps(), a, { EventHandles: Array.from({ length: 17 }, () => ha) }),
    );
    expect(tooMany.code).toBe('InvalidParameterValue.EventHandles');
  });

  test('a long poll returns as soon as an event arrives', async () => {
    const app = 1500000205;
    await configs.update(app, { mode: 'PULL' }, new Date().toISOString());
    const t0 = Date.now();
    setTimeout(() => void seed(app, 1, 'lp'), 800);
    const got = await pull(app, pullDeps(30_000, 5000));
    const ms = Date.now() - t0;
    expect(got.EventSet.map((e) => e.ProcedureStateChangeEvent.TaskId)).toEqual(['lp0']);
    expect(ms).toBeGreaterThanOrEqual(700);
    expect(ms).toBeLessThan(2500);
  });
});

describe('local-aws-sqs', () => {
  test('honours per-message DelaySeconds', async () => {
    const emu = await startSqs({ port: await freePort(), dataDir: path.join(dir, 'sqs') });
    stops.push(() => emu.stop());
    const sqs = new SQSClient({ region, endpoint: emu.endpoint, credentials });
    const url = (await sqs.send(new CreateQueueCommand({ QueueName: 'delay-check' }))).QueueUrl!;
    const sentAt = Date.now();
    await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'later', DelaySeconds: 2 }));
    await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'now' }));
    const seen: Array<{ body: string; ms: number }> = [];
    while (seen.length < 2 && Date.now() - sentAt < 6000) {
      const r = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
      );
      for (const m of r.Messages ?? []) seen.push({ body: m.Body!, ms: Date.now() - sentAt });
      await new Promise((res) => setTimeout(res, 50));
    }
    sqs.destroy();
    expect(seen.map((s) => s.body)).toEqual(['now', 'later']);
    expect(seen[0].ms).toBeLessThan(1000);
    expect(seen[1].ms).toBeGreaterThanOrEqual(1900);
    expect(seen[1].ms).toBeLessThan(3500);
  });
});
