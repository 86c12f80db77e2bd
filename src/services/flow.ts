import type { Logger } from '@aws-lambda-powertools/logger';
import { ErrCode } from '../domain/errors';
import { SUBTASK_DONE, type Engine, type Task } from '../domain/task';
import type { DynamoTaskStore } from '../adapters/task-store';
import type { DynamoMediaRepository } from '../adapters/media-repo';
import { isoNow, type Clock, type IntakeQueue } from './ports';
import { recordFlowOutputs, type MediaLibraryDeps } from './media-library';

/** The task-flow steps that are not media work: mark, plan, fail-all, finalize. Each is idempotent. */
export interface FlowDeps {
  tasks: DynamoTaskStore;
  media: DynamoMediaRepository;
  intake: IntakeQueue;
  clock: Clock;
  logger: Logger;
  /** Inputs longer than this run on Fargate. */
  fargateMinDurationSeconds: number;
  /** The media library: a flow's outputs are recorded on its media when it finishes. */
  library?: Pick<MediaLibraryDeps, 'library' | 'objects' | 'publicUrl' | 'clock' | 'logger'>;
  /** Runs before a task is marked FINISH, on every finalize attempt (must be idempotent): a PullUpload starts its procedure here. */
  beforeFinish?: (task: Task) => Promise<void>;
}

export interface FlowRef {
  taskId: string;
  subAppId: number;
}

/** WAITING → PROCESSING. A resumed execution of a PROCESSING task goes on; a finished one stops. */
export async function markProcessing(
  deps: FlowDeps,
  ref: FlowRef,
): Promise<{ run: boolean; ingest: boolean }> {
  const status = await deps.tasks.markProcessing(ref.taskId, isoNow(deps.clock), ref.subAppId);
  if (status !== 'PROCESSING') return { run: false, ingest: false };
  const task = await deps.tasks.getTask(ref.taskId);
  const media = task?.fileId ? await deps.media.get(task.fileId, ref.subAppId) : undefined;
  return { run: true, ingest: media?.status === 'PENDING' };
}

/** Chooses each subtask's engine from the input's duration and returns the Map's items. */
export async function planSubtasks(
  deps: FlowDeps,
  ref: FlowRef,
): Promise<{ subtasks: Array<FlowRef & { index: number; engine: Engine }> }> {
  const found = await deps.tasks.get(ref.taskId);
  if (!found) return { subtasks: [] };
  const media = found.task.fileId ? await deps.media.get(found.task.fileId, ref.subAppId) : undefined;
  const duration = media?.metaData?.durationSeconds ?? 0;
  const engine: Engine = duration > deps.fargateMinDurationSeconds ? 'fargate' : 'lambda';
  const pending = found.subtasks.filter((s) => !SUBTASK_DONE.includes(s.status));
  await deps.tasks.setEngines(
    ref.taskId,
    pending.map((s) => ({ index: s.index, engine })),
  );
  return {
    subtasks: pending.map((s) => ({ taskId: ref.taskId, subAppId: ref.subAppId, index: s.index, engine })),
  };
}

/** Ends every subtask that has not ended yet as FAIL (the input could not be prepared). */
export async function failAll(
  deps: Pick<FlowDeps, 'tasks' | 'clock'>,
  ref: FlowRef & { errCode?: number; message?: string },
): Promise<{ failed: number }> {
  const found = await deps.tasks.get(ref.taskId);
  if (!found) return { failed: 0 };
  let failed = 0;
  for (const s of found.subtasks) {
    if (SUBTASK_DONE.includes(s.status)) continue;
    const ok = await deps.tasks.endSubtask(
      ref.taskId,
      s.index,
      {
        status: 'FAIL',
        errCode: ref.errCode ?? ErrCode.Internal,
        message: ref.message ?? 'the task flow failed before this subtask could run; submit the task again',
      },
      isoNow(deps.clock),
    );
    if (ok) failed++;
  }
  return { failed };
}

/** PROCESSING → FINISH exactly once; frees the app's slot and lets the scheduler start the next flow. */
export async function finalizeTask(deps: FlowDeps, ref: FlowRef): Promise<{ status: string }> {
  const found = await deps.tasks.get(ref.taskId);
  if (!found) return { status: 'MISSING' };
  // A subtask that never reported (its worker vanished) must not leave the flow open.
  const stragglers = found.subtasks.filter((s) => !SUBTASK_DONE.includes(s.status));
  for (const s of stragglers) {
    await deps.tasks.endSubtask(
      ref.taskId,
      s.index,
      {
        status: 'FAIL',
        errCode: ErrCode.Internal,
        message: 'the worker stopped without reporting a result; submit the task again',
      },
      isoNow(deps.clock),
    );
  }
  // Outputs go on the media before FINISH is visible; once FINISH, a retry must not re-record outputs that
  // DeleteMedia may have removed since.
  if (deps.library && found.task.status !== 'FINISH') {
    const ended = stragglers.length ? ((await deps.tasks.get(ref.taskId))?.subtasks ?? []) : found.subtasks;
    await recordFlowOutputs(deps.library, found.task, ended);
  }
  if (deps.beforeFinish && found.task.status !== 'FINISH') await deps.beforeFinish(found.task);
  const finished = await deps.tasks.finish(found.task, isoNow(deps.clock));
  if (finished) deps.logger.info('task finished', { taskId: ref.taskId, subAppId: ref.subAppId });
  // Kick even when a retry finds the task already finished: the first attempt may have failed to.
  await deps.intake.kick(ref.subAppId);
  return { status: 'FINISH' };
}
