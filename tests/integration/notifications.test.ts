/**
 * Fault and load tests of the notifications on the whole local system (`npm start` as a child: DynamoDB
 * Local with Streams, local SQS, the real stream and queue wiring, notifier, enqueue and pusher handlers).
 * Task-flow transitions are written straight into the tasks table, as the task flow writes them, so 200 flows
 * cost no ffmpeg. Short retry settings: backoff base 300 ms, callback timeout 1 s, retry window 12 s.
 */
import { rmSync } from 'node:fs';
import { DynamoDBDocumentClient, GetCommand, PutCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { runCli, shutdownSystem, startInFreshDir, type RunningSystem } from '../helpers/local-system';
import { apiError, localDoc, until, vodClient, type VodClient as Client } from '../helpers/sdk';
import { startReceiver, verifyHmac, writeFlow, type Receiver } from '../helpers/notifications';

jest.setTimeout(180_000);

const SIGN_KEY = 'TestKey42';
const TASKS = 'openvod-dev-tasks';
const EVENTS = 'openvod-dev-events';

let sys: RunningSystem | undefined;
let dataDir: string;
let port: number;
let client: Client;
let subAppId: number;
let doc: DynamoDBDocumentClient;
let receiver: Receiver;
let sqsEndpoint: string;
const savedEnv = { ...process.env };

const makeClient = (id: string, key: string): Client => vodClient(port, id, key, 30);

async function configItem(app: number): Promise<Record<string, unknown>> {
  const out = await doc.send(
    new GetCommand({ TableName: EVENTS, Key: { pk: `APP#${app}`, sk: '#CONFIG' }, ConsistentRead: true }),
  );
  return out.Item ?? {};
}

async function scanEvents(app: number): Promise<Array<Record<string, unknown>>> {
  const out: Array<Record<string, unknown>> = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await doc.send(
      new ScanCommand({ TableName: EVENTS, ExclusiveStartKey: start, ConsistentRead: true }),
    );
    for (const i of page.Items ?? [])
      if (i.pk === `APP#${app}` && String(i.sk).startsWith('EVT#')) out.push(i);
    start = page.LastEvaluatedKey;
  } while (start);
  return out;
}

beforeAll(async () => {
  receiver = await startReceiver(SIGN_KEY);
  Object.assign(process.env, {
    OPENVOD_CALLBACK_BACKOFF_BASE_MS: '300',
    OPENVOD_CALLBACK_BACKOFF_MAX_MS: '2000',
    // Long enough that a 200 on 2 slow, shared cores is never taken for a timeout (which would legitimately
    // push that event again and break the exact counts below); the fault test's 'hang' never answers at all.
    OPENVOD_CALLBACK_TIMEOUT_MS: '5000',
    OPENVOD_CALLBACK_RETRY_WINDOW_S: '12',
  });
  const started = await startInFreshDir('openvod-notify-');
  ({ sys, dataDir, port } = started);
  const c = started.creds;
  subAppId = c.SubAppId;
  sqsEndpoint = c.SQSEndpoint;
  client = makeClient(c.SecretId, c.SecretKey);
  doc = localDoc(c.DynamoDBEndpoint);
}, 120_000);

