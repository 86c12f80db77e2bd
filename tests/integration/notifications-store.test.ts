/**
 * Notifications on the real emulators, below the handlers: the notifier crashing mid-batch under the real
 * DynamoDB Streams wiring loses and doubles nothing; PullEvents/ConfirmEvents semantics on DynamoDB Local
 * (exclusive claims under concurrency, redelivery with a new handle, stale/expired/foreign handles);
 * local-aws-sqs honours per-message DelaySeconds (the push retries depend on it).
 */
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import {
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  ScanCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import {
  CreateQueueCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { startSqs } from '../../local/emulators/sqs';
import { startStreamMapping } from '../../local/wiring/ddb-streams';
import type { ServiceModel } from '../../local/serverless-config';
import { DynamoEventStore, EVENT_RETENTION_SECONDS, type StoredEvent } from '../../src/adapters/event-store';
import { DynamoEventConfigRepository } from '../../src/adapters/event-config-repo';
import { LocalSecretCipher } from '../../src/adapters/secret-cipher';
import { modifyEventConfig, openSignKey, type EventConfigDeps } from '../../src/services/event-config';
import { DynamoTaskStore } from '../../src/adapters/task-store';
import { eventId, notifierBatch, publishEvent, type NotifierDeps } from '../../src/services/events';
import { confirmEvents, pullEvents, type PullDeps } from '../../src/services/pull';
import { sweepPushes, SWEEP_GRACE_MS, type PushMessage } from '../../src/services/delivery';
import { ApiError } from '../../src/domain/errors';
import { freePort } from '../helpers/ports';
import { startDynamoWithTables } from '../helpers/dynamo';

jest.setTimeout(60_000);

const region = 'us-east-1';
const credentials = { accessKeyId: 'l', secretAccessKey: 'l' };
let dir: string;
let stops: Array<() => Promise<void>> = [];
let ddbEndpoint: string;
let doc: DynamoDBDocumentClient;
let events: DynamoEventStore;
let configs: DynamoEventConfigRepository;
let model: ServiceModel;

beforeAll(async () => {
  const db = await startDynamoWithTables(['TasksTable', 'EventsTable', 'MediaTable'], 'openvod-notif-');
  stops.push(db.stop);
  dir = db.dir;
  ddbEndpoint = db.endpoint;
  model = db.model;
  doc = db.doc;
  events = new DynamoEventStore(doc, 'EventsTable');
  configs = new DynamoEventConfigRepository(doc, 'EventsTable');
}, 60_000);

afterAll(async () => {
  for (const s of stops.reverse()) await s();
  stops = [];
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
    const deps: NotifierDeps = {
      events: {
        putOnce: async (e: StoredEvent) => {
          // The "Lambda" fails after its 7th stored event, once (a transient error: the write was refused).
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
      procedureTask: async (t) => ({
        TaskId: t.taskId,
        SessionContext: t.sessionContext ?? '',
      }),
      pullUploadTask: async () => ({}),
      clock: Date.now,
      logError: (msg, extra) => skipped.push(`${msg}: ${String(extra.error)}`),
    };
    const skipped: string[] = [];
    // The production settings: the notifier's stream event in serverless.yml (retries, batch item failures)…
    const fn = model.functions.find((f) => f.handler === 'functions/notifier.handler')!;
    const stream = fn.events.find((e) => e.type === 'stream')!;
    if (stream.type !== 'stream') throw new Error('the notifier has no stream event');
    expect(stream.maximumRetryAttempts).toBe(-1);
    expect(stream.reportBatchItemFailures).toBe(true);
    const mapping = startStreamMapping({
      ddbEndpoint,
      tableName: 'TasksTable',
      batchSize: stream.batchSize,
      startingPosition: stream.startingPosition,
      maximumRetryAttempts: stream.maximumRetryAttempts,
      reportBatchItemFailures: stream.reportBatchItemFailures,
      checkpointFile: path.join(dir, 'tasks-stream.json'),
      pollIntervalMs: 50,
      // …and the handler's own batch logic (functions/notifier.ts is exactly this).
      handler: (event) => notifierBatch(deps, event),
    });
    stops.push(() => mapping.stop());
    // A record that can never succeed (a task item without a usable subAppId): skipped alone, never blocking.
    await doc.send(
      new PutCommand({
        TableName: 'TasksTable',
        Item: { pk: 'TASK#poison', sk: '#TASK', taskId: 'poison', subAppId: 'x', status: 'FINISH' },
      }),
    );
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
    expect(skipped).toEqual([
      'notifier skipped a record it can never handle: malformed stream record: subAppId is not an integer',
    ]);
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
  // A fake clock (the store takes all its times from it): no real waiting, nothing timing-sensitive.
  let fakeNow = Date.now();
  const fake = () => fakeNow;
  const pullDeps = (visibilityMs = 30_000, waitMs = 0, clock: () => number = fake): PullDeps => ({
    events,
    clock,
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
  async function seed(app: number, n: number, prefix: string, clock: () => number = fake) {
    await configs.update(app, { mode: 'PULL' }, new Date().toISOString());
    for (let i = 0; i < n; i++) {
      await publishEvent(
        { events, configs, clock },
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
    fakeNow += 30_001;
    const expired = await apiError(confirmEvents(pullDeps(), app, { EventHandles: [h1] }));
    expect(expired.code).toBe('InvalidParameterValue.EventHandles');
    expect(expired.message).toContain('expired');
    const again = await pull(app);
    expect(again.EventSet.map((e) => e.ProcedureStateChangeEvent.TaskId)).toEqual(['r1']);
    expect(again.EventSet[0].EventHandle).not.toBe(h1);
    const stale = await apiError(confirmEvents(pullDeps(), app, { EventHandles: [h1] }));
    expect(stale.message).toContain('superseded');
    await confirmEvents(pullDeps(), app, { EventHandles: [again.EventSet[0].EventHandle] });
    fakeNow += 30_001;
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
    let writtenAt = 0;
    setTimeout(() => void seed(app, 1, 'lp', Date.now).then(() => (writtenAt = Date.now())), 800);
    // Real time here (the long poll waits on it), with a wait far beyond what the answer needs.
    const got = await pull(app, pullDeps(30_000, 60_000, Date.now));
    const returnedAt = Date.now();
    expect(got.EventSet.map((e) => e.ProcedureStateChangeEvent.TaskId)).toEqual(['lp0']);
    expect(returnedAt - t0).toBeGreaterThanOrEqual(700);
    // Measured from the event's write (not the test's start), with room for 2 slow, shared cores.
    expect(returnedAt - (writtenAt || returnedAt)).toBeLessThan(10_000);
    expect(returnedAt - t0).toBeLessThan(15_000);
  });

  test('more than 32 expired events never hide newer ones: they leave the index and the pull reads on', async () => {
    const app = 1500000206;
    const t0 = Date.UTC(2026, 0, 1);
    await seed(app, 40, 'old', () => t0);
    await seed(app, 3, 'new', () => t0 + EVENT_RETENTION_SECONDS * 1000 + 3_600_000);
    const later = () => t0 + EVENT_RETENTION_SECONDS * 1000 + 7_200_000;
    const got = await pull(app, pullDeps(30_000, 0, later));
    expect(got.EventSet.map((e) => e.ProcedureStateChangeEvent.TaskId).sort()).toEqual([
      'new0',
      'new1',
      'new2',
    ]);
    const all = await eventsOf(app);
    const old = all.filter((e) => e.eventId.startsWith('old'));
    expect(old).toHaveLength(40);
    expect(old.every((e) => e.state === 'EXPIRED')).toBe(true);
    expect(old.some((e) => 'pullpk' in e || 'pullsk' in e)).toBe(false);
    // Confirmed, nothing is left to pull.
    await confirmEvents(pullDeps(30_000, 0, later), app, {
      EventHandles: got.EventSet.map((e) => e.EventHandle),
    });
    expect((await pull(app, pullDeps(30_000, 0, later))).EventSet).toEqual([]);
  });

  test('a push given up is pullable for 4 days from then, not from its creation', async () => {
    const app = 1500000207;
    const t0 = Date.UTC(2026, 1, 1);
    await configs.update(
      app,
      { mode: 'PUSH', notificationUrl: 'http://127.0.0.1:9/cb' },
      new Date().toISOString(),
    );
    await publishEvent(
      { events, configs, clock: () => t0 },
      { subAppId: app, eventId: 'gu0', eventType: 'ProcedureStateChanged', content: { TaskId: 'gu0' } },
    );
    const gaveUpAt = t0 + 24 * 3_600_000;
    const lease = gaveUpAt + 20_000;
    expect(await events.claimPush(app, 'gu0', 1, gaveUpAt, lease)).toBeDefined();
    expect(await events.giveUpPush(app, 'gu0', lease, 1, 'HTTP 500', gaveUpAt)).toBe(true);
    expect((await events.get(app, 'gu0'))?.expiresAt).toBe(
      Math.floor(gaveUpAt / 1000) + EVENT_RETENTION_SECONDS,
    );
    // 4.5 days after creation (3.5 after the give-up): still pullable.
    const at = () => t0 + 4.5 * 24 * 3_600_000;
    expect(
      (await pull(app, pullDeps(30_000, 0, at))).EventSet.map((e) => e.ProcedureStateChangeEvent.TaskId),
    ).toEqual(['gu0']);
  });
});

describe('push sweeper on DynamoDB Local (index byPushDue)', () => {
  test('re-sends pushes never enqueued or whose message was lost, gives up those past the window; leaves the rest', async () => {
    const app = 1500000301;
    const t0 = Date.UTC(2026, 2, 1);
    const windowMs = 24 * 3_600_000;
    await configs.update(
      app,
      { mode: 'PUSH', notificationUrl: 'http://127.0.0.1:9/cb' },
      new Date().toISOString(),
    );
    const store = (id: string, at: number) =>
      publishEvent(
        { events, configs, clock: () => at },
        { subAppId: app, eventId: id, eventType: 'ProcedureStateChanged', content: { TaskId: id } },
      );
    const now = t0 + windowMs + 3_600_000;
    // never-enqueued: stored 10 min ago, no attempt ever ran.
    await store('sw-never', now - 600_000);
    // fresh: stored 1 min ago (its first message may still be on its way).
    await store('sw-fresh', now - 60_000);
    // lost: attempt 3 failed and queued attempt 4 due 20 min ago, whose message was dead-lettered.
    await store('sw-lost', now - 3_600_000);
    const l1 = now - 3_000_000;
    await events.claimPush(app, 'sw-lost', 1, l1 - 20_000, l1);
    await events.recordFailure(app, 'sw-lost', l1, 1, 'HTTP 500', now - 1_200_000);
    // waiting: attempt 2 due in 10 min: not overdue.
    await store('sw-waiting', now - 3_600_000);
    await events.claimPush(app, 'sw-waiting', 1, l1 - 20_000, l1);
    await events.recordFailure(app, 'sw-waiting', l1, 1, 'HTTP 500', now + 600_000);
    // running: an attempt holds a live lease.
    await store('sw-running', now - 3_600_000);
    await events.claimPush(app, 'sw-running', 1, now - 1000, now + 10_000);
    // stuck past the window: created 25 h ago, its attempt's lease ran out long ago (message dead-lettered).
    await store('sw-stuck', t0);
    await events.claimPush(app, 'sw-stuck', 1, now - 2_000_000, now - 1_900_000);
    // pushed: acknowledged, no longer in the index.
    await store('sw-pushed', now - 3_600_000);
    await events.claimPush(app, 'sw-pushed', 1, l1 - 20_000, l1);
    await events.markPushed(app, 'sw-pushed', l1, l1 - 10_000, 1);

    const sent: PushMessage[] = [];
    const dead: Array<Record<string, unknown>> = [];
    const deps = {
      events,
      queue: {
        send: async (m: PushMessage) => void sent.push(m),
        deadLetter: async (b: object) => void dead.push(b as Record<string, unknown>),
      },
      clock: () => now,
      policy: { baseMs: 5000, maxMs: 3_600_000, windowMs },
    };
    expect(await sweepPushes(deps)).toEqual({ resent: 2, gaveUp: 1 });
    expect(sent.map((m) => [m.eventId, m.attempt]).sort()).toEqual([
      ['sw-lost', 2],
      ['sw-never', 1],
    ]);
    expect(dead).toEqual([expect.objectContaining({ eventId: 'sw-stuck', sweeper: true })]);
    const stuck = await events.get(app, 'sw-stuck');
    expect(stuck).toMatchObject({
      state: 'PENDING',
      expiresAt: Math.floor(now / 1000) + EVENT_RETENTION_SECONDS,
    });
    // The given-up event is pullable now.
    const pulled = (await pullEvents(
      { events, clock: () => now, visibilityMs: 30_000, waitMs: 0 },
      app,
      {},
    )) as {
      EventSet: Array<{ ProcedureStateChangeEvent: { TaskId: string } }>;
    };
    expect(pulled.EventSet.map((e) => e.ProcedureStateChangeEvent.TaskId)).toEqual(['sw-stuck']);
    // Re-sent events are postponed: the next sweep (a minute later) sends nothing twice.
    sent.length = 0;
    expect(await sweepPushes({ ...deps, clock: () => now + 60_000 })).toEqual({ resent: 0, gaveUp: 0 });
    // Still not delivered after another grace period: sent again (with, by then, the fresh one and the one
    // whose attempt's lease ran out); never the given-up, acknowledged or still-waiting ones.
    await sweepPushes({ ...deps, clock: () => now + 2 * SWEEP_GRACE_MS + 1000 });
    expect(sent.map((m) => m.eventId).sort()).toEqual(['sw-fresh', 'sw-lost', 'sw-never', 'sw-running']);
  });
});

describe('SignKey at rest in the events table', () => {
  const cipher = new LocalSecretCipher(randomBytes(32).toString('base64'));
  const api = (): EventConfigDeps => ({
    configs,
    cipher,
    urlPolicy: { allowLoopback: true },
    clock: Date.now,
  });
  const rawItem = async (app: number) =>
    (
      await doc.send(
        new GetCommand({
          TableName: 'EventsTable',
          Key: { pk: `APP#${app}`, sk: '#CONFIG' },
          ConsistentRead: true,
        }),
      )
    ).Item ?? {};

  test('ModifyEventConfig writes only the sealed SignKey; the pusher opens it; other fields are kept', async () => {
    const app = 1_000_501;
    await modifyEventConfig(api(), app, { Mode: 'PULL', NotificationUrl: 'http://127.0.0.1:9/cb' });
    await modifyEventConfig(api(), app, { SignKey: 'AtRestKey99' });
    const item = await rawItem(app);
    expect(item).not.toHaveProperty('signKey');
    expect(String(item.signKeyCipher)).toMatch(/^aesgcm:/);
    expect(JSON.stringify(item)).not.toContain('AtRestKey99');
    const c = await configs.get(app);
    expect(c).toMatchObject({ mode: 'PULL', notificationUrl: 'http://127.0.0.1:9/cb' });
    expect(await openSignKey(cipher, app, c.signKey)).toBe('AtRestKey99');
    // The ciphertext is bound to its app: copied onto another app's item it does not open.
    await expect(openSignKey(cipher, app + 1, c.signKey)).rejects.toThrow();
  });

  test('an item stored before encryption (plain signKey) still signs, until SignKey is set again; "" removes it', async () => {
    const app = 1_000_502;
    // As the repository wrote it before SignKeys were sealed.
    await doc.send(
      new PutCommand({
        TableName: 'EventsTable',
        Item: {
          pk: `APP#${app}`,
          sk: '#CONFIG',
          mode: 'PUSH',
          notificationUrl: 'http://127.0.0.1:9/old',
          signKey: 'LegacyKey1',
          updateTime: '2025-01-01T00:00:00.000Z',
        },
      }),
    );
    expect(await openSignKey(cipher, app, (await configs.get(app)).signKey)).toBe('LegacyKey1');
    // A change of other fields keeps it.
    await modifyEventConfig(api(), app, { UploadMediaCompleteEventSwitch: 'ON' });
    expect(await openSignKey(cipher, app, (await configs.get(app)).signKey)).toBe('LegacyKey1');
    // Setting it seals it and drops the plain field.
    await modifyEventConfig(api(), app, { SignKey: 'NewKey2' });
    let item = await rawItem(app);
    expect(item).not.toHaveProperty('signKey');
    expect(JSON.stringify(item)).not.toMatch(/LegacyKey1|NewKey2/);
    expect(await openSignKey(cipher, app, (await configs.get(app)).signKey)).toBe('NewKey2');
    expect(item).toMatchObject({ mode: 'PUSH', uploadMediaCompleteEventSwitch: 'ON' });
    // '' removes it: unsigned from then on.
    await modifyEventConfig(api(), app, { SignKey: '' });
    item = await rawItem(app);
    expect(item).not.toHaveProperty('signKey');
    expect(item).not.toHaveProperty('signKeyCipher');
    expect((await configs.get(app)).signKey).toBeUndefined();
    expect(await openSignKey(cipher, app, (await configs.get(app)).signKey)).toBe('');
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
