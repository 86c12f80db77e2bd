/** A WAITING task of two remux subtasks, and the store it lives in: what the task-store tests start from. */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoTaskStore } from '../../src/adapters/task-store';
import type { Subtask, Task } from '../../src/domain/task';
import { startDynamoWithTables } from './dynamo';

export const waitingTask = (
  taskId: string,
  subAppId: number,
  opts: { priority?: number; createTime?: string } = {},
): Task => ({
  taskId,
  subAppId,
  taskType: 'Procedure',
  status: 'WAITING',
  fileId: 'f',
  createTime: opts.createTime ?? new Date().toISOString(),
  priority: opts.priority ?? 0,
  notifyMode: 'Finish',
  subtaskCount: 2,
});

export const twoSubtasks = (taskId: string): Subtask[] =>
  [0, 1].map((index) => ({
    taskId,
    index,
    kind: 'Transcode',
    status: 'WAITING',
    input: { Definition: 875 },
    template: {},
    progress: 0,
    errCode: 0,
    message: '',
  }));

/** DynamoDB Local with the tasks table (as `tasks`) and a task store on it. */
export async function startTaskStore(
  prefix: string,
): Promise<{ store: DynamoTaskStore; doc: DynamoDBDocumentClient; stop: () => Promise<void> }> {
  const db = await startDynamoWithTables({ TasksTable: 'tasks' }, prefix);
  return { store: new DynamoTaskStore(db.doc, 'tasks'), doc: db.doc, stop: db.stop };
}