afterAll(async () => {
  process.env = savedEnv;
  doc?.destroy();
  await receiver?.close();
  await shutdownSystem(sys);
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

describe('configuration', () => {
  test('ModifyEventConfig / DescribeEventConfig: every SDK field, URL checks, empty string clears', async () => {
    expect(await client.DescribeEventConfig({})).toMatchObject({
      Mode: 'PUSH',
      NotificationUrl: '',
      UploadMediaCompleteEventSwitch: 'OFF',
      DeleteMediaCompleteEventSwitch: 'OFF',
      PersistenceCompleteEventSwitch: 'OFF',
    });
    await client.ModifyEventConfig({
      Mode: 'PULL',
      NotificationUrl: `${receiver.url}/x`,
      UploadMediaCompleteEventSwitch: 'ON',
      DeleteMediaCompleteEventSwitch: 'ON',
      PersistenceCompleteEventSwitch: 'ON',
      SignKey: SIGN_KEY,
    });
    const d = await client.DescribeEventConfig({});
    expect(d).toMatchObject({
      Mode: 'PULL',
      NotificationUrl: `${receiver.url}/x`,
      UploadMediaCompleteEventSwitch: 'ON',
      PersistenceCompleteEventSwitch: 'ON',
    });
    expect(d).not.toHaveProperty('SignKey');
    // Encrypted at rest like app SecretKeys (local mode: AES-256-GCM under the master key): the stored item
    // holds no plaintext SignKey.
    const item = await configItem(subAppId);
    expect(item).not.toHaveProperty('signKey');
    expect(String(item.signKeyCipher)).toMatch(/^aesgcm:/);
    expect(JSON.stringify(item)).not.toContain(SIGN_KEY);
    for (const url of [
      'http://169.254.169.254/latest/meta-data',
      'http://10.0.0.8/cb',
      'ftp://example.com/cb',
      'http://[::ffff:192.168.1.1]/',
    ]) {
      expect((await apiError(client.ModifyEventConfig({ NotificationUrl: url }))).code).toBe(
        'InvalidParameterValue.NotificationUrl',
      );
    }
    expect((await apiError(client.ModifyEventConfig({ Mode: 'SOMETIMES' }))).code).toBe(
      'InvalidParameterValue.Mode',
    );
    expect((await apiError(client.ModifyEventConfig({ SignKey: 'has spaces' }))).code).toBe(
      'InvalidParameterValue.SignKey',
    );
    await client.ModifyEventConfig({
      NotificationUrl: '',
      UploadMediaCompleteEventSwitch: 'OFF',
      DeleteMediaCompleteEventSwitch: 'OFF',
      PersistenceCompleteEventSwitch: 'OFF',
    });
    expect(await client.DescribeEventConfig({})).toMatchObject({
      Mode: 'PULL',
      NotificationUrl: '',
      UploadMediaCompleteEventSwitch: 'OFF',
    });
  });
});

describe('HTTP push', () => {
  test('a receiver that answers 500 three times, then times out once, then recovers gets every event, each acknowledged once, all signed', async () => {
    receiver.behaviour.set('/fault', (n) => (n <= 3 ? 500 : n === 4 ? 'hang' : 200));
    await client.ModifyEventConfig({
      Mode: 'PUSH',
      NotificationUrl: `${receiver.url}/fault`,
      SignKey: SIGN_KEY,
    });
    const ids = await writeFlow(doc, TASKS, subAppId, 'fault-flow', 2); // 5 events
    await until('every event acknowledged', () =>
      ids.every((id) =>
        receiver.got.some((g) => g.path === '/fault' && g.eventId === id && g.answered === 200),
      ),
    );
    await new Promise((r) => setTimeout(r, 2500)); // nothing more arrives
    const got = receiver.got.filter((g) => g.path === '/fault');
    expect(got.slice(0, 4).map((g) => g.answered)).toEqual([500, 500, 500, 'hang']);
    expect(new Set(got.map((g) => g.eventId))).toEqual(new Set(ids));
    for (const id of ids) expect(got.filter((g) => g.eventId === id && g.answered === 200)).toHaveLength(1);
    expect(got).toHaveLength(ids.length + 4);
    expect(got.every((g) => g.tencentOk && g.hmacOk)).toBe(true);
    const finish = got.find(
      (g) =>
        g.body.EventType === 'ProcedureStateChanged' &&
        (g.body.ProcedureStateChangeEvent as { Status: string }).Status === 'FINISH',
    )!;
    expect(finish.body.ProcedureStateChangeEvent).toMatchObject({
      TaskId: 'fault-flow',
      SessionContext: 'ctx-fault-flow',
      TasksNotifyMode: 'Change',
    });
    const items = await scanEvents(subAppId);
    expect(items.filter((i) => ids.includes(String(i.eventId))).every((i) => i.state === 'PUSHED')).toBe(
      true,
    );
    // The signature check is real: a changed body fails it.
    const raw = JSON.stringify(finish.body);
    expect(verifyHmac(raw.replace('FINISH', 'FINISHED'), 't=1,v1=' + '0'.repeat(64), SIGN_KEY)).toBe(false);
  });

  test('an app configured before SignKeys were encrypted (plain signKey in its item) still gets signed pushes', async () => {
    const out = await runCli(dataDir, ['app', 'create', '--name', 'legacy']);
    const legacyApp = Number(/SubAppId:\s*(\d+)/.exec(out)![1]);
    receiver.behaviour.set('/legacy', () => 200);
    // The item as ModifyEventConfig stored it before this change.
    await doc.send(
      new PutCommand({
        TableName: EVENTS,
        Item: {
          pk: `APP#${legacyApp}`,
          sk: '#CONFIG',
          mode: 'PUSH',
          notificationUrl: `${receiver.url}/legacy`,
          signKey: SIGN_KEY,
          updateTime: '2025-01-01T00:00:00.000Z',
        },
      }),
    );
    const ids = await writeFlow(doc, TASKS, legacyApp, 'legacy-flow', 1, { notifyMode: 'Finish' });
    await until('the legacy app acknowledged', () =>
      ids.every((id) => receiver.got.some((g) => g.eventId === id && g.answered === 200)),
    );
    const got = receiver.got.filter((g) => g.path === '/legacy');
    expect(got.map((g) => g.eventId)).toEqual(ids);
    expect(got.every((g) => g.tencentOk && g.hmacOk)).toBe(true);
  });

  test('a dead receiver: retried until the window closes, then the event is in the DLQ and pullable; no other app waits for it', async () => {
    // A second app whose receiver never answers 2xx.
    const out = await runCli(dataDir, ['app', 'create', '--name', 'deadbeat']);
    const other = {
      SubAppId: Number(/SubAppId:\s*(\d+)/.exec(out)![1]),
      SecretId: /SecretId:\s*(\S+)/.exec(out)![1],
      SecretKey: /SecretKey:\s*(\S+)/.exec(out)![1],
    };
    const deadClient = makeClient(other.SecretId, other.SecretKey);
    receiver.behaviour.set('/dead', () => 500);
    receiver.behaviour.set('/alive', () => 200);
    await deadClient.ModifyEventConfig({
      Mode: 'PUSH',
      NotificationUrl: `${receiver.url}/dead`,
      SignKey: SIGN_KEY,
    });
    await client.ModifyEventConfig({ Mode: 'PUSH', NotificationUrl: `${receiver.url}/alive` });
    const t0 = Date.now();
    const deadIds = await writeFlow(doc, TASKS, other.SubAppId, 'dead-flow', 1, { notifyMode: 'Finish' });
    // Meanwhile the first app's events flow as usual.
    const aliveIds = await writeFlow(doc, TASKS, subAppId, 'alive-flow', 1);
    await until(
      'the other app delivered',
      () => aliveIds.every((id) => receiver.got.some((g) => g.eventId === id && g.answered === 200)),
      15_000,
    );
    // Not held up behind the dead app's retries (its window is 12 s; CI is 2 slow cores).
    expect(Date.now() - t0).toBeLessThan(15_000);
    // After the 12 s window: pullable by the dead app, and in the DLQ.
    let pulled: Awaited<ReturnType<Client['PullEvents']>> | undefined;
    await until(
      'the given-up event to become pullable',
      async () => {
        pulled = await deadClient.PullEvents({});
        return (pulled.EventSet ?? []).length > 0;
      },
      40_000,
    );
    expect(pulled!.EventSet!.map((e) => e.ProcedureStateChangeEvent?.TaskId)).toEqual(['dead-flow']);
    await deadClient.ConfirmEvents({ EventHandles: [pulled!.EventSet![0].EventHandle!] });
    const attempts = receiver.got.filter((g) => g.path === '/dead');
    expect(attempts.length).toBeGreaterThanOrEqual(4);
    expect(new Set(attempts.map((g) => g.eventId))).toEqual(new Set(deadIds));
    expect(attempts[attempts.length - 1].at - t0).toBeGreaterThanOrEqual(11_000);
    const sqs = new SQSClient({
      region: 'us-east-1',
      endpoint: sqsEndpoint,
      credentials: { accessKeyId: 'l', secretAccessKey: 'l' },
    });
    const dlq = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: `${sqsEndpoint}/000000000000/openvod-dev-event-delivery-dlq`,
        MaxNumberOfMessages: 10,
      }),
    );
    sqs.destroy();
    const bodies = (dlq.Messages ?? []).map((m) => JSON.parse(m.Body!) as Record<string, unknown>);
    expect(bodies).toEqual([
      expect.objectContaining({ subAppId: other.SubAppId, eventId: deadIds[0], error: 'HTTP 500' }),
    ]);
  });
});

