import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { ApiError, ErrCode, PermanentError } from '../domain/errors';
import { newFileId, type Media } from '../domain/media';
import {
  KIND_FIELDS,
  SUBTASK_KINDS,
  TASK_RETENTION_SECONDS,
  type NotifyMode,
  type Subtask,
  type SubtaskKind,
  type Task,
  type TaskType,
} from '../domain/task';
import type { TemplateCatalog, TemplateKind } from '../media/templates';
import type { DynamoTaskStore } from '../adapters/task-store';
import type { DynamoMediaRepository } from '../adapters/media-repo';
import { assertFetchable, type UrlPolicy } from '../adapters/safe-http';
import { common, parseParams } from '../api/validation';
import { isoNow, type Clock, type IntakeQueue } from './ports';
import { logger } from '../logger';

/** SessionId dedupe windows (Tencent: 3 days for ProcessMedia). */
export const SESSION_WINDOW_SECONDS = 3 * 24 * 3600;
export const MAX_SUBTASKS = 100;

const unsupported = (what: string) =>
  z
    .unknown()
    .refine(() => false, { message: `${what} is not supported by OpenVOD yet; remove it` })
    .optional();
const definition = z.number().int().positive();
const offset = z
  .number()
  .min(0)
  .max(24 * 3600);

const itemSchemas: Record<SubtaskKind, z.ZodTypeAny> = {
  Transcode: z
    .object({
      Definition: definition,
      StartTimeOffset: offset.optional(),
      EndTimeOffset: offset.optional(),
      WatermarkSet: unsupported('Watermarks'),
      TraceWatermark: unsupported('Trace watermarks'),
      CopyRightWatermark: unsupported('Copyright watermarks'),
      BlindWatermark: unsupported('Blind watermarks'),
      MosaicSet: unsupported('Mosaics'),
      HeadTailSet: unsupported('Heads and tails'),
      OverrideParameter: unsupported('OverrideParameter'),
      SubtitleInfoSet: unsupported('Subtitle burning'),
    })
    .strict()
    .refine((t) => !t.EndTimeOffset || !t.StartTimeOffset || t.EndTimeOffset > t.StartTimeOffset, {
      message: 'EndTimeOffset must be greater than StartTimeOffset',
      path: ['EndTimeOffset'],
    }),
  SampleSnapshot: z.object({ Definition: definition, WatermarkSet: unsupported('Watermarks') }).strict(),
  SnapshotByTimeOffset: z
    .object({
      Definition: definition,
      ExtTimeOffsetSet: z
        .array(z.string().regex(/^\d+(\.\d+)?(s|%)$/, 'each time point is like 3.5s or 10%'))
        .max(100)
        .optional(),
      TimeOffsetSet: z.array(z.number().min(0)).max(100).optional(),
      WatermarkSet: unsupported('Watermarks'),
    })
    .strict()
    .refine((t) => (t.ExtTimeOffsetSet?.length ?? 0) + (t.TimeOffsetSet?.length ?? 0) > 0, {
      message: 'give at least one time point in ExtTimeOffsetSet or TimeOffsetSet',
      path: ['ExtTimeOffsetSet'],
    }),
  ImageSprites: z.object({ Definition: definition }).strict(),
  CoverBySnapshot: z
    .object({
      Definition: definition,
      PositionType: z.enum(['Time', 'Percent']),
      PositionValue: z.number().min(0),
      WatermarkSet: unsupported('Watermarks'),
    })
    .strict()
    .refine((t) => t.PositionType !== 'Percent' || t.PositionValue <= 100, {
      message: 'a Percent position is at most 100',
      path: ['PositionValue'],
    }),
  AdaptiveDynamicStreaming: z
    .object({
      Definition: definition,
      WatermarkSet: unsupported('Watermarks'),
      TraceWatermark: unsupported('Trace watermarks'),
      CopyRightWatermark: unsupported('Copyright watermarks'),
      BlindWatermark: unsupported('Blind watermarks'),
      SubtitleSet: unsupported('Subtitles'),
      SubtitleInfoSet: unsupported('Subtitles'),
      DrmInfo: unsupported('DRM'),
    })
    .strict(),
  AnimatedGraphics: z
    .object({ Definition: definition, StartTimeOffset: offset, EndTimeOffset: offset })
    .strict()
    .refine((t) => t.EndTimeOffset > t.StartTimeOffset, {
      message: 'EndTimeOffset must be greater than StartTimeOffset',
      path: ['EndTimeOffset'],
    }),
};

/** MediaProcessTaskInput (ProcessMedia, and task-flow templates). */
export const mediaProcessTaskSchema = z
  .object(
    Object.fromEntries(
      SUBTASK_KINDS.map((k) => [
        KIND_FIELDS[k].taskSet,
        z.array(itemSchemas[k]).max(MAX_SUBTASKS).optional(),
      ]),
    ),
  )
  .strict();

