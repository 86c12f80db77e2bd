import type { Logger } from '@aws-lambda-powertools/logger';
import { ErrCode } from '../domain/errors';
import type { Task } from '../domain/task';
import type { DynamoTaskStore } from '../adapters/task-store';
import { failAll, finalizeTask, type FlowDeps } from './flow';
import { isoNow, type Clock, type FlowStarter } from './ports';

/** What Step Functions says of a task's execution; MISSING: none was ever started under the TaskId. */
export interface ExecutionState {
  status: 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED' | 'PENDING_REDRIVE' | 'MISSING';
  error?: string;
  cause?: string;
  stopDate?: string;
}

export interface FlowInspector {
  describe(taskId: string): Promise<ExecutionState>;
}

export interface ReaperDeps {
  tasks: Pick<DynamoTaskStore, 'listUnfinishedSince' | 'getTask'>;
  /** Describes executions; starts the one of a task claimed for dispatch whose start was lost. */
  flows: FlowInspector & FlowStarter;
  /** The flow's own steps (failAll, finalizeTask) end a reaped task. */
  flow: FlowDeps;
  clock: Clock;
  logger: Logger;
  /** A task younger than this (since its dispatch, or its begin once PROCESSING) is never looked at. */
  graceSeconds: number;
}

/**
 * Whether a dispatched, unfinished task's flow is dead, and why. A RUNNING execution is never touched; one
 * that ended (FAILED, TIMED_OUT, ABORTED, or even SUCCEEDED) without finishing the task, or none at all past
 * the grace period (claimed but never started), is. Pure: the caller has checked the grace period.
 */
export function reapReason(task: Pick<Task, 'status'>, execution: ExecutionState): string | undefined {
  if (task.status !== 'WAITING' && task.status !== 'PROCESSING') return undefined;
  if (execution.status === 'RUNNING' || execution.status === 'PENDING_REDRIVE') return undefined;
  if (execution.status === 'MISSING') {
    return 'task flow execution never started: the task was dispatched but its execution does not exist; submit the task again';
  }
  const detail = [execution.error, execution.cause].filter((s) => s && s.trim()).join(': ');
  const why =
    execution.status === 'SUCCEEDED'
      ? 'it ended without finishing the task'
      : detail || 'it stopped outside the flow (no error recorded)';
  return `task flow execution ${execution.status}: ${why.slice(0, 500)}; submit the task again`;
}

/**
 * The reaper: ends the app's tasks whose flow execution died outside its own Catch (stopped by hand, timed
 * out, a state-machine bug), exactly as the flow's failure path does: unfinished subtasks FAIL 70000 with the
 * reason, the task FINISH, the app's slot released (failAll + finalizeTask; conditional writes, so a late flow
 * finishing at the same time still finishes the task exactly once). A task claimed for dispatch whose
 * execution was never started is started instead. Returns the reaped and the restarted TaskIds.
 */
export async function reapApp(
  deps: ReaperDeps,
  subAppId: number,
): Promise<{ reaped: string[]; restarted: string[] }> {
  const cutoff = isoNow(() => deps.clock() - deps.graceSeconds * 1000);
  const reaped: string[] = [];
  const restarted: string[] = [];
  for (const candidate of await deps.tasks.listUnfinishedSince(subAppId, cutoff)) {
    // The execution first, then the task: a flow that finished meanwhile shows as FINISH here.
    const execution = await deps.flows.describe(candidate.taskId);
    if (execution.status === 'RUNNING') continue;
    const task = await deps.tasks.getTask(candidate.taskId);
    if (!task) continue;
    if (execution.status === 'MISSING' && task.status === 'WAITING') {
      // Claimed for dispatch (it holds a slot) but its start was lost (the scheduler died between the two):
      // start it now. The execution name is the TaskId, so a start that did happen answers 'exists'.
      await deps.flows.start(task.taskId, { taskId: task.taskId, subAppId });
      deps.logger.warn('started a dispatched task whose execution was never started', {
        taskId: task.taskId,
        subAppId,
        since: candidate.since,
      });
      restarted.push(task.taskId);
      continue;
    }
    const message = reapReason(task, execution);
    if (!message) continue;
    const ref = { taskId: task.taskId, subAppId };
    const { failed } = await failAll(deps.flow, { ...ref, errCode: ErrCode.Internal, message });
    await finalizeTask(deps.flow, ref);
    deps.logger.warn('reaped a task whose flow execution died', {
      taskId: task.taskId,
      subAppId,
      taskStatus: task.status,
      execution: execution.status,
      error: execution.error,
      since: candidate.since,
      failedSubtasks: failed,
    });
    reaped.push(task.taskId);
  }
  return { reaped, restarted };
}
