import { z } from 'zod';
import { ApiError, ErrCode, PermanentError } from '../domain/errors';
import { newFileId, type Media } from '../domain/media';
import { TASK_RETENTION_SECONDS, type Task } from '../domain/task';
import type { DynamoTaskStore } from '../adapters/task-store';
import type { DynamoMediaRepository } from '../adapters/media-repo';
import { assertFetchable, type UrlPolicy } from '../adapters/safe-http';
import { common, parseParams } from '../api/validation';
import { metaDataFacts } from '../media/facts';
import { isoNow, type Clock, type IntakeQueue } from './ports';
import { SESSION_WINDOW_SECONDS, newTaskId } from './submit';
import {
  ensureProcedure,
  fileUploadEventContent,
  publishNewFileUpload,
  type RegistrationDeps,
} from './upload-registration';
import { logger } from '../logger';

/**
 * PullUpload: a task of type `PullUpload` whose flow pulls the URL into a new media (the task flow's
 * IngestSource step, with the same SSRF rules as ProcessMedia's Url) and, when the media is ready, starts the
 * named task flow on it (in the flow's finalize step, before the PullUpload task is marked FINISH).
 */
const unsupported = (what: string) =>
  z
    .unknown()
    .refine(() => false, { message: `${what} is not supported by OpenVOD; remove it` })
    .optional();

export const pullUploadSchema = z
  .object({
    ...common,
    MediaUrl: z.string().min(1).max(4096),
    MediaType: z
      .string()
      .regex(/^[A-Za-z0-9]{1,10}$/, 'is a file extension such as mp4')
      .optional(),
    MediaName: z.string().min(1).max(256).optional(),
    CoverUrl: unsupported('Cover upload (CoverUrl)'),
    Procedure: z.string().min(1).max(64).optional(),
    ExpireTime: unsupported('Media expiry (ExpireTime)'),
    StorageRegion: z.string().max(64).optional(),
    ClassId: z.number().int().min(0).optional(),
    TasksPriority: z.number().int().min(-10).max(10).optional(),
    SessionContext: z.string().max(1000).optional(),
    SessionId: z.string().max(50).optional(),
    /** Reserved by Tencent for special uses; accepted and not used. */
    ExtInfo: z.string().max(1000).optional(),
    SourceContext: z.string().max(250).optional(),
    MediaStoragePath: unsupported('MediaStoragePath (FileID + Path mode)'),
  })
  .strict();

export interface PullUploadDeps {
  tasks: DynamoTaskStore;
  media: DynamoMediaRepository;
  intake: IntakeQueue;
  urlPolicy: UrlPolicy;
  bucket: string;
  region: string;
  clock: Clock;
  /** The URL a business downloads a media from. */
  publicUrl: (key: string) => string;
}

