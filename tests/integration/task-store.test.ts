/**
 * The task store's conditional writes on real DynamoDB Local: a flow finishes exactly once, a subtask ends
 * once and only its latest attempt may end it, the per-app slot cap holds under concurrency, and a waiting
 * task is claimed by one scheduler pass only.
 */
import { DynamoTaskStore } from '../../src/adapters/task-store';
import type { Task } from '../../src/domain/task';
import { startTaskStore, twoSubtasks, waitingTask } from '../helpers/task-fixtures';

let stop: () => Promise<void>;
let store: DynamoTaskStore;

const task = (taskId: string, subAppId = 1500000009, priority = 0): Task =>
  waitingTask(taskId, subAppId, { priority });
const subs = twoSubtasks;

beforeAll(async () => {
  ({ store, stop } = await startTaskStore('openvod-store-'));
}, 60_000);

afterAll(async () => {
  await stop?.();
});

const now = () => new Date().toISOString();

test('a flow finishes exactly once, whoever races to finish it, and gives its slot back once', async () => {
  const t = task('t-finish');
  await store.create(t, subs(t.taskId), { expiresAt: 0 });
  expect(await store.acquireSlot(t.subAppId, 5)).toBe(true);
  expect(await store.markProcessing(t.taskId, now())).toBe('PROCESSING');
  expect(await store.markProcessing(t.taskId, now())).toBe('PROCESSING');
  const results = await Promise.all(Array.from({ length: 8 }, () => store.finish(t, now())));
  expect(results.filter(Boolean)).toHaveLength(1);
  expect((await store.getTask(t.taskId))?.status).toBe('FINISH');
  expect(await store.runningFlows(t.subAppId)).toBe(0);
  expect(await store.markProcessing(t.taskId, now())).toBe('FINISH');
}, 30_000);

test('a subtask ends once; only its latest attempt may report progress or a result', async () => {
  const t = task('t-attempts');
  await store.create(t, subs(t.taskId), { expiresAt: 0 });
  const a = await store.startSubtask(t.taskId, 0, now(), 'attempt-a');
  const b = await store.startSubtask(t.taskId, 0, now(), 'attempt-b');
  expect([a, b]).toEqual(['attempt-a', 'attempt-b']);
  await store.setProgress(t.taskId, 0, 40, 'attempt-a');
  await store.setProgress(t.taskId, 0, 30, 'attempt-b');
  expect((await store.getSubtask(t.taskId, 0))?.progress).toBe(30);
  const ok = { status: 'SUCCESS' as const, errCode: 0, message: 'SUCCESS', output: { Url: 'u' } };
  expect(await store.endSubtask(t.taskId, 0, ok, now(), 'attempt-a')).toBe(false);
  expect(await store.endSubtask(t.taskId, 0, ok, now(), 'attempt-b')).toBe(true);
  expect(
    await store.endSubtask(t.taskId, 0, { status: 'FAIL', errCode: 70000, message: 'late' }, now()),
  ).toBe(false);
  expect(await store.startSubtask(t.taskId, 0, now(), 'attempt-c')).toBeUndefined();
  const s = await store.getSubtask(t.taskId, 0);
  expect([s?.status, s?.progress, s?.output]).toEqual(['SUCCESS', 100, { Url: 'u' }]);
  // Concurrent failure records of another subtask: exactly one ends it.
  const ends = await Promise.all(
    Array.from({ length: 5 }, (_, i) =>
      store.endSubtask(t.taskId, 1, { status: 'FAIL', errCode: 70000, message: `m${i}` }, now()),
    ),
  );
  expect(ends.filter(Boolean)).toHaveLength(1);
}, 30_000);

test('the per-app slot cap holds under concurrent acquisition', async () => {
  const got = await Promise.all(Array.from({ length: 12 }, () => store.acquireSlot(1500000077, 3)));
  expect(got.filter(Boolean)).toHaveLength(3);
  expect(await store.runningFlows(1500000077)).toBe(3);
  await store.releaseSlot(1500000077);
  expect(await store.acquireSlot(1500000077, 3)).toBe(true);
  expect(await store.acquireSlot(1500000077, 3)).toBe(false);
}, 30_000);

test('waiting tasks list highest priority first, then oldest; one scheduler pass wins each claim', async () => {
  const app = 1500000088;
  const low = { ...task('w-low', app, -3), createTime: '2026-01-01T00:00:01.000Z' };
  const mid = { ...task('w-mid', app, 0), createTime: '2026-01-01T00:00:02.000Z' };
  const high = { ...task('w-high', app, 9), createTime: '2026-01-01T00:00:03.000Z' };
  const mid2 = { ...task('w-mid2', app, 0), createTime: '2026-01-01T00:00:04.000Z' };
  for (const t of [low, mid, high, mid2]) await store.create(t, subs(t.taskId), { expiresAt: 0 });
  const waiting = await store.listWaiting(app, 10);
  expect(waiting.map((w) => [w.taskId, w.priority])).toEqual([
    ['w-high', 9],
    ['w-mid', 0],
    ['w-mid2', 0],
    ['w-low', -3],
  ]);
  const claims = await Promise.all(Array.from({ length: 6 }, () => store.claimForDispatch('w-high', now())));
  expect(claims.filter(Boolean)).toHaveLength(1);
  expect((await store.listWaiting(app, 10)).map((w) => w.taskId)).toEqual(['w-mid', 'w-mid2', 'w-low']);
  await store.unclaim(high);
  expect((await store.listWaiting(app, 10))[0].taskId).toBe('w-high');
}, 30_000);