export const processMediaSchema = z
  .object({
    ...common,
    FileId: z.string().min(1).max(64).optional(),
    Url: z.string().min(1).max(4096).optional(),
    MediaStoragePath: unsupported('MediaStoragePath (FileID + Path mode)'),
    MediaProcessTask: mediaProcessTaskSchema.optional(),
    AiContentReviewTask: unsupported('AI content review'),
    AiAnalysisTask: unsupported('AI analysis'),
    AiRecognitionTask: unsupported('AI recognition'),
    TasksPriority: z.number().int().min(-10).max(10).optional(),
    TasksNotifyMode: z.enum(['Finish', 'Change', 'None']).optional(),
    SessionContext: z.string().max(1000).optional(),
    SessionId: z.string().max(50).optional(),
    ExtInfo: z.string().max(1000).optional(),
    OutputAsIndependentMedia: unsupported('OutputAsIndependentMedia'),
  })
  .strict();
export type ProcessMediaParams = z.infer<typeof processMediaSchema>;

/** The template kind each subtask kind reads its Definition from. */
export const TEMPLATE_OF: Record<SubtaskKind, TemplateKind> = {
  Transcode: 'Transcode',
  SampleSnapshot: 'SampleSnapshot',
  SnapshotByTimeOffset: 'SnapshotByTimeOffset',
  ImageSprites: 'ImageSprite',
  CoverBySnapshot: 'SnapshotByTimeOffset',
  AdaptiveDynamicStreaming: 'AdaptiveDynamicStreaming',
  AnimatedGraphics: 'AnimatedGraphics',
};

export interface SubmitDeps {
  tasks: DynamoTaskStore;
  media: DynamoMediaRepository;
  catalog: TemplateCatalog;
  intake: IntakeQueue;
  urlPolicy: UrlPolicy;
  bucket: string;
  clock: Clock;
}

export function newTaskId(subAppId: number): string {
  return `${subAppId}-procedurev2-${randomBytes(16).toString('hex')}`;
}

/** Builds the subtasks of a MediaProcessTask, each with a snapshot of its template. */
export async function buildSubtasks(
  taskId: string,
  mediaProcessTask: Record<string, unknown[] | undefined>,
  catalog: TemplateCatalog,
  subAppId: number,
  fieldPrefix = 'MediaProcessTask',
): Promise<Subtask[]> {
  const subtasks: Subtask[] = [];
  for (const kind of SUBTASK_KINDS) {
    const items = mediaProcessTask[KIND_FIELDS[kind].taskSet] ?? [];
    for (const [i, raw] of items.entries()) {
      const item = raw as Record<string, unknown> & { Definition: number };
      const template = await catalog.get(TEMPLATE_OF[kind], item.Definition, subAppId);
      if (!template) {
        throw new ApiError(
          'InvalidParameterValue.Definition',
          `${fieldPrefix}.${KIND_FIELDS[kind].taskSet}.${i}.Definition: there is no ${TEMPLATE_OF[kind]} template ${item.Definition}.`,
        );
      }
      subtasks.push({
        taskId,
        index: subtasks.length,
        kind,
        status: 'WAITING',
        input: item,
        template: template as unknown as Record<string, unknown>,
        progress: 0,
        errCode: 0,
        message: '',
      });
    }
  }
  if (subtasks.length === 0) {
    throw new ApiError('InvalidParameter', `${fieldPrefix} must contain at least one task.`);
  }
  if (subtasks.length > MAX_SUBTASKS) {
    throw new ApiError(
      'InvalidParameterValue.MediaProcessTask',
      `A task flow holds at most ${MAX_SUBTASKS} subtasks.`,
    );
  }
  return subtasks;
}

/** The media a FileId names in this app, if it is usable as an input. */
export async function usableMedia(
  media: DynamoMediaRepository,
  fileId: string,
  subAppId: number,
  field = 'FileId',
): Promise<Media> {
  const m = await media.get(fileId, subAppId);
  if (!m)
    throw new ApiError(`InvalidParameterValue.${field}`, `FileId ${fileId} does not exist in this app.`);
  if (m.status === 'FAILED') {
    throw new ApiError(
      `InvalidParameterValue.${field}`,
      `FileId ${fileId} is not a usable media: ${m.failReason ?? 'it failed to register'}.`,
    );
  }
  if (m.sourceDeleted) {
    throw new ApiError(
      `InvalidParameterValue.${field}`,
      `FileId ${fileId} cannot be processed: its original file was deleted (DeleteMedia OriginalFiles).`,
    );
  }
  return m;
}

/** What a submission stores: a WAITING task with its subtasks (the one task-creation path of every submit action). */
export interface NewTask {
  taskId: string;
  subtasks: Subtask[];
  fileId: string;
  mediaName?: string;
  /** A Url submission: where to pull from, and the new media written with the task. */
  sourceUrl?: string;
  newMedia?: Media;
  taskType?: TaskType;
  priority?: number;
  notifyMode?: NotifyMode;
  sessionContext?: string;
  sessionId?: string;
  /** Internal dedupe key (refused like a SessionId within the window, never shown as the task's SessionId). */
  dedupeKey?: string;
  /** The SessionId dedupe window of the action (ProcessMedia 3 days, ProcessMediaByProcedure 7 days). */
  sessionWindowSeconds: number;
}

