import { createHash } from 'node:crypto';
import type { Logger } from '@aws-lambda-powertools/logger';
import { ApiError, classify } from '../domain/errors';
import type { Media } from '../domain/media';
import type { NotifyMode } from '../domain/task';
import type { DynamoMediaRepository } from '../adapters/media-repo';
import type { DynamoUploadStore, UploadSession } from '../adapters/upload-store';
import type { UploadObjects } from '../adapters/upload-objects';
import { probeMedia } from '../media/probe';
import { metaDataFacts } from '../media/facts';
import { isoNow, type Clock, type ObjectStorage } from './ports';
import type { StartProcedureRequest } from './procedures';

/**
 * Registers an object created under `uploads/<SubAppId>/…` as a media and starts the task flow the upload
 * names, exactly once however often and by whom it is called (S3 delivering an event twice, CommitUpload
 * racing the trigger):
 *  - the FileId is deterministic: an ApplyUpload / client-upload object uses the FileId its session assigned;
 *    any other object one derived from (bucket, key, S3 sequencer);
 *  - the media is created by a conditional put; every caller that finds it PENDING (re)probes it, which is
 *    idempotent, so a crashed first attempt is finished by the redelivery;
 *  - the flow is started with the internal dedupe key `upload-<FileId>` (not a SessionId: the task has none):
 *    the tasks table refuses a second start, so two callers racing start one flow;
 *  - the media's updates are conditional on it not being deleted: a media deleted meanwhile stops the
 *    registration (status 'ignored': no event, no flow), and its tombstone refuses a late redelivery's put.
 * The procedure comes from the upload session, else the object's tags, else its user metadata
 * (`procedure`, `sessionContext`, case-insensitive names). The body is never read here: ffprobe reads the
 * object through a presigned URL, so memory does not grow with the file.
 */
export interface UploadedObject {
  bucket: string;
  /** URL-decoded key. */
  key: string;
  size: number;
  /** Identifies this creation of the key (S3's sequencer, or the version/eTag). */
  sequencer: string;
}

/** What starting a task-flow template by name takes (src/services/procedures.ts); an upload passes a dedupeKey. */
export type { StartProcedureRequest };
export type StartProcedure = (subAppId: number, req: StartProcedureRequest) => Promise<{ taskId: string }>;

/** A NewFileUpload event (Tencent's FileUploadEvent), stored once per `eventId`. */
export interface NewFileUploadEvent {
  eventId: string;
  subAppId: number;
  fileId: string;
  content: Record<string, unknown>;
}
export type PublishNewFileUpload = (e: NewFileUploadEvent) => Promise<void>;

export interface RegistrationDeps {
  media: DynamoMediaRepository;
  storage: Pick<ObjectStorage, 'presignGet' | 'publicUrl'>;
  ffprobe: string;
  clock: Clock;
  logger: Logger;
  /** Upload sessions (ApplyUpload / client upload); absent in the oldest wiring. */
  uploads?: Pick<DynamoUploadStore, 'getSession'>;
  /** Tags and metadata of the uploaded object. */
  objects?: Pick<UploadObjects, 'tags' | 'head'>;
  startProcedure?: StartProcedure;
  publishNewFileUpload?: PublishNewFileUpload;
}

/** What the upload asks for, wherever it came from. */
export interface UploadIntent {
  fileId?: string;
  procedure?: string;
  sessionContext?: string;
  sourceContext?: string;
  classId?: number;
  taskPriority?: number;
  taskNotifyMode?: NotifyMode;
  name?: string;
  source: 'session' | 'tags' | 'metadata' | 'none';
}

export type RegistrationStatus = 'registered' | 'duplicate' | 'ignored' | 'failed';

export function parseUploadKey(key: string): { subAppId: number; name: string } | undefined {
  const m = /^uploads\/(\d+)\/(.+)$/.exec(key);
  if (!m) return undefined;
  const file = m[2].split('/').pop() ?? m[2];
  return { subAppId: Number(m[1]), name: file.replace(/\.[^.]*$/, '') || file };
}

