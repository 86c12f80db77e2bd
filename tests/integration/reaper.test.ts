/**
 * The reaper's view on DynamoDB Local: a task claimed for dispatch (and then PROCESSING) is listed under its
 * app's RUNNING entries of the byPriority index until it finishes; the reaper ends a dead one through the real
 * store (subtasks FAIL 70000, FINISH, slot released), and a claimed task cannot be claimed again.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { DynamoTaskStore } from '../../src/adapters/task-store';
import type { Task } from '../../src/domain/task';
import type { FlowDeps } from '../../src/services/flow';
import { reapApp, type ExecutionState } from '../../src/services/reaper';
import { startTaskStore, twoSubtasks, waitingTask } from '../helpers/task-fixtures';

let stop: () => Promise<void>;
let store: DynamoTaskStore;
const APP = 1500000077;

const task = (taskId: string): Task => waitingTask(taskId, APP, { createTime: '2026-01-01T00:00:00.000Z' });
const subs = twoSubtasks;

beforeAll(async () => {
  ({ store, stop } = await startTaskStore('openvod-reaper-'));
}, 60_000);

afterAll(async () => {
  await stop?.();
});

test('claimed and PROCESSING tasks are listed by dispatch/begin time until they finish; a claim wins once', async () => {
  for (const id of ['r-a', 'r-b', 'r-c']) await store.create(task(id), subs(id), { expiresAt: 0 });
  const claims = await Promise.all(
    Array.from({ length: 4 }, () => store.claimForDispatch('r-a', '2026-01-01T00:01:00.000Z', APP)),
  );
  expect(claims.filter(Boolean)).toHaveLength(1);
  expect(await store.claimForDispatch('r-b', '2026-01-01T00:02:00.000Z', APP)).toBe(true);
  expect(await store.claimForDispatch('r-c', '2026-01-01T00:03:00.000Z', APP)).toBe(true);
  // Claimed tasks leave the waiting queue.
  expect(await store.listWaiting(APP, 10)).toEqual([]);
  expect(await store.markProcessing('r-b', '2026-01-01T00:04:00.000Z', APP)).toBe('PROCESSING');
  expect(await store.listUnfinishedSince(APP, '2026-01-01T00:03:30.000Z')).toEqual([
    { taskId: 'r-a', since: '2026-01-01T00:01:00.000Z' },
    { taskId: 'r-c', since: '2026-01-01T00:03:00.000Z' },
  ]);
  expect((await store.listUnfinishedSince(APP, '2026-01-01T01:00:00.000Z')).map((t) => t.taskId)).toEqual([
    'r-a',
    'r-c',
    'r-b',
  ]);
  // Put back (its start failed): waiting again, no longer listed as running.
  await store.unclaim((await store.getTask('r-c'))!);
  expect((await store.listWaiting(APP, 10)).map((w) => w.taskId)).toEqual(['r-c']);
  expect(await store.finish((await store.getTask('r-a'))!, '2026-01-01T00:05:00.000Z')).toBe(true);
  expect((await store.listUnfinishedSince(APP, '2026-01-01T01:00:00.000Z')).map((t) => t.taskId)).toEqual([
    'r-b',
  ]);
}, 30_000);

test('reapApp ends a dead PROCESSING task on the real store once; a RUNNING one is left alone', async () => {
  const app = APP + 1;
  const now = Date.parse('2026-02-01T01:00:00.000Z');
  const mk = async (id: string) => {
    await store.create({ ...task(id), subAppId: app }, subs(id), { expiresAt: 0 });
    expect(await store.acquireSlot(app, 5)).toBe(true);
    expect(await store.claimForDispatch(id, '2026-02-01T00:00:00.000Z', app)).toBe(true);
    expect(await store.markProcessing(id, '2026-02-01T00:00:01.000Z', app)).toBe('PROCESSING');
  };
  await mk('d-dead');
  await mk('d-live');
  // Claimed for dispatch (slot taken) but the scheduler died before StartExecution: no execution.
  await store.create({ ...task('d-lost'), subAppId: app }, subs('d-lost'), { expiresAt: 0 });
  expect(await store.acquireSlot(app, 5)).toBe(true);
  expect(await store.claimForDispatch('d-lost', '2026-02-01T00:00:00.000Z', app)).toBe(true);
  expect(await store.startSubtask('d-dead', 0, '2026-02-01T00:00:02.000Z', 'att')).toBe('att');
  expect(
    await store.endSubtask('d-dead', 0, { status: 'SUCCESS', errCode: 0, message: '' }, 'x', 'att'),
  ).toBe(true);
  const executions: Record<string, ExecutionState> = {
    'd-dead': { status: 'FAILED', error: 'States.Runtime', cause: 'a state machine bug' },
    'd-live': { status: 'RUNNING' },
  };
  const logger = new Logger({ logLevel: 'SILENT' });
  const kicks: number[] = [];
  const started: string[] = [];
  const flow = {
    tasks: store,
    intake: { kick: async (id: number) => void kicks.push(id) },
    clock: () => now,
    logger,
  } as unknown as FlowDeps;
  const deps = {
    tasks: store,
    flows: {
      describe: async (id: string): Promise<ExecutionState> => executions[id] ?? { status: 'MISSING' },
      start: async (id: string) => {
        started.push(id);
        executions[id] = { status: 'RUNNING' };
        return 'started' as const;
      },
    },
    flow,
    clock: () => now,
    logger,
    graceSeconds: 600,
  };
  expect(await store.runningFlows(app)).toBe(3);
  const first = await reapApp(deps, app);
  expect(first.reaped).toEqual(['d-dead']);
  expect(first.restarted).toEqual(['d-lost']);
  expect(started).toEqual(['d-lost']);
  expect((await store.get('d-lost'))!.task.status).toBe('WAITING'); // its execution marks it PROCESSING
  const dead = (await store.get('d-dead'))!;
  expect(dead.task.status).toBe('FINISH');
  expect(dead.subtasks.map((s) => [s.status, s.errCode, s.message])).toEqual([
    ['SUCCESS', 0, ''],
    ['FAIL', 70000, 'task flow execution FAILED: States.Runtime: a state machine bug; submit the task again'],
  ]);
  expect((await store.get('d-live'))!.task.status).toBe('PROCESSING');
  expect(await store.runningFlows(app)).toBe(2); // d-live and the restarted d-lost
  expect(kicks).toEqual([app]);
  // A second sweep finds nothing more to do (the reaped task left the index; d-lost now runs).
  expect(await reapApp(deps, app)).toEqual({ reaped: [], restarted: [] });
  expect(started).toEqual(['d-lost']);
  expect(await store.runningFlows(app)).toBe(2);
}, 30_000);
