import { createHash } from 'node:crypto';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import type { Subtask, SubtaskStatus, Task, TaskStatus, NotifyMode, TaskType } from '../domain/task';
import type { StoredEvent } from '../adapters/event-store';
import { EVENT_RETENTION_SECONDS } from '../adapters/event-store';
import type { EventConfigRepository } from './event-config';

/**
 * From state changes to Tencent events, and the one path every event takes into the events table.
 *
 * Each event's ID is derived from what happened (task + what changed + to which state; a media's FileId for
 * its upload), so stream redelivery, retries and concurrent completions can never create a duplicate: the
 * store refuses an ID it already has. Storing is the commitment to deliver: the events table's own stream
 * drives the push (see functions/pusher.ts), and a PULL event is pullable as soon as it is stored.
 */
export type EventType = 'ProcedureStateChanged' | 'EditMediaComplete' | 'NewFileUpload' | 'PullComplete';

/** The EventContent field that carries each event type's object. */
export const EVENT_FIELDS: Record<EventType, string> = {
  ProcedureStateChanged: 'ProcedureStateChangeEvent',
  // EditMedia tasks do not exist yet: their FINISH maps here already (content: Tencent's EditMediaTask).
  EditMediaComplete: 'EditMediaCompleteEvent',
  NewFileUpload: 'FileUploadEvent',
  // A PullUpload task's end (SDK EventContent.PullCompleteEvent: PullUploadTask).
  PullComplete: 'PullCompleteEvent',
};

/**
 * A stream record that no retry can turn into events (a malformed image, an event that fails validation):
 * logged and skipped alone, so it never holds up the shard.
 */
export class PoisonRecordError extends Error {
  override readonly name = 'PoisonRecordError';
}

/** Errors that will fail the same way however often the record is retried. */
const isPoison = (err: unknown): boolean => {
  const name = (err as Error)?.name;
  return name === 'PoisonRecordError' || name === 'PermanentError' || name === 'ValidationException';
};

export interface TransitionEvent {
  eventId: string;
  eventType: 'ProcedureStateChanged' | 'EditMediaComplete' | 'PullComplete';
  taskId: string;
  subAppId: number;
  /** What caused it, e.g. `FINISH` or `SUB#0002:SUCCESS`. */
  transition: string;
}

export interface ItemImage {
  sk: string;
  taskId: string;
  subAppId: number;
  status: string;
  notifyMode?: NotifyMode;
  taskType?: TaskType;
  index?: number;
}

export const eventId = (taskId: string, transition: string): string =>
  createHash('sha256').update(`${taskId}\n${transition}`).digest('hex').slice(0, 32);

/** The events a change of one tasks-table item produces. */
export function eventsForChange(
  oldImage: ItemImage | undefined,
  newImage: ItemImage | undefined,
): TransitionEvent[] {
  if (!newImage || newImage.status === oldImage?.status) return [];
  const mode = newImage.notifyMode ?? 'Finish';
  const make = (
    transition: string,
    eventType: TransitionEvent['eventType'] = 'ProcedureStateChanged',
  ): TransitionEvent => ({
    eventId: eventId(newImage.taskId, transition),
    eventType,
    taskId: newImage.taskId,
    subAppId: newImage.subAppId,
    transition,
  });
  if (newImage.sk === '#TASK') {
    if ((newImage.status as TaskStatus) !== 'FINISH') return [];
    // PullUpload has no TasksNotifyMode: its end is always announced (Tencent's PullComplete).
    if (newImage.taskType === 'PullUpload') return [make('FINISH', 'PullComplete')];
    if (mode === 'None') return [];
    return [newImage.taskType === 'EditMedia' ? make('FINISH', 'EditMediaComplete') : make('FINISH')];
  }
  if (mode === 'None' || newImage.taskType === 'PullUpload') return [];
  if (newImage.sk.startsWith('SUB#') && mode === 'Change') {
    const s = newImage.status as SubtaskStatus;
    if (s === 'PROCESSING' || s === 'SUCCESS' || s === 'FAIL') return [make(`${newImage.sk}:${s}`)];
  }
  return [];
}

export interface EventSink {
  putOnce(e: StoredEvent): Promise<boolean>;
}