/** The VodSessionKey in a session upload's key `uploads/<SubAppId>/<VodSessionKey>/<file>`. */
export function sessionKeyOf(key: string): string | undefined {
  return /^uploads\/\d+\/([0-9a-f]{32})\/[^/]+$/.exec(key)?.[1];
}

/** S3 event keys are URL-encoded with '+' for spaces. */
export function decodeS3Key(key: string): string {
  return decodeURIComponent(key.replace(/\+/g, ' '));
}

export function uploadFileId(obj: UploadedObject): string {
  const h = createHash('sha256').update(`${obj.bucket}\n${obj.key}\n${obj.sequencer}`).digest();
  return (5000000000000000000n + (h.readBigUInt64BE(0) % 4000000000000000000n)).toString();
}

/** The internal dedupe key an upload's task flow is started with (not its SessionId): one flow per FileId. */
export const uploadProcedureDedupeKey = (fileId: string): string => `upload-${fileId}`;
/** The NewFileUpload event of a FileId: one per media. */
export const newFileUploadEventId = (fileId: string): string =>
  createHash('sha256').update(`NewFileUpload\n${fileId}`).digest('hex').slice(0, 32);

/**
 * Reads `procedure` / `sessionContext` / `sourceContext` / `classId` from tags or user metadata (names
 * case-insensitive: S3 lower-cases metadata names). Tags win; metadata is the fallback for clients that
 * cannot tag at creation.
 */
export function intentFromAttributes(
  tags: Record<string, string>,
  metadata: Record<string, string>,
): UploadIntent {
  const lower = (r: Record<string, string>) =>
    Object.fromEntries(Object.entries(r).map(([k, v]) => [k.toLowerCase(), v]));
  const pick = (r: Record<string, string>, source: 'tags' | 'metadata'): UploadIntent | undefined => {
    const l = lower(r);
    if (!l.procedure) return undefined;
    const classId = l.classid !== undefined && /^\d+$/.test(l.classid) ? Number(l.classid) : undefined;
    return {
      procedure: l.procedure.trim(),
      sessionContext: l.sessioncontext || undefined,
      sourceContext: l.sourcecontext || undefined,
      classId,
      source,
    };
  };
  return pick(tags, 'tags') ?? pick(metadata, 'metadata') ?? { source: 'none' };
}

export function intentFromSession(s: UploadSession): UploadIntent {
  return {
    fileId: s.fileId,
    procedure: s.procedure,
    sessionContext: s.sessionContext,
    sourceContext: s.sourceContext,
    classId: s.classId,
    taskPriority: s.taskPriority,
    taskNotifyMode: s.taskNotifyMode,
    name: s.mediaName,
    source: 'session',
  };
}

/** The intent of an uploaded object: its session (if the key is a session's and the session is this app's), else tags/metadata. */
export async function resolveIntent(
  deps: Pick<RegistrationDeps, 'uploads' | 'objects' | 'logger'>,
  subAppId: number,
  key: string,
): Promise<UploadIntent> {
  const sk = sessionKeyOf(key);
  if (sk && deps.uploads) {
    const s = await deps.uploads.getSession(sk);
    if (s && s.subAppId === subAppId && s.key === key) return intentFromSession(s);
  }
  if (!deps.objects) return { source: 'none' };
  const tags = await deps.objects.tags(key);
  const l = Object.keys(tags).some((k) => k.toLowerCase() === 'procedure');
  const meta = l ? {} : ((await deps.objects.head(key))?.metadata ?? {});
  return intentFromAttributes(tags, meta);
}

