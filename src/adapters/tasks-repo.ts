import { QueryCommand, type DynamoDBDocumentClient, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import { ApiError } from '../domain/errors';
import type { TaskStatus, TaskSummary, TaskType } from '../domain/task';

/**
 * Tasks table layout (one table, streams NEW_AND_OLD_IMAGES, TTL on `expiresAt`):
 *   task:     pk `TASK#<TaskId>`, sk `#TASK`; GSI `byCreateTime` (gsi1pk `APP#<SubAppId>`, gsi1sk `<CreateTime>#<TaskId>`);
 *             sparse GSI `byFinishTime` (gsi2pk `APP#<SubAppId>`, gsi2sk `<FinishTime>#<TaskId>`) once finished.
 *   subtasks: pk `TASK#<TaskId>`, sk `SUB#<nnnn>` (one item each: a flow of many subtasks stays small per item).
 */
export const taskKey = (taskId: string) => ({ pk: `TASK#${taskId}`, sk: '#TASK' });
export const appPartition = (subAppId: number) => `APP#${subAppId}`;

export interface ListTasksQuery {
  subAppId: number;
  status?: TaskStatus;
  fileId?: string;
  createTime?: { after?: string; before?: string };
  finishTime?: { after?: string; before?: string };
  sort: { field: 'CreateTime' | 'FinishTime'; order: 'Asc' | 'Desc' };
  limit: number;
  scrollToken?: string;
}

export interface ListTasksResult {
  tasks: TaskSummary[];
  scrollToken?: string;
  totalCount: number;
}

type Key = Record<string, string>;
const encodeToken = (key: Key): string => Buffer.from(JSON.stringify(key), 'utf8').toString('base64url');
function decodeToken(token: string, subAppId: number): Key {
  try {
    const key = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as Key;
    const part = key.gsi1pk ?? key.gsi2pk;
    if (part !== appPartition(subAppId) || typeof key.pk !== 'string') throw new Error('foreign');
    return key;
  } catch {
    throw new ApiError(
      'InvalidParameterValue.ScrollToken',
      'ScrollToken is not a token returned by DescribeTasks.',
    );
  }
}

export class DynamoTasksRepository {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  /**
   * Lists an app's tasks in a stable order. The ScrollToken is the key of the last task returned, so
   * paging never skips or repeats a task while tasks are added (new tasks only extend the ordered index).
   */
  async list(q: ListTasksQuery): Promise<ListTasksResult> {
    const byFinish = q.sort.field === 'FinishTime';
    const [pkName, skName, index] = byFinish
      ? ['gsi2pk', 'gsi2sk', 'byFinishTime']
      : ['gsi1pk', 'gsi1sk', 'byCreateTime'];
    const names: Record<string, string> = { '#p': pkName };
    const values: Record<string, unknown> = { ':p': appPartition(q.subAppId) };
    let keyCond = '#p = :p';
    const range = byFinish ? q.finishTime : q.createTime;
    if (range?.after || range?.before) names['#s'] = skName;
    if (range?.after && range?.before) {
      keyCond += ' AND #s BETWEEN :a AND :b';
      values[':a'] = iso(range.after);
      values[':b'] = iso(range.before);
    } else if (range?.after) {
      keyCond += ' AND #s >= :a';
      values[':a'] = iso(range.after);
    } else if (range?.before) {
      keyCond += ' AND #s < :b';
      values[':b'] = iso(range.before);
    }
    const filters: string[] = [];
    if (q.status) {
      filters.push('#st = :st');
      names['#st'] = 'status';
      values[':st'] = q.status;
    }
    if (q.fileId) {
      filters.push('#f = :f');
      names['#f'] = 'fileId';
      values[':f'] = q.fileId;
    }
    // The range on the other time field is a filter; `before` is exclusive as Tencent documents.
    const other = byFinish ? q.createTime : q.finishTime;
    const otherAttr = byFinish ? 'createTime' : 'finishTime';
    if (other?.after) {
      filters.push('#o >= :oa');
      names['#o'] = otherAttr;
      values[':oa'] = iso(other.after);
    }
    if (other?.before) {
      filters.push('#o < :ob');
      names['#o'] = otherAttr;
      values[':ob'] = iso(other.before);
    }
    // BETWEEN is inclusive, but stored keys are `<time>#<TaskId>` and sort after `<time>`: `Before` stays exclusive.
    const base: QueryCommandInput = {
      TableName: this.table,
      IndexName: index,
      KeyConditionExpression: keyCond,
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
      FilterExpression: filters.length ? filters.join(' AND ') : undefined,
      ScanIndexForward: q.sort.order === 'Asc',
    };

    const tasks: TaskSummary[] = [];
    const keys: Key[] = [];
    let start: Key | undefined = q.scrollToken ? decodeToken(q.scrollToken, q.subAppId) : undefined;
    let more = true;
    while (tasks.length < q.limit && more) {
      const out = await this.doc.send(new QueryCommand({ ...base, ExclusiveStartKey: start, Limit: 100 }));
      for (const item of out.Items ?? []) {
        if (tasks.length === q.limit) break;
        tasks.push(toSummary(item));
        keys.push({
          pk: String(item.pk),
          sk: String(item.sk),
          [pkName]: String(item[pkName]),
          [skName]: String(item[skName]),
        });
      }
      start = out.LastEvaluatedKey as Key | undefined;
      more = Boolean(start);
    }
    // A token is returned only when the page is full and the index holds more after its last task.
    const last = keys[keys.length - 1];
    const scrollToken =
      tasks.length === q.limit && last && (await this.hasMore(base, last)) ? encodeToken(last) : undefined;
    return { tasks, scrollToken, totalCount: await this.count(base) };
  }

  private async hasMore(base: QueryCommandInput, after: Key): Promise<boolean> {
    let start: Key | undefined = after;
    do {
      const out = await this.doc.send(new QueryCommand({ ...base, ExclusiveStartKey: start, Limit: 100 }));
      if ((out.Items ?? []).length > 0) return true;
      start = out.LastEvaluatedKey as Key | undefined;
    } while (start);
    return false;
  }

  private async count(base: QueryCommandInput): Promise<number> {
    let total = 0;
    let start: Key | undefined;
    do {
      const out = await this.doc.send(
        new QueryCommand({ ...base, Select: 'COUNT', ExclusiveStartKey: start }),
      );
      total += out.Count ?? 0;
      start = out.LastEvaluatedKey as Key | undefined;
    } while (start);
    return total;
  }
}

/** Normalises an ISO time to UTC `…Z` so it sorts against stored times. */
function iso(s: string): string {
  return new Date(s).toISOString();
}

export function toSummary(item: Record<string, unknown>): TaskSummary {
  return {
    taskId: String(item.taskId),
    subAppId: Number(item.subAppId),
    taskType: String(item.taskType) as TaskType,
    status: String(item.status) as TaskStatus,
    fileId: item.fileId === undefined ? undefined : String(item.fileId),
    createTime: String(item.createTime),
    beginProcessTime: item.beginProcessTime === undefined ? undefined : String(item.beginProcessTime),
    finishTime: item.finishTime === undefined ? undefined : String(item.finishTime),
    sessionId: item.sessionId === undefined ? undefined : String(item.sessionId),
    sessionContext: item.sessionContext === undefined ? undefined : String(item.sessionContext),
  };
}
