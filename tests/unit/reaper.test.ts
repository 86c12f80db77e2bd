import { Logger } from '@aws-lambda-powertools/logger';
import type { DynamoTaskStore } from '../../src/adapters/task-store';
import type { Subtask, Task } from '../../src/domain/task';
import type { FlowDeps } from '../../src/services/flow';
import { reapApp, reapReason, type ExecutionState } from '../../src/services/reaper';

const logger = new Logger({ logLevel: 'SILENT' });

describe('reapReason', () => {
  test('a RUNNING execution is never reaped, whatever the task', () => {
    expect(reapReason({ status: 'PROCESSING' }, { status: 'RUNNING' })).toBeUndefined();
    expect(reapReason({ status: 'WAITING' }, { status: 'RUNNING' })).toBeUndefined();
  });
  test('a finished task is never reaped', () => {
    expect(reapReason({ status: 'FINISH' }, { status: 'ABORTED' })).toBeUndefined();
    expect(reapReason({ status: 'FINISH' }, { status: 'MISSING' })).toBeUndefined();
  });
  test.each([
    [
      'ABORTED',
      'stopped by hand',
      undefined,
      'task flow execution ABORTED: stopped by hand; submit the task again',
    ],
    [
      'FAILED',
      'States.Runtime',
      'bad path',
      'task flow execution FAILED: States.Runtime: bad path; submit the task again',
    ],
    [
      'TIMED_OUT',
      undefined,
      undefined,
      'task flow execution TIMED_OUT: it stopped outside the flow (no error recorded); submit the task again',
    ],
    [
      'SUCCEEDED',
      undefined,
      undefined,
      'task flow execution SUCCEEDED: it ended without finishing the task; submit the task again',
    ],
  ] as const)(
    'an execution %s ends a PROCESSING task with a message naming why',
    (status, error, cause, msg) => {
      expect(reapReason({ status: 'PROCESSING' }, { status, error, cause })).toBe(msg);
    },
  );
  test('a dispatched task whose execution does not exist (past the grace) is reaped', () => {
    expect(reapReason({ status: 'WAITING' }, { status: 'MISSING' })).toMatch(
      /^task flow execution never started: /,
    );
  });
});

/** The task store's reaper-facing part in memory, with the conditional writes' semantics. */
class FakeStore {
  tasks = new Map<string, Task & { since: string }>();
  subs = new Map<string, Subtask[]>();
  slots = new Map<number, number>();
  add(taskId: string, status: Task['status'], since: string, subStatuses: Subtask['status'][]) {
    const subAppId = 7;
    this.tasks.set(taskId, {
      taskId,
      subAppId,
      taskType: 'Procedure',
      status,
      createTime: since,
      priority: 0,
      notifyMode: 'Finish',
      subtaskCount: subStatuses.length,
      since,
    } as Task & { since: string });
    this.subs.set(
      taskId,
      subStatuses.map(
        (s, index) =>
          ({
            taskId,
            index,
            kind: 'Transcode',
            status: s,
            input: {},
            template: {},
            progress: 0,
            errCode: 0,
            message: '',
          }) as Subtask,
      ),
    );
    this.slots.set(subAppId, (this.slots.get(subAppId) ?? 0) + 1);
  }
  async listUnfinishedSince(subAppId: number, before: string) {
    return [...this.tasks.values()]
      .filter(
        (t) =>
          t.subAppId === subAppId &&
          (t.status === 'WAITING' || t.status === 'PROCESSING') &&
          t.since < before,
      )
      .map((t) => ({ taskId: t.taskId, since: t.since }));
  }
  async getTask(taskId: string) {
    return this.tasks.get(taskId);
  }
  async get(taskId: string) {
    const task = this.tasks.get(taskId);
    return task && { task, subtasks: this.subs.get(taskId)! };
  }
  async endSubtask(
    taskId: string,
    index: number,
    end: { status: 'FAIL' | 'SUCCESS'; errCode: number; message: string },
  ) {
    const s = this.subs.get(taskId)![index];
    if (s.status !== 'WAITING' && s.status !== 'PROCESSING') return false;
    Object.assign(s, end);
    return true;
  }
  async finish(task: Task) {
    const t = this.tasks.get(task.taskId)!;
    if (t.status !== 'WAITING' && t.status !== 'PROCESSING') return false;
    t.status = 'FINISH';
    this.slots.set(t.subAppId, this.slots.get(t.subAppId)! - 1);
    return true;
  }
}