export async function registerUpload(
  deps: RegistrationDeps,
  obj: UploadedObject,
  given?: UploadIntent,
): Promise<{
  fileId?: string;
  status: RegistrationStatus;
  procedureTaskId?: string;
  procedureError?: string;
}> {
  const parsed = parseUploadKey(obj.key);
  if (!parsed) {
    deps.logger.warn('upload outside uploads/<SubAppId>/ ignored', { key: obj.key });
    return { status: 'ignored' };
  }
  const intent = given ?? (await resolveIntent(deps, parsed.subAppId, obj.key));
  const fileId = intent.fileId ?? uploadFileId(obj);
  const now = isoNow(deps.clock);
  const media: Media = {
    fileId,
    subAppId: parsed.subAppId,
    status: 'PENDING',
    name: intent.name ?? parsed.name,
    bucket: obj.bucket,
    key: obj.key,
    classId: intent.classId,
    sourceContext: intent.sourceContext,
    sessionContext: intent.sessionContext,
    procedure: intent.procedure,
    createTime: now,
    updateTime: now,
  };
  let status: RegistrationStatus = 'registered';
  try {
    await deps.media.put(media);
  } catch (e) {
    if ((e as Error).name !== 'ConditionalCheckFailedException') throw e;
    status = 'duplicate';
  }
  let current = status === 'duplicate' ? await deps.media.get(fileId, parsed.subAppId) : media;
  // Deleted (its tombstone refuses the put: a late redelivery must not bring it back), or another app's
  // FileId (impossible unless forged): nothing to register.
  if (!current) return { fileId, status: 'ignored' };
  if (current.status === 'FAILED') return { fileId, status: status === 'duplicate' ? 'duplicate' : 'failed' };
  if (current.status === 'PENDING') {
    try {
      const url = await deps.storage.presignGet(obj.key, 3600);
      const probe = await probeMedia(deps.ffprobe, url, { timeoutMs: 120_000 });
      if (!(await deps.media.markReady(fileId, probe, isoNow(deps.clock)))) return deleted(deps, fileId);
      current = { ...current, status: 'READY', metaData: probe };
    } catch (e) {
      const c = classify(e);
      if (c.transient) throw e;
      if (!(await deps.media.markFailed(fileId, c.message, isoNow(deps.clock)))) {
        // READY meanwhile (a concurrent caller probed it) is fine; deleted meanwhile stops here.
        if (!(await deps.media.get(fileId, parsed.subAppId))) return deleted(deps, fileId);
      }
      deps.logger.info('upload is not a usable media', { fileId, reason: c.message });
      return { fileId, status: status === 'duplicate' ? 'duplicate' : 'failed' };
    }
  }
  const started = await ensureProcedure(deps, current, {
    procedure: current.procedure ?? intent.procedure,
    sessionContext: current.sessionContext ?? intent.sessionContext,
    taskPriority: intent.taskPriority,
    taskNotifyMode: intent.taskNotifyMode,
  });
  if (started.deleted) return deleted(deps, fileId);
  await publishNewFileUpload(deps, current, started.procedureTaskId, started.procedureError);
  const result = { procedureTaskId: started.procedureTaskId, procedureError: started.procedureError };
  deps.logger.info('upload registered', { fileId, subAppId: parsed.subAppId, status, ...result });
  return { fileId, status, ...result };
}

/** The media was deleted (DeleteMedia) while it was being registered: no event, no flow. */
function deleted(
  deps: Pick<RegistrationDeps, 'logger'>,
  fileId: string,
): { fileId: string; status: 'ignored' } {
  deps.logger.info('upload deleted while it was registered; registration stopped', { fileId });
  return { fileId, status: 'ignored' };
}

/**
 * Starts the upload's task flow once (internal dedupe key `upload-<FileId>`, never shown as the task's
 * SessionId) and records the result on the media. A procedure name that does not exist is recorded as
 * `procedureError` (and reported in NewFileUpload), never thrown away. `deleted`: the media was deleted
 * meanwhile (nothing recorded, nothing to announce).
 */