export interface PublishDeps {
  events: EventSink;
  configs: EventConfigRepository;
  clock: () => number;
}

export interface NewEvent {
  subAppId: number;
  /** Deterministic: derived from what happened, so publishing twice stores once. */
  eventId: string;
  eventType: EventType;
  /** The event's own object, e.g. the ProcedureTask of ProcedureStateChanged or the FileUploadTask of NewFileUpload. */
  content: Record<string, unknown>;
  taskId?: string;
  transition?: string;
}

export type PublishOutcome = 'stored' | 'duplicate' | 'switched-off';

/**
 * Stores an event once, under the app's configuration as it is now: PUSH to a URL → pending push; PULL, or
 * PUSH without a URL → pullable at once. `NewFileUpload` is published only when the app's
 * UploadMediaCompleteEventSwitch is ON.
 */
export async function publishEvent(deps: PublishDeps, e: NewEvent): Promise<PublishOutcome> {
  if (!/^[A-Za-z0-9_-]{1,128}$/.test(e.eventId)) throw new PoisonRecordError(`invalid event id ${e.eventId}`);
  const config = await deps.configs.get(e.subAppId);
  if (e.eventType === 'NewFileUpload' && config.uploadMediaCompleteEventSwitch !== 'ON')
    return 'switched-off';
  const now = deps.clock();
  const push = config.mode === 'PUSH' && config.notificationUrl !== '';
  const stored = await deps.events.putOnce({
    subAppId: e.subAppId,
    eventId: e.eventId,
    eventType: e.eventType,
    content: { EventType: e.eventType, [EVENT_FIELDS[e.eventType]]: e.content },
    createTime: new Date(now).toISOString(),
    createdAtMs: now,
    delivery: push ? 'PUSH' : 'PULL',
    ...(push
      ? { url: config.notificationUrl, state: 'PUSHING', pushNext: 1 }
      : { state: 'PENDING', visibleAt: now }),
    expiresAt: Math.floor(now / 1000) + EVENT_RETENTION_SECONDS,
    taskId: e.taskId,
    transition: e.transition,
  });
  return stored ? 'stored' : 'duplicate';
}

export interface NotifierDeps extends PublishDeps {
  tasks: { get(taskId: string): Promise<{ task: Task; subtasks: Subtask[] } | undefined> };
  /** Tencent's ProcedureTask of a task (task-view). */
  procedureTask(task: Task, subtasks: Subtask[]): Promise<Record<string, unknown>>;
  /** Tencent's PullUploadTask of a PullUpload task (upload-pull's pullUploadTaskView). */
  pullUploadTask(task: Task): Promise<Record<string, unknown>>;
  log?: (msg: string, extra: Record<string, unknown>) => void;
  logError?: (msg: string, extra: Record<string, unknown>) => void;
}

export interface ChangeRecord {
  seq: string;
  oldImage?: ItemImage & Record<string, unknown>;
  newImage?: ItemImage & Record<string, unknown>;
  /** Why the record's images could not be read (a poison record). */
  malformed?: string;
}

/** Why an image cannot be a tasks-table item the notifier understands, or undefined when it can. */
function malformedImage(img: Record<string, unknown> | undefined): string | undefined {
  if (!img) return undefined;
  if (typeof img.sk !== 'string') return 'sk is not a string';
  if (img.sk !== '#TASK' && !img.sk.startsWith('SUB#')) return undefined; // not a task item: no events
  if (typeof img.taskId !== 'string' || !img.taskId) return 'taskId is missing';
  if (!Number.isSafeInteger(img.subAppId)) return 'subAppId is not an integer';
  if (typeof img.status !== 'string') return 'status is not a string';
  return undefined;
}

/** EditMediaTask content (EditMedia tasks are not built yet; this is what their FINISH will carry). */
function editMediaTask(task: Task): Record<string, unknown> {
  return {
    TaskId: task.taskId,
    Status: task.status,
    ErrCode: 0,
    ErrCodeExt: '',
    Message: '',
    Progress: 100,
    ProcedureTaskId: '',
    ReviewAudioVideoTaskId: '',
    SessionId: task.sessionId ?? '',
    SessionContext: task.sessionContext ?? '',
  };
}

