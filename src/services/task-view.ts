import { ApiError } from '../domain/errors';
import { KIND_FIELDS, type Subtask, type Task } from '../domain/task';
import type { DynamoTaskStore } from '../adapters/task-store';
import type { DynamoMediaRepository } from '../adapters/media-repo';
import { metaDataFacts } from '../media/facts';
import { expandValue } from '../domain/packed-lists';
import { pullUploadTaskView } from './upload-pull';

/** One subtask in Tencent's MediaProcessTaskResult shape. Waiting subtasks read as PROCESSING at 0 %. */
export function subtaskResult(s: Subtask): Record<string, unknown> {
  const status = s.status === 'WAITING' ? 'PROCESSING' : s.status;
  return {
    Type: s.kind,
    [KIND_FIELDS[s.kind].resultField]: {
      Status: status,
      ErrCodeExt: s.status === 'FAIL' ? errCodeExt(s.errCode) : '',
      ErrCode: s.errCode,
      Message: s.status === 'FAIL' ? s.message : s.status === 'SUCCESS' ? 'SUCCESS' : '',
      Progress: s.status === 'SUCCESS' ? 100 : s.progress,
      Input: s.input,
      // Stored compacted (task-store endSubtask): the full lists again.
      Output: s.output ? expandValue(s.output) : null,
      BeginProcessTime: s.beginProcessTime ?? '',
      FinishTime: s.finishTime ?? '',
    },
  };
}

function errCodeExt(code: number): string {
  if (code === 40000) return 'InvalidInput';
  if (code === 60000) return 'SourceFileError';
  return 'InternalError';
}

export async function procedureTask(
  task: Task,
  subtasks: Subtask[],
  media: DynamoMediaRepository,
): Promise<Record<string, unknown>> {
  const m = task.fileId ? await media.get(task.fileId, task.subAppId) : undefined;
  return {
    TaskId: task.taskId,
    Status: task.status,
    ErrCode: 0,
    Message: '',
    FileId: task.fileId ?? '',
    FileName: m?.name ?? task.mediaName ?? '',
    FileUrl: task.mediaUrl ?? '',
    MetaData: m?.metaData ? metaDataFacts(m.metaData) : null,
    MediaProcessResultSet: subtasks.map(subtaskResult),
    AiContentReviewResultSet: [],
    AiAnalysisResultSet: [],
    AiRecognitionResultSet: [],
    TasksPriority: task.priority,
    TasksNotifyMode: task.notifyMode,
    SessionContext: task.sessionContext ?? '',
    SessionId: task.sessionId ?? '',
    Operator: '',
    OperationType: '',
  };
}

export async function describeTaskDetail(
  deps: { tasks: DynamoTaskStore; media: DynamoMediaRepository },
  subAppId: number,
  taskId: string,
): Promise<Record<string, unknown>> {
  const found = await deps.tasks.get(taskId);
  if (!found || found.task.subAppId !== subAppId) {
    throw new ApiError('InvalidParameterValue.TaskId', `TaskId ${taskId} does not exist in this app.`);
  }
  const { task, subtasks } = found;
  return {
    TaskType: task.taskType,
    Status: task.status,
    CreateTime: task.createTime,
    BeginProcessTime: task.beginProcessTime ?? '',
    FinishTime: task.finishTime ?? '',
    ...(task.taskType === 'PullUpload'
      ? { PullUploadTask: await pullUploadTaskView(deps.media, task) }
      : { ProcedureTask: await procedureTask(task, subtasks, deps.media) }),
  };
}