describe('200 flows in Change mode, subtasks ending at the same moments', () => {
  const flows = 200;
  async function writeMany(prefix: string): Promise<string[]> {
    const ids: string[] = [];
    for (let i = 0; i < flows; i += 25) {
      const batch = await Promise.all(
        Array.from({ length: Math.min(25, flows - i) }, (_, j) =>
          writeFlow(doc, TASKS, subAppId, `${prefix}-${i + j}`, 2),
        ),
      );
      ids.push(...batch.flat());
    }
    return ids;
  }

  test('PUSH: exactly the expected events, each delivered once', async () => {
    await client.ModifyEventConfig({
      Mode: 'PUSH',
      NotificationUrl: `${receiver.url}/load`,
      SignKey: SIGN_KEY,
    });
    const t0 = Date.now();
    const ids = await writeMany('push');
    expect(new Set(ids).size).toBe(flows * 5);
    await until(
      'every event pushed',
      () => new Set(receiver.got.filter((g) => g.path === '/load').map((g) => g.eventId)).size >= ids.length,
      90_000,
    );
    await new Promise((r) => setTimeout(r, 1500));
    const got = receiver.got.filter((g) => g.path === '/load');
    expect(got.map((g) => g.eventId).sort()).toEqual([...ids].sort());
    expect(got.every((g) => g.tencentOk && g.hmacOk)).toBe(true);
    console.log(`200 flows PUSH: ${ids.length} events delivered in ${Date.now() - t0} ms`);
  });

  test('PULL: exactly the expected events through PullEvents/ConfirmEvents, none twice', async () => {
    await client.ModifyEventConfig({ Mode: 'PULL' });
    const t0 = Date.now();
    const ids = await writeMany('pull');
    const seen: string[] = [];
    const expectedSet = new Set(ids);
    const byTask = new Map<string, number>();
    while (seen.length < ids.length && Date.now() - t0 < 90_000) {
      const r = await client.PullEvents({});
      const set = r.EventSet ?? [];
      expect(set.length).toBeLessThanOrEqual(16);
      if (!set.length) continue;
      for (const e of set) {
        const id = String(e.EventHandle).split('.')[0];
        seen.push(id);
        const task = String(e.ProcedureStateChangeEvent?.TaskId);
        byTask.set(task, (byTask.get(task) ?? 0) + 1);
      }
      await client.ConfirmEvents({ EventHandles: set.map((e) => e.EventHandle!) });
    }
    expect(seen.filter((id) => !expectedSet.has(id))).toEqual([]);
    expect(seen.sort()).toEqual([...ids].sort());
    expect([...byTask.values()].every((n) => n === 5)).toBe(true);
    expect((await client.PullEvents({})).EventSet).toEqual([]);
    console.log(`200 flows PULL: ${ids.length} events pulled and confirmed in ${Date.now() - t0} ms`);
  });
});