/** Stores a WAITING task and queues it. Answers before any media work starts. */
export async function storeTask(
  deps: Pick<SubmitDeps, 'tasks' | 'media' | 'intake' | 'clock'>,
  subAppId: number,
  t: NewTask,
): Promise<{ TaskId: string }> {
  const now = deps.clock();
  const task: Task = {
    taskId: t.taskId,
    subAppId,
    taskType: t.taskType ?? 'Procedure',
    status: 'WAITING',
    fileId: t.fileId,
    createTime: new Date(now).toISOString(),
    sessionId: t.sessionId || undefined,
    sessionContext: t.sessionContext ?? '',
    priority: t.priority ?? 0,
    notifyMode: t.notifyMode ?? 'Finish',
    subtaskCount: t.subtasks.length,
    sourceUrl: t.sourceUrl,
    mediaName: t.mediaName,
  };
  await deps.tasks.create(task, t.subtasks, {
    expiresAt: Math.floor(now / 1000) + TASK_RETENTION_SECONDS,
    session: t.sessionId
      ? { id: t.sessionId, expiresAt: Math.floor(now / 1000) + t.sessionWindowSeconds }
      : undefined,
    // The new media of a Url submission is written in the same transaction: a refused task leaves none.
    alsoPut: t.newMedia ? deps.media.putRequest(t.newMedia) : undefined,
    dedupe: t.dedupeKey
      ? { key: t.dedupeKey, expiresAt: Math.floor(now / 1000) + t.sessionWindowSeconds }
      : undefined,
    // A task on an existing media is stored only while the media is live and keeps its original file:
    // DeleteMedia (tombstone first, then its unfinished-task check) cannot pull the source from under it.
    mediaCheck: t.newMedia ? undefined : deps.media.liveCheck?.(t.fileId),
  });
  // The task is stored: answer with its TaskId even if the kick fails (the scheduled sweep starts it).
  await deps.intake.kick(subAppId).catch((e: unknown) =>
    logger.warn('intake kick failed; the sweep will start the task', {
      taskId: t.taskId,
      error: (e as Error).message,
    }),
  );
  return { TaskId: t.taskId };
}

/** ProcessMedia: validates, stores a WAITING task and queues it. Answers before any media work starts. */
export async function processMedia(
  deps: SubmitDeps,
  subAppId: number,
  raw: unknown,
): Promise<{ TaskId: string }> {
  const p = parseParams(processMediaSchema, raw);
  if (!p.FileId && !p.Url) throw new ApiError('MissingParameter', 'Give FileId (a media in OpenVOD) or Url.');
  if (p.FileId && p.Url) throw new ApiError('InvalidParameter', 'Give either FileId or Url, not both.');
  if (!p.MediaProcessTask)
    throw new ApiError('MissingParameter', 'The parameter MediaProcessTask is required.');
  const now = deps.clock();
  const createTime = isoNow(deps.clock);
  const taskId = newTaskId(subAppId);
  const subtasks = await buildSubtasks(
    taskId,
    p.MediaProcessTask as Record<string, unknown[] | undefined>,
    deps.catalog,
    subAppId,
  );

  let fileId: string;
  let newMedia: Media | undefined;
  let sourceUrl: string | undefined;
  let mediaName: string | undefined;
  if (p.FileId) {
    const media = await usableMedia(deps.media, p.FileId, subAppId);
    fileId = media.fileId;
    mediaName = media.name;
  } else {
    let url: URL;
    try {
      url = await assertFetchable(p.Url!, deps.urlPolicy);
    } catch (e) {
      if (e instanceof PermanentError) throw new ApiError('InvalidParameterValue.Url', `Url: ${e.message}.`);
      throw e;
    }
    sourceUrl = url.toString();
    fileId = newFileId(now, Math.random());
    const base = decodeURIComponent(url.pathname.split('/').pop() || 'media');
    mediaName = base.replace(/\.[^.]*$/, '') || 'media';
    const ext = /\.([A-Za-z0-9]{1,5})$/.exec(base)?.[1]?.toLowerCase() ?? 'bin';
    const media: Media = {
      fileId,
      subAppId,
      status: 'PENDING',
      name: mediaName,
      bucket: deps.bucket,
      key: `${subAppId}/${fileId}/source.${ext}`,
      sourceUrl,
      createTime,
      updateTime: createTime,
    };
    newMedia = media;
  }

  return storeTask(deps, subAppId, {
    taskId,
    subtasks,
    fileId,
    mediaName,
    sourceUrl,
    newMedia,
    sessionId: p.SessionId,
    sessionContext: p.SessionContext,
    priority: p.TasksPriority,
    notifyMode: p.TasksNotifyMode as NotifyMode | undefined,
    sessionWindowSeconds: SESSION_WINDOW_SECONDS,
  });
}

export { ErrCode };