function setup(executions: Record<string, ExecutionState>) {
  const store = new FakeStore();
  const kicks: number[] = [];
  const described: string[] = [];
  const startedFlows: string[] = [];
  const now = Date.parse('2026-11-25T12:00:00.000Z');
  const flow = {
    tasks: store as unknown as DynamoTaskStore,
    intake: { kick: async (id: number) => void kicks.push(id) },
    clock: () => now,
    logger,
  } as unknown as FlowDeps;
  const deps = {
    tasks: store as unknown as DynamoTaskStore,
    flows: {
      describe: async (taskId: string) => {
        described.push(taskId);
        return executions[taskId] ?? { status: 'MISSING' as const };
      },
      start: async (taskId: string) => {
        startedFlows.push(taskId);
        return 'started' as const;
      },
    },
    flow,
    clock: () => now,
    logger,
    graceSeconds: 600,
  };
  return { store, kicks, described, startedFlows, deps };
}

test('reapApp ends dead flows past the grace as the flow failure path does, and leaves the rest alone', async () => {
  const old = '2026-11-25T11:40:00.000Z'; // 20 min ago
  const recent = '2026-11-25T11:55:00.000Z'; // 5 min ago: within the grace
  const { store, kicks, described, startedFlows, deps } = setup({
    aborted: { status: 'ABORTED', error: 'by hand' },
    running: { status: 'RUNNING' },
    young: { status: 'ABORTED' },
    timedOut: { status: 'TIMED_OUT', error: 'States.Timeout' },
  });
  store.add('aborted', 'PROCESSING', old, ['SUCCESS', 'PROCESSING', 'WAITING']);
  store.add('running', 'PROCESSING', old, ['PROCESSING']);
  store.add('young', 'PROCESSING', recent, ['PROCESSING']);
  store.add('timedOut', 'PROCESSING', old, ['PROCESSING']);
  store.add('neverStarted', 'WAITING', old, ['WAITING']); // claimed for dispatch; its start was lost
  store.add('lostProcessing', 'PROCESSING', old, ['PROCESSING']); // PROCESSING, yet no execution
  expect(store.slots.get(7)).toBe(6);

  const { reaped, restarted } = await reapApp(deps, 7);

  expect(reaped.sort()).toEqual(['aborted', 'lostProcessing', 'timedOut']);
  // The claimed task keeps its slot and is started (its execution name is its TaskId), not failed.
  expect(restarted).toEqual(['neverStarted']);
  expect(startedFlows).toEqual(['neverStarted']);
  expect(store.tasks.get('neverStarted')!.status).toBe('WAITING');
  expect(store.subs.get('neverStarted')![0].status).toBe('WAITING');
  expect(described).not.toContain('young'); // within the grace: not even asked
  const a = store.subs.get('aborted')!;
  expect(a.map((s) => [s.status, s.errCode])).toEqual([
    ['SUCCESS', 0],
    ['FAIL', 70000],
    ['FAIL', 70000],
  ]);
  expect(a[1].message).toBe('task flow execution ABORTED: by hand; submit the task again');
  expect(store.subs.get('timedOut')![0].message).toMatch(/^task flow execution TIMED_OUT: States\.Timeout/);
  expect(store.subs.get('lostProcessing')![0].message).toMatch(/^task flow execution never started/);
  for (const id of ['aborted', 'timedOut', 'lostProcessing'])
    expect(store.tasks.get(id)!.status).toBe('FINISH');
  for (const id of ['running', 'young']) {
    expect(store.tasks.get(id)!.status).toBe('PROCESSING');
    expect(store.subs.get(id)![0].status).toBe('PROCESSING');
  }
  expect(store.slots.get(7)).toBe(3); // three slots back; the restarted task keeps its own
  expect(kicks).toEqual([7, 7, 7]);
});

test('a flow that finishes while the reaper looks is finished exactly once (one slot released)', async () => {
  const { store, deps } = setup({});
  const old = '2026-11-25T11:40:00.000Z';
  store.add('late', 'PROCESSING', old, ['PROCESSING']);
  // The execution succeeds (its own FinalizeTask ran) between the index query and the describe.
  deps.flows.describe = async () => {
    store.subs.get('late')![0].status = 'SUCCESS';
    await store.finish(store.tasks.get('late')!);
    return { status: 'SUCCEEDED' };
  };
  const { reaped } = await reapApp(deps, 7);
  expect(reaped).toEqual([]);
  expect(store.tasks.get('late')!.status).toBe('FINISH');
  expect(store.subs.get('late')![0].status).toBe('SUCCESS');
  expect(store.slots.get(7)).toBe(0);
});
