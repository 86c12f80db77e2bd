/**
 * Notifications end to end through the official Tencent SDK client against `npm start`: a real task flow
 * (ffmpeg) in TasksNotifyMode=Change pushes one signed ProcedureStateChanged per subtask state change and one
 * at flow end to a local receiver; in PULL mode PullEvents/ConfirmEvents behave as Tencent's reliable
 * callback, including redelivery after the real 30 s.
 */
import { createReadStream, rmSync, statSync } from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { shutdownSystem, startInFreshDir, type RunningSystem } from '../helpers/local-system';
import { until as poll, vodClient, type VodClient as Client } from '../helpers/sdk';
import { startReceiver, type Receiver } from '../helpers/notifications';

jest.setTimeout(240_000);

const REAL = path.resolve(__dirname, '../../../shared/media/real-footage-320x192-5994.mp4');
const SIGN_KEY = 'e2eSignKey2026';

let sys: RunningSystem | undefined;
let dataDir: string;
let client: Client;
let receiver: Receiver;
let media: http.Server;
let mediaUrl: string;

const until = (what: string, ok: () => boolean | Promise<boolean>, ms = 120_000) => poll(what, ok, ms, 200);

beforeAll(async () => {
  receiver = await startReceiver(SIGN_KEY);
  media = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'video/mp4', 'content-length': String(statSync(REAL).size) });
    createReadStream(REAL).pipe(res);
  });
  await new Promise<void>((r) => media.listen(0, '127.0.0.1', r));
  mediaUrl = `http://127.0.0.1:${(media.address() as { port: number }).port}/real.mp4`;
  const started = await startInFreshDir('openvod-e2e-notify-');
  ({ sys, dataDir } = started);
  client = vodClient(started.port, started.creds.SecretId, started.creds.SecretKey);
}, 120_000);

afterAll(async () => {
  await receiver?.close();
  await new Promise((r) => media?.close(r));
  await shutdownSystem(sys);
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

type ProcedureEvent = {
  TaskId: string;
  Status: string;
  SessionContext: string;
  TasksNotifyMode: string;
  MediaProcessResultSet: Array<Record<string, { Status: string } | string>>;
};
const subStates = (e: ProcedureEvent) =>
  e.MediaProcessResultSet.map((r) => {
    const v = Object.entries(r).find(([k, x]) => k !== 'Type' && x && typeof x === 'object')?.[1] as {
      Status: string;
    };
    return `${String(r.Type)}:${v.Status}`;
  });

test('PUSH, TasksNotifyMode=Change: one signed ProcedureStateChanged per subtask state change and one at flow end', async () => {
  await client.ModifyEventConfig({
    Mode: 'PUSH',
    NotificationUrl: `${receiver.url}/vod-events`,
    SignKey: SIGN_KEY,
  });
  const { TaskId } = await client.ProcessMedia({
    Url: mediaUrl,
    MediaProcessTask: {
      TranscodeTaskSet: [{ Definition: 100010 }],
      SampleSnapshotTaskSet: [{ Definition: 10 }],
    },
    TasksNotifyMode: 'Change',
    SessionContext: 'order-42',
  });
  await until(
    'the flow to end',
    async () => (await client.DescribeTaskDetail({ TaskId: TaskId! })).Status === 'FINISH',
    180_000,
  );
  const mine = () =>
    receiver.got.filter(
      (g) => (g.body.ProcedureStateChangeEvent as ProcedureEvent | undefined)?.TaskId === TaskId,
    );
  await until('5 events', () => mine().length >= 5, 20_000);
  await new Promise((r) => setTimeout(r, 1500));
  const got = mine();
  // 2 subtasks × (PROCESSING, SUCCESS) + the flow end, each once.
  expect(got).toHaveLength(5);
  expect(new Set(got.map((g) => g.eventId)).size).toBe(5);
  for (const g of got) {
    expect(g.tencentOk).toBe(true);
    expect(g.hmacOk).toBe(true);
    expect(g.answered).toBe(200);
    expect(g.body.EventType).toBe('ProcedureStateChanged');
    const e = g.body.ProcedureStateChangeEvent as ProcedureEvent;
    expect(e.SessionContext).toBe('order-42');
    expect(e.TasksNotifyMode).toBe('Change');
  }
  const events = got.map((g) => g.body.ProcedureStateChangeEvent as ProcedureEvent);
  const finish = events.filter(
    (e) => e.Status === 'FINISH' && subStates(e).every((s) => s.endsWith(':SUCCESS')),
  );
  expect(finish.length).toBeGreaterThanOrEqual(1);
  // Every subtask was reported PROCESSING and SUCCESS.
  const all = events.flatMap(subStates);
  for (const s of [
    'Transcode:PROCESSING',
    'Transcode:SUCCESS',
    'SampleSnapshot:PROCESSING',
    'SampleSnapshot:SUCCESS',
  ]) {
    expect(all).toContain(s);
  }
});

test('PULL: PullEvents returns the event with a handle; unconfirmed it comes back after 30 s with a new handle; stale handles are refused', async () => {
  await client.ModifyEventConfig({ Mode: 'PULL' });
  const before = receiver.got.length;
  const { TaskId } = await client.ProcessMedia({
    Url: mediaUrl,
    MediaProcessTask: { SampleSnapshotTaskSet: [{ Definition: 10 }] },
    SessionContext: 'pull-1',
  });
  let first: Awaited<ReturnType<Client['PullEvents']>>['EventSet'] = [];
  await until(
    'the flow-end event to be pullable',
    async () => {
      first = (await client.PullEvents({})).EventSet ?? [];
      return first.length > 0;
    },
    180_000,
  );
  expect(first).toHaveLength(1);
  expect(first[0]).toMatchObject({
    EventType: 'ProcedureStateChanged',
    ProcedureStateChangeEvent: { TaskId, Status: 'FINISH', SessionContext: 'pull-1' },
  });
  const pulledAt = Date.now();
  const h1 = first[0].EventHandle!;
  // Hidden while pulled: a pull now waits its 5 s and returns nothing.
  expect((await client.PullEvents({})).EventSet ?? []).toEqual([]);
  let again: typeof first = [];
  await until(
    'redelivery',
    async () => {
      again = (await client.PullEvents({})).EventSet ?? [];
      return again.length > 0;
    },
    45_000,
  );
  const after = Date.now() - pulledAt;
  expect(after).toBeGreaterThanOrEqual(29_000);
  expect(after).toBeLessThan(40_000);
  expect(again[0].ProcedureStateChangeEvent?.TaskId).toBe(TaskId);
  expect(again[0].EventHandle).not.toBe(h1);
  await expect(client.ConfirmEvents({ EventHandles: [h1] })).rejects.toMatchObject({
    code: 'InvalidParameterValue.EventHandles',
  });
  await client.ConfirmEvents({ EventHandles: [again[0].EventHandle!] });
  expect((await client.PullEvents({})).EventSet ?? []).toEqual([]);
  // PULL mode pushes nothing.
  expect(receiver.got.length).toBe(before);
});
