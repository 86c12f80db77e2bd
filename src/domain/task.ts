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
export const canTransition = (from: TaskStatus, to: TaskStatus): boolean =>
  TASK_TRANSITIONS[from].includes(to);
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

/** Subtask kinds of a Procedure, with Tencent's result-set `Type` names. */
export const SUBTASK_KINDS = [
  'Transcode',
  'SampleSnapshot',
  'SnapshotByTimeOffset',
  'ImageSprites',
  'CoverBySnapshot',
  'AdaptiveDynamicStreaming',
  'AnimatedGraphics',
] as const;
export type SubtaskKind = (typeof SUBTASK_KINDS)[number];

/** The request field of each kind in MediaProcessTask, and its field in MediaProcessTaskResult. */
export const KIND_FIELDS: Record<SubtaskKind, { taskSet: string; resultField: string }> = {
  Transcode: { taskSet: 'TranscodeTaskSet', resultField: 'TranscodeTask' },
  SampleSnapshot: { taskSet: 'SampleSnapshotTaskSet', resultField: 'SampleSnapshotTask' },
  SnapshotByTimeOffset: { taskSet: 'SnapshotByTimeOffsetTaskSet', resultField: 'SnapshotByTimeOffsetTask' },
  ImageSprites: { taskSet: 'ImageSpriteTaskSet', resultField: 'ImageSpriteTask' },
  CoverBySnapshot: { taskSet: 'CoverBySnapshotTaskSet', resultField: 'CoverBySnapshotTask' },
  AdaptiveDynamicStreaming: {
    taskSet: 'AdaptiveDynamicStreamingTaskSet',
    resultField: 'AdaptiveDynamicStreamingTask',
  },
  AnimatedGraphics: { taskSet: 'AnimatedGraphicTaskSet', resultField: 'AnimatedGraphicTask' },
};

export type Engine = 'lambda' | 'fargate';
export type NotifyMode = 'Finish' | 'Change' | 'None';

/** One subtask as stored (its own item, so a flow of many subtasks stays small per item). */
export interface Subtask {
  taskId: string;
  index: number;
  kind: SubtaskKind;
  status: SubtaskStatus;
  /** The task input as submitted (e.g. {Definition, StartTimeOffset}). */
  input: Record<string, unknown>;
  /** The template as it was at submission: the flow runs from this snapshot. */
  template: Record<string, unknown>;
  engine?: Engine;
  progress: number;
  errCode: number;
  message: string;
  /** As stored: long lists compacted (src/domain/packed-lists.ts); read it through expandValue. */
  output?: Record<string, unknown>;
  beginProcessTime?: string;
  finishTime?: string;
  attempts?: number;
}

/** The full task record. */
export interface Task extends TaskSummary {
  priority: number;
  notifyMode: NotifyMode;
  subtaskCount: number;
  /** Set when the input comes from a URL that must be pulled into a new media first. */
  sourceUrl?: string;
  mediaName?: string;
  mediaUrl?: string;
}

export const SUBTASK_DONE: readonly SubtaskStatus[] = ['SUCCESS', 'FAIL'];