export async function ensureProcedure(
  deps: Pick<RegistrationDeps, 'media' | 'startProcedure' | 'clock' | 'logger' | 'uploads'>,
  media: Media,
  want: { procedure?: string; sessionContext?: string; taskPriority?: number; taskNotifyMode?: NotifyMode },
): Promise<{ procedureTaskId?: string; procedureError?: string; deleted?: boolean }> {
  if (!want.procedure) return {};
  if (media.procedureTaskId) return { procedureTaskId: media.procedureTaskId };
  let result: { procedureTaskId?: string; procedureError?: string };
  if (!deps.startProcedure) {
    result = {
      procedureError:
        'task flows cannot be started by uploads in this deployment (no procedure service wired)',
    };
  } else {
    try {
      const { taskId } = await deps.startProcedure(media.subAppId, {
        procedureName: want.procedure,
        fileId: media.fileId,
        sessionContext: want.sessionContext,
        dedupeKey: uploadProcedureDedupeKey(media.fileId),
        priority: want.taskPriority,
        notifyMode: want.taskNotifyMode,
      });
      result = { procedureTaskId: taskId };
    } catch (e) {
      if ((e as Error)?.name === 'DedupeConflict') {
        // Started before, by a concurrent or earlier delivery (which may have crashed before recording it):
        // that task is the upload's flow; record it on the media.
        const prev = (e as { taskId?: string }).taskId;
        if (!prev) return {};
        result = { procedureTaskId: prev };
      } else {
        if (!(e instanceof ApiError)) throw e;
        result = {
          procedureError: `the task flow ${JSON.stringify(want.procedure)} was not started: ${e.message}`,
        };
        deps.logger.warn('upload procedure not started', {
          fileId: media.fileId,
          code: e.code,
          error: e.message,
        });
      }
    }
  }
  if (!(await deps.media.setProcedureResult(media.fileId, result, isoNow(deps.clock))))
    return { ...result, deleted: true };
  return result;
}

/** Tencent's FileUploadEvent for a registered media. */
export function fileUploadEventContent(
  media: Media,
  mediaUrl: string,
  procedureTaskId?: string,
  procedureError?: string,
): Record<string, unknown> {
  const ext = /\.([^./]+)$/.exec(media.key)?.[1]?.toLowerCase() ?? '';
  return {
    FileId: media.fileId,
    MediaBasicInfo: {
      Name: media.name,
      Description: '',
      CreateTime: media.createTime,
      UpdateTime: media.updateTime,
      ExpireTime: '9999-12-31T23:59:59Z',
      ClassId: media.classId ?? 0,
      ClassName: '',
      ClassPath: '',
      CoverUrl: '',
      Type: ext,
      MediaUrl: mediaUrl,
      SourceInfo: {
        // Tencent counts pull uploads as uploads too (SearchMedia / DescribeMediaInfos answer 'Upload').
        SourceType: 'Upload',
        SourceContext: media.sourceContext ?? '',
      },
      StorageRegion: '',
      StoragePath: media.key,
      TagSet: [],
      Vid: '',
      Category: media.metaData?.video ? 'Video' : media.metaData?.audio ? 'Audio' : 'Video',
      Status: 'Normal',
      StorageClass: 'STANDARD',
    },
    ProcedureTaskId: procedureTaskId ?? '',
    ReviewAudioVideoTaskId: '',
    MetaData: media.metaData ? metaDataFacts(media.metaData) : null,
    // OpenVOD extension (Tencent's FileUploadTask has no such field): the upload's SessionContext, so it travels in every event.
    SessionContext: media.sessionContext ?? '',
    // OpenVOD extension: why the task flow the upload named did not start.
    ...(procedureError ? { ProcedureError: procedureError } : {}),
  };
}

export async function publishNewFileUpload(
  deps: Pick<RegistrationDeps, 'publishNewFileUpload' | 'storage' | 'logger'>,
  media: Media,
  procedureTaskId?: string,
  procedureError?: string,
): Promise<void> {
  if (!deps.publishNewFileUpload) return;
  await deps.publishNewFileUpload({
    eventId: newFileUploadEventId(media.fileId),
    subAppId: media.subAppId,
    fileId: media.fileId,
    content: fileUploadEventContent(
      media,
      deps.storage.publicUrl(media.key),
      procedureTaskId,
      procedureError,
    ),
  });
}