export async function pullUpload(
  deps: PullUploadDeps,
  subAppId: number,
  raw: unknown,
): Promise<{ TaskId: string }> {
  const p = parseParams(pullUploadSchema, raw);
  if (p.StorageRegion && p.StorageRegion !== deps.region) {
    throw new ApiError(
      'InvalidParameterValue.StorageRegion',
      `StorageRegion: OpenVOD stores media in ${deps.region} only.`,
    );
  }
  let url: URL;
  try {
    url = await assertFetchable(p.MediaUrl, deps.urlPolicy);
  } catch (e) {
    if (e instanceof PermanentError)
      throw new ApiError('InvalidParameterValue.MediaUrl', `MediaUrl: ${e.message}.`);
    throw e;
  }
  const now = deps.clock();
  const createTime = isoNow(deps.clock);
  const taskId = newTaskId(subAppId).replace('-procedurev2-', '-PullUpload-');
  const fileId = newFileId(now, Math.random());
  const base = decodeURIComponent(url.pathname.split('/').pop() || 'media');
  const urlExt = /\.([A-Za-z0-9]{1,10})$/.exec(base)?.[1];
  const ext = (p.MediaType ?? urlExt ?? 'bin').toLowerCase();
  const name = p.MediaName ?? (base.replace(/\.[^.]*$/, '') || 'media');
  const media: Media = {
    fileId,
    subAppId,
    status: 'PENDING',
    name,
    bucket: deps.bucket,
    key: `${subAppId}/${fileId}/source.${ext}`,
    sourceUrl: url.toString(),
    classId: p.ClassId,
    sourceContext: p.SourceContext,
    sessionContext: p.SessionContext,
    procedure: p.Procedure,
    createTime,
    updateTime: createTime,
  };
  const task: Task = {
    taskId,
    subAppId,
    taskType: 'PullUpload',
    status: 'WAITING',
    fileId,
    createTime,
    sessionId: p.SessionId || undefined,
    sessionContext: p.SessionContext ?? '',
    priority: p.TasksPriority ?? 0,
    notifyMode: 'Finish',
    subtaskCount: 0,
    sourceUrl: url.toString(),
    mediaName: name,
    mediaUrl: deps.publicUrl(media.key),
  };
  await deps.tasks.create(task, [], {
    expiresAt: Math.floor(now / 1000) + TASK_RETENTION_SECONDS,
    session: p.SessionId
      ? { id: p.SessionId, expiresAt: Math.floor(now / 1000) + SESSION_WINDOW_SECONDS }
      : undefined,
    alsoPut: deps.media.putRequest(media),
  });
  await deps.intake.kick(subAppId).catch((e: unknown) =>
    logger.warn('intake kick failed; the sweep will start the task', {
      taskId,
      error: (e as Error).message,
    }),
  );
  return { TaskId: taskId };
}

/**
 * The flow's finalize hook for a PullUpload task: once the pulled media is READY, start its task flow (once:
 * internal dedupe key `upload-<FileId>`) and announce NewFileUpload (not for a media deleted meanwhile). Idempotent, so a retried finalize repeats nothing.
 */
export async function finishPullUpload(deps: RegistrationDeps, task: Task): Promise<void> {
  if (task.taskType !== 'PullUpload' || !task.fileId) return;
  const media = await deps.media.get(task.fileId, task.subAppId);
  if (!media || media.status !== 'READY') return;
  const r = await ensureProcedure(deps, media, {
    procedure: media.procedure,
    sessionContext: media.sessionContext,
    taskPriority: task.priority,
  });
  if (r.deleted) return;
  await publishNewFileUpload(deps, media, r.procedureTaskId, r.procedureError);
}

/** DescribeTaskDetail's PullUploadTask. */
export async function pullUploadTaskView(
  media: DynamoMediaRepository,
  task: Task,
): Promise<Record<string, unknown>> {
  const m = task.fileId ? await media.get(task.fileId, task.subAppId) : undefined;
  const failed = m?.status === 'FAILED';
  const finished = task.status === 'FINISH';
  const content = m ? fileUploadEventContent(m, task.mediaUrl ?? '') : undefined;
  return {
    TaskId: task.taskId,
    Status: task.status,
    ErrCode: failed ? ErrCode.BadSource : 0,
    Message: failed
      ? `the source could not be pulled: ${m?.failReason ?? 'unknown reason'}`
      : finished
        ? 'SUCCESS'
        : '',
    FileId: m && !failed ? m.fileId : '',
    MediaBasicInfo: m && !failed ? content?.MediaBasicInfo : null,
    MetaData: m?.metaData ? metaDataFacts(m.metaData) : null,
    FileUrl: m && !failed ? (task.mediaUrl ?? '') : '',
    ProcedureTaskId: m?.procedureTaskId ?? '',
    ReviewAudioVideoTaskId: '',
    SessionContext: task.sessionContext ?? '',
    SessionId: task.sessionId ?? '',
    Progress: finished ? 100 : m?.status === 'READY' ? 90 : 0,
    // OpenVOD extension: why the named task flow did not start.
    ...(m?.procedureError ? { ProcedureError: m.procedureError } : {}),
  };
}
