/** Task states as Tencent reports them, with guarded transitions. */
export type TaskStatus = 'WAITING' | 'PROCESSING' | 'FINISH' | 'ABORTED';
export type SubtaskStatus = 'WAITING' | 'PROCESSING' | 'SUCCESS' | 'FAIL';
export type TaskType = 'Procedure' | 'EditMedia' | 'PullUpload';

const TASK_TRANSITIONS: Record<TaskStatus, readonly TaskStatus[]> = {
  WAITING: ['PROCESSING', 'ABORTED'],
  PROCESSING: ['FINISH', 'ABORTED'],
  FINISH: [],
  ABORTED: [],
};
export const canTransition = (from: TaskStatus, to: TaskStatus): boolean => TASK_TRANSITIONS[from].includes(to);
export const TASK_STATUSES: readonly TaskStatus[] = ['WAITING', 'PROCESSING', 'FINISH', 'ABORTED'];

/** The summary of a task, as stored and as DescribeTasks lists it. */
export interface TaskSummary {
  taskId: string;
  subAppId: number;
  taskType: TaskType;
  status: TaskStatus;
  fileId?: string;
  createTime: string;
  beginProcessTime?: string;
  finishTime?: string;
  sessionId?: string;
  sessionContext?: string;
}

/** Tasks are kept at least this long after they are created (Tencent: 3 days; we keep 7). */
export const TASK_RETENTION_SECONDS = 7 * 24 * 3600;
