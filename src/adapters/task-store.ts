import {
  BatchWriteCommand,
  GetCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
  type UpdateCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { queryAll } from './dynamo-query';
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { applyIf } from './dynamo-conditions';
import { ApiError, ConflictError, ErrCode, PermanentError } from '../domain/errors';
import { compactValue, jsonBytes } from '../domain/packed-lists';
import type { Engine, Subtask, SubtaskStatus, Task, TaskStatus } from '../domain/task';
import { appPartition, taskKey, toSummary } from './tasks-repo';

/**
 * Writes of the task flow on the tasks table. Every state change is a conditional write, so a flow
 * finishes exactly once and a subtask ends once, whatever runs twice (retries, redelivery, restarts).
 *   waiting index `byPriority` (sparse): gsi3pk `WAITING#<SubAppId>`, gsi3sk `<20-priority>#<CreateTime>#<TaskId>`;
 *     once claimed for dispatch the same index holds the task under gsi3pk `RUNNING#<SubAppId>`, gsi3sk
 *     `<DispatchTime|BeginProcessTime>#<TaskId>` until it finishes: the reaper's view of unfinished flows.
 *   slots: pk `SLOTS#<SubAppId>`, sk `#SLOTS`, `running` = flows dispatched and not finished
 *   dedupe: pk `SESSION#<SubAppId>#<SessionId>`, sk `#SESSION`
 */
const subKey = (taskId: string, index: number) => ({
  pk: `TASK#${taskId}`,
  sk: `SUB#${String(index).padStart(4, '0')}`,
});
const slotKey = (subAppId: number) => ({ pk: `SLOTS#${subAppId}`, sk: '#SLOTS' });
export const waitingSortKey = (priority: number, createTime: string, taskId: string) =>
  `${String(20 - (priority + 10)).padStart(2, '0')}#${createTime}#${taskId}`;

/** The most a subtask's compacted output may take (DynamoDB items hold 400 KB, with the subtask's other fields). */
export const MAX_OUTPUT_BYTES = 350 * 1024;

/** A task with the same internal dedupe key was stored within its window (by `taskId`, when still readable). */
export class DedupeConflict extends Error {
  constructor(
    readonly key: string,
    readonly taskId: string | undefined,
  ) {
    super(`a task with dedupe key ${key} exists already (${taskId ?? 'unknown'})`);
    this.name = 'DedupeConflict';
  }
}

export class DynamoTaskStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  private applyIf(input: UpdateCommandInput): Promise<boolean> {
    return applyIf(this.doc, input);
  }

  /** Stores a new WAITING task and its subtasks; refuses a SessionId seen within its window. */
  async create(
    task: Task,
    subtasks: Subtask[],
    opts: {
      expiresAt: number;
      session?: { id: string; expiresAt: number };
      /** Another item written in the same transaction (e.g. the new media of a Url submission). */
      alsoPut?: { TableName: string; Item: Record<string, unknown> };
      /**
       * An internal dedupe key (e.g. one flow per uploaded media): refused like a SessionId within its window,
       * but never shown as the task's SessionId (marker `DEDUPE#<SubAppId>#<key>`). Refusal: DedupeConflict.
       */
      dedupe?: { key: string; expiresAt: number };
      /**
       * The media the task works on must still exist and not be being deleted when the task is stored
       * (DeleteMedia tombstones it first, then looks for unfinished tasks). Refusal: FileId does not exist.
       */
      mediaCheck?: { TableName: string; Key: Record<string, unknown>; ConditionExpression: string };
    },
  ) {
    const subItem = (s: Subtask) => ({
      ...subKey(task.taskId, s.index),
      ...s,
      subAppId: task.subAppId,
      notifyMode: task.notifyMode,
      expiresAt: opts.expiresAt,
    });
    // One transaction when it fits (at most 100 items): one round trip, all or nothing. A larger flow writes
    // its subtasks first; the orphans of a refused task expire by TTL.
    const inline = subtasks.length + 3 <= 100;
    for (let i = 0; !inline && i < subtasks.length; i += 25) {
      await this.doc.send(
        new BatchWriteCommand({
          RequestItems: {
            [this.table]: subtasks.slice(i, i + 25).map((s) => ({
              PutRequest: { Item: subItem(s) },
            })),
          },
        }),
      );
    }
    const items: NonNullable<ConstructorParameters<typeof TransactWriteCommand>[0]['TransactItems']> = [
      {
        Put: {
          TableName: this.table,
          Item: {
            ...taskKey(task.taskId),
            ...task,
            gsi1pk: appPartition(task.subAppId),
            gsi1sk: `${task.createTime}#${task.taskId}`,
            gsi3pk: `WAITING#${task.subAppId}`,
            gsi3sk: waitingSortKey(task.priority, task.createTime, task.taskId),
            expiresAt: opts.expiresAt,
          },
          ConditionExpression: 'attribute_not_exists(pk)',
        },
      },
    ];
    if (opts.session) {
      items.push({
        Put: {
          TableName: this.table,
          Item: {
            pk: `SESSION#${task.subAppId}#${opts.session.id}`,
            sk: '#SESSION',
            taskId: task.taskId,
            expiresAt: opts.session.expiresAt,
          },
          // TTL deletes lazily: an expired marker no longer blocks.
          ConditionExpression: 'attribute_not_exists(pk) OR expiresAt < :now',
          ExpressionAttributeValues: { ':now': Math.floor(Date.parse(task.createTime) / 1000) },
        },
      });
    }
    const markerAt = (pk: string, id: string, expiresAt: number) => ({
      Put: {
        TableName: this.table,
        Item: { pk, sk: id, taskId: task.taskId, expiresAt },
        // TTL deletes lazily: an expired marker no longer blocks.
        ConditionExpression: 'attribute_not_exists(pk) OR expiresAt < :now',
        ExpressionAttributeValues: { ':now': Math.floor(Date.parse(task.createTime) / 1000) },
      },
    });
    const dedupeAt = opts.dedupe ? items.length : -1;
    if (opts.dedupe)
      items.push(markerAt(`DEDUPE#${task.subAppId}#${opts.dedupe.key}`, '#DEDUPE', opts.dedupe.expiresAt));
    if (opts.alsoPut)
      items.push({ Put: { ...opts.alsoPut, ConditionExpression: 'attribute_not_exists(pk)' } });
    const mediaAt = opts.mediaCheck ? items.length : -1;
    if (opts.mediaCheck) items.push({ ConditionCheck: opts.mediaCheck });
    if (inline)
      for (const sub of subtasks) items.push({ Put: { TableName: this.table, Item: subItem(sub) } });
    try {
      await this.doc.send(new TransactWriteCommand({ TransactItems: items }));
    } catch (e) {
      const failed = (i: number) =>
        i >= 0 &&
        e instanceof TransactionCanceledException &&
        e.CancellationReasons?.[i]?.Code === 'ConditionalCheckFailed';
      if (failed(mediaAt)) {
        throw new ApiError(
          'InvalidParameterValue.FileId',
          `FileId ${task.fileId} does not exist in this app (or is being deleted, or its original file was deleted).`,
        );
      }
      if (opts.dedupe && failed(dedupeAt)) {
        const prev = await this.doc.send(
          new GetCommand({
            TableName: this.table,
            Key: { pk: `DEDUPE#${task.subAppId}#${opts.dedupe.key}`, sk: '#DEDUPE' },
            ConsistentRead: true,
          }),
        );
        throw new DedupeConflict(opts.dedupe.key, prev.Item?.taskId as string | undefined);
      }
      if (
        opts.session &&
        e instanceof TransactionCanceledException &&
        e.CancellationReasons?.[1]?.Code === 'ConditionalCheckFailed'
      ) {
        const prev = await this.doc.send(
          new GetCommand({
            TableName: this.table,
            Key: { pk: `SESSION#${task.subAppId}#${opts.session.id}`, sk: '#SESSION' },
            ConsistentRead: true,
          }),
        );
        throw new ApiError(
          'InvalidParameterValue.SessionId',
          `SessionId ${opts.session.id} was already used by task ${String(prev.Item?.taskId ?? '(unknown)')}; requests with the same SessionId are refused within the dedupe window.`,
        );
      }
      throw e;
    }
  }

  async get(taskId: string): Promise<{ task: Task; subtasks: Subtask[] } | undefined> {
    const items = await queryAll(this.doc, {
      TableName: this.table,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': `TASK#${taskId}` },
      ConsistentRead: true,
    });
    const head = items.find((i) => i.sk === '#TASK');
    if (!head) return undefined;
    const subtasks = items
      .filter((i) => String(i.sk).startsWith('SUB#'))
      .map((i) => i as unknown as Subtask)
      .sort((a, b) => a.index - b.index);
    return { task: toTask(head), subtasks };
  }

  async getTask(taskId: string): Promise<Task | undefined> {
    const out = await this.doc.send(
      new GetCommand({ TableName: this.table, Key: taskKey(taskId), ConsistentRead: true }),
    );
    return out.Item ? toTask(out.Item) : undefined;
  }

  async getSubtask(taskId: string, index: number): Promise<Subtask | undefined> {
    const out = await this.doc.send(
      new GetCommand({ TableName: this.table, Key: subKey(taskId, index), ConsistentRead: true }),
    );
    return out.Item as Subtask | undefined;
  }

  /** The app's WAITING, not yet dispatched tasks: highest priority first, then oldest first. */
  async listWaiting(
    subAppId: number,
    limit: number,
  ): Promise<Array<{ taskId: string; priority: number; createTime: string }>> {
    const out = await this.doc.send(
      new QueryCommand({
        TableName: this.table,
        IndexName: 'byPriority',
        KeyConditionExpression: 'gsi3pk = :p',
        ExpressionAttributeValues: { ':p': `WAITING#${subAppId}` },
        Limit: limit,
      }),
    );
    // The index projects keys only: gsi3sk is `<20-priority>#<CreateTime>#<TaskId>`.
    return (out.Items ?? []).map((i) => {
      const sk = String(i.gsi3sk);
      const first = sk.indexOf('#');
      const last = sk.lastIndexOf('#');
      return {
        taskId: sk.slice(last + 1),
        priority: 10 - Number(sk.slice(0, first)),
        createTime: sk.slice(first + 1, last),
      };
    });
  }

  /** Takes a concurrency slot of the app if fewer than `cap` flows are dispatched. */
  async acquireSlot(subAppId: number, cap: number): Promise<boolean> {
    return this.applyIf({
      TableName: this.table,
      Key: slotKey(subAppId),
      UpdateExpression: 'ADD running :one',
      ConditionExpression: 'attribute_not_exists(running) OR running < :cap',
      ExpressionAttributeValues: { ':one': 1, ':cap': cap },
    });
  }

  async releaseSlot(subAppId: number): Promise<void> {
    await this.applyIf({
      TableName: this.table,
      Key: slotKey(subAppId),
      UpdateExpression: 'ADD running :minus',
      ConditionExpression: 'running > :zero',
      ExpressionAttributeValues: { ':minus': -1, ':zero': 0 },
    });
  }

  async runningFlows(subAppId: number): Promise<number> {
    const out = await this.doc.send(
      new GetCommand({ TableName: this.table, Key: slotKey(subAppId), ConsistentRead: true }),
    );
    return Number(out.Item?.running ?? 0);
  }

  /**
   * Takes the task out of the waiting index; only the caller that wins starts its flow. With its app, the task
   * moves to the app's running entries of the same index (see `listUnfinishedSince`).
   */
  async claimForDispatch(taskId: string, now: string, subAppId?: number): Promise<boolean> {
    return this.applyIf({
      TableName: this.table,
      Key: taskKey(taskId),
      UpdateExpression:
        subAppId === undefined
          ? 'REMOVE gsi3pk, gsi3sk SET dispatchTime = :now'
          : 'SET dispatchTime = :now, gsi3pk = :rp, gsi3sk = :rs',
      ConditionExpression: 'begins_with(gsi3pk, :wp) AND #s = :waiting',
      ExpressionAttributeNames: { '#s': 'status' },
      ExpressionAttributeValues: {
        ':now': now,
        ':waiting': 'WAITING',
        ':wp': 'WAITING#',
        ...(subAppId === undefined ? {} : { ':rp': `RUNNING#${subAppId}`, ':rs': `${now}#${taskId}` }),
      },
    });
  }

  /**
   * The app's tasks claimed for dispatch or PROCESSING whose dispatch (or, once PROCESSING, begin) time is
   * before `before` (ISO time), oldest first. Keys only: read each task back before acting on it.
   */
  async listUnfinishedSince(
    subAppId: number,
    before: string,
    limit = 100,
  ): Promise<Array<{ taskId: string; since: string }>> {
    const found: Array<{ taskId: string; since: string }> = [];
    let start: Record<string, unknown> | undefined;
    do {
      const out = await this.doc.send(
        new QueryCommand({
          TableName: this.table,
          IndexName: 'byPriority',
          KeyConditionExpression: 'gsi3pk = :p AND gsi3sk < :cut',
          ExpressionAttributeValues: { ':p': `RUNNING#${subAppId}`, ':cut': `${before}#` },
          Limit: limit - found.length,
          ExclusiveStartKey: start,
        }),
      );
      for (const i of out.Items ?? []) {
        const sk = String(i.gsi3sk);
        const cut = sk.lastIndexOf('#');
        found.push({ taskId: sk.slice(cut + 1), since: sk.slice(0, cut) });
      }
      start = out.LastEvaluatedKey;
    } while (start && found.length < limit);
    return found;
  }

  /** Puts a claimed task back in the waiting index (its flow could not be started). */
  async unclaim(task: Task): Promise<void> {
    await this.doc.send(
      new UpdateCommand({
        TableName: this.table,
        Key: taskKey(task.taskId),
        UpdateExpression: 'SET gsi3pk = :p, gsi3sk = :s REMOVE dispatchTime',
        ConditionExpression: '#s = :waiting',
        ExpressionAttributeNames: { '#s': 'status' },
        ExpressionAttributeValues: {
          ':p': `WAITING#${task.subAppId}`,
          ':s': waitingSortKey(task.priority, task.createTime, task.taskId),
          ':waiting': 'WAITING',
        },
      }),
    );
  }

  /**
   * WAITING → PROCESSING. Returns the status the task has afterwards. With its app, the task's running entry
   * (see `claimForDispatch`) is dated from now on; without, it leaves the index.
   */
  async markProcessing(taskId: string, now: string, subAppId?: number): Promise<TaskStatus> {
    const applied = await this.applyIf({
      TableName: this.table,
      Key: taskKey(taskId),
      UpdateExpression:
        subAppId === undefined
          ? 'SET #s = :p, beginProcessTime = :now REMOVE gsi3pk, gsi3sk'
          : 'SET #s = :p, beginProcessTime = :now, gsi3pk = :rp, gsi3sk = :rs',
      ConditionExpression: '#s = :w',
      ExpressionAttributeNames: { '#s': 'status' },
      ExpressionAttributeValues: {
        ':p': 'PROCESSING',
        ':w': 'WAITING',
        ':now': now,
        ...(subAppId === undefined ? {} : { ':rp': `RUNNING#${subAppId}`, ':rs': `${now}#${taskId}` }),
      },
    });
    if (applied) return 'PROCESSING';
    const t = await this.getTask(taskId);
    if (!t) throw new ConflictError(`task ${taskId} does not exist`);
    return t.status;
  }

  async setEngines(taskId: string, engines: Array<{ index: number; engine: Engine }>): Promise<void> {
    for (const e of engines) {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: subKey(taskId, e.index),
          UpdateExpression: 'SET engine = :e',
          ExpressionAttributeValues: { ':e': e.engine },
        }),
      );
    }
  }

  /**
   * WAITING|PROCESSING → PROCESSING (a retry re-enters) under a new attempt id: only the latest attempt may
   * then report progress or a result, so an older attempt still running cannot overwrite it. Returns the
   * attempt id, or undefined if the subtask already ended.
   */
  async startSubtask(
    taskId: string,
    index: number,
    now: string,
    attemptId: string,
  ): Promise<string | undefined> {
    const applied = await this.applyIf({
      TableName: this.table,
      Key: subKey(taskId, index),
      UpdateExpression:
        'SET #s = :p, beginProcessTime = if_not_exists(beginProcessTime, :now), updatedAt = :now, attemptId = :a ADD attempts :one',
      ConditionExpression: '#s IN (:w, :p)',
      ExpressionAttributeNames: { '#s': 'status' },
      ExpressionAttributeValues: {
        ':p': 'PROCESSING',
        ':w': 'WAITING',
        ':now': now,
        ':one': 1,
        ':a': attemptId,
      },
    });
    return applied ? attemptId : undefined;
  }

  async setProgress(taskId: string, index: number, progress: number, attemptId?: string): Promise<void> {
    await this.applyIf({
      TableName: this.table,
      Key: subKey(taskId, index),
      UpdateExpression: 'SET progress = :v',
      ConditionExpression: '#s = :p AND progress < :v' + (attemptId ? ' AND attemptId = :a' : ''),
      ExpressionAttributeNames: { '#s': 'status' },
      ExpressionAttributeValues: {
        ':p': 'PROCESSING',
        ':v': progress,
        ...(attemptId ? { ':a': attemptId } : {}),
      },
    });
  }

  /**
   * PROCESSING → SUCCESS|FAIL, once. With an attempt id, only that (latest) attempt may end it; without one
   * (a failure recorded by the flow) it ends whatever runs. Returns false when it did not end it.
   * The output is stored compacted (src/domain/packed-lists.ts: 10,800 snapshot URLs take a few hundred bytes);
   * readers expand it (task-view, the media library). An output still over MAX_OUTPUT_BYTES is refused with a
   * PermanentError (70000) before anything is written: the worker then ends the subtask FAIL with that message.
   */
  async endSubtask(
    taskId: string,
    index: number,
    end: {
      status: Extract<SubtaskStatus, 'SUCCESS' | 'FAIL'>;
      errCode: number;
      message: string;
      output?: Record<string, unknown>;
    },
    now: string,
    attemptId?: string,
  ): Promise<boolean> {
    const output = end.output ? (compactValue(end.output) as Record<string, unknown>) : undefined;
    const bytes = output ? jsonBytes(output) : 0;
    if (bytes > MAX_OUTPUT_BYTES) {
      throw new PermanentError(
        ErrCode.Internal,
        `the result of this subtask is too large to record (${Math.ceil(bytes / 1024)} KB after compaction, at most ${MAX_OUTPUT_BYTES / 1024} KB): its file list is not a numbered sequence; split the work into smaller tasks`,
      );
    }
    return this.applyIf({
      TableName: this.table,
      Key: subKey(taskId, index),
      UpdateExpression:
        'SET #s = :s, errCode = :c, message = :m, finishTime = :now, updatedAt = :now, progress = :prog, beginProcessTime = if_not_exists(beginProcessTime, :now)' +
        (output ? ', #o = :o' : ''),
      ConditionExpression: '#s IN (:w, :p)' + (attemptId ? ' AND attemptId = :a' : ''),
      ExpressionAttributeNames: { '#s': 'status', ...(output ? { '#o': 'output' } : {}) },
      ExpressionAttributeValues: {
        ...(attemptId ? { ':a': attemptId } : {}),
        ':s': end.status,
        ':c': end.errCode,
        ':m': end.message,
        ':now': now,
        ':prog': end.status === 'SUCCESS' ? 100 : 0,
        ':w': 'WAITING',
        ':p': 'PROCESSING',
        ...(output ? { ':o': output } : {}),
      },
    });
  }

  /** PROCESSING → FINISH exactly once, releasing the app's slot in the same transaction. */
  async finish(task: Task, now: string): Promise<boolean> {
    try {
      await this.doc.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Update: {
                TableName: this.table,
                Key: taskKey(task.taskId),
                UpdateExpression:
                  'SET #s = :f, finishTime = :now, gsi2pk = :p, gsi2sk = :sk REMOVE gsi3pk, gsi3sk',
                ConditionExpression: '#s IN (:proc, :w)',
                ExpressionAttributeNames: { '#s': 'status' },
                ExpressionAttributeValues: {
                  ':f': 'FINISH',
                  ':now': now,
                  ':p': appPartition(task.subAppId),
                  ':sk': `${now}#${task.taskId}`,
                  ':proc': 'PROCESSING',
                  ':w': 'WAITING',
                },
              },
            },
            {
              Update: {
                TableName: this.table,
                Key: slotKey(task.subAppId),
                UpdateExpression: 'ADD running :minus',
                ExpressionAttributeValues: { ':minus': -1 },
              },
            },
          ],
        }),
      );
      return true;
    } catch (e) {
      if (
        e instanceof TransactionCanceledException &&
        e.CancellationReasons?.[0]?.Code === 'ConditionalCheckFailed'
      ) {
        return false;
      }
      throw e;
    }
  }
}

export function toTask(item: Record<string, unknown>): Task {
  return {
    ...toSummary(item),
    priority: Number(item.priority ?? 0),
    notifyMode: (item.notifyMode as Task['notifyMode']) ?? 'Finish',
    subtaskCount: Number(item.subtaskCount ?? 0),
    sourceUrl: item.sourceUrl === undefined ? undefined : String(item.sourceUrl),
    mediaName: item.mediaName === undefined ? undefined : String(item.mediaName),
    mediaUrl: item.mediaUrl === undefined ? undefined : String(item.mediaUrl),
  };
}