/** Runs `fn` over `items` with at most `limit` at once. */
async function pool<T>(items: T[], limit: number, fn: (item: T, i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/**
 * Tasks-table changes → stored events. Records are handled concurrently (each event's ID is its own, so order
 * does not matter); within one call the task and the app's configuration are read once. On failure the
 * earliest failed record's sequence number is returned: the stream resumes from there, the records before it
 * are stored (never lost) and those after it that were stored are refused when they come again (never doubled).
 */
export async function notifyTaskChanges(
  deps: NotifierDeps,
  records: ChangeRecord[],
): Promise<{ failedSeq?: string }> {
  const taskCache = new Map<string, ReturnType<NotifierDeps['tasks']['get']>>();
  const configCache = new Map<number, ReturnType<EventConfigRepository['get']>>();
  const cached: NotifierDeps = {
    ...deps,
    configs: {
      ...deps.configs,
      get: (subAppId) => {
        let c = configCache.get(subAppId);
        if (!c) configCache.set(subAppId, (c = deps.configs.get(subAppId)));
        return c;
      },
    },
  };
  const getTask = (taskId: string) => {
    let t = taskCache.get(taskId);
    if (!t) taskCache.set(taskId, (t = deps.tasks.get(taskId)));
    return t;
  };
  let failedAt = -1;
  await pool(records, 16, async (r, i) => {
    try {
      const bad = r.malformed ?? malformedImage(r.newImage);
      if (bad) throw new PoisonRecordError(`malformed stream record: ${bad}`);
      for (const e of eventsForChange(r.oldImage, r.newImage)) {
        const found = await getTask(e.taskId);
        if (!found) continue;
        let content: Record<string, unknown>;
        if (e.eventType === 'EditMediaComplete') content = editMediaTask(found.task);
        else if (e.eventType === 'PullComplete') content = await deps.pullUploadTask(found.task);
        else {
          // The subtask as it was at this transition (a later write may already have moved it on).
          const subtasks = found.subtasks.map((s) =>
            r.newImage && r.newImage.sk.startsWith('SUB#') && s.index === r.newImage.index
              ? (r.newImage as unknown as Subtask)
              : s,
          );
          content = await deps.procedureTask(found.task, subtasks);
        }
        const outcome = await publishEvent(cached, { ...e, content });
        deps.log?.('event', { eventId: e.eventId, taskId: e.taskId, transition: e.transition, outcome });
      }
    } catch (err) {
      if (isPoison(err)) {
        // Can never succeed: skipped alone (logged with the record's sequence number for an operator).
        (deps.logError ?? deps.log)?.('notifier skipped a record it can never handle', {
          error: (err as Error).message,
          seq: r.seq,
        });
        return;
      }
      deps.log?.('notifier failed on a record', { error: (err as Error).message, seq: r.seq });
      if (failedAt < 0 || i < failedAt) failedAt = i;
    }
  });
  return failedAt >= 0 ? { failedSeq: records[failedAt].seq } : {};
}

/**
 * The notifier Lambda's batch (functions/notifier.ts), with ReportBatchItemFailures: the earliest record that
 * failed transiently is reported, so the stream (retried without limit) resumes there; a record that can
 * never succeed is logged and skipped, alone.
 */
export async function notifierBatch(
  deps: NotifierDeps,
  event: DynamoDBStreamEvent,
): Promise<DynamoDBBatchResponse> {
  const image = (img: unknown) =>
    img
      ? (unmarshall(img as Record<string, AttributeValue>) as ItemImage & Record<string, unknown>)
      : undefined;
  const records: ChangeRecord[] = event.Records.map((r) => {
    const seq = r.dynamodb?.SequenceNumber ?? '';
    try {
      return { seq, oldImage: image(r.dynamodb?.OldImage), newImage: image(r.dynamodb?.NewImage) };
    } catch (err) {
      return { seq, malformed: `unreadable image (${(err as Error).message})` };
    }
  });
  const { failedSeq } = await notifyTaskChanges(deps, records);
  return { batchItemFailures: failedSeq !== undefined ? [{ itemIdentifier: failedSeq }] : [] };
}
