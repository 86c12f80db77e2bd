import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { ApiError } from '../domain/errors';
import { newFileId, type Media } from '../domain/media';
import type { DynamoMediaRepository } from '../adapters/media-repo';
import type { DynamoUploadStore, UploadSession } from '../adapters/upload-store';
import type { UploadObjects } from '../adapters/upload-objects';
import { common, parseParams } from '../api/validation';
import { isoNow, type Clock, type ObjectStorage } from './ports';
import type { VerifiedUploadSignature } from './upload-signature';

/**
 * Server upload (ApplyUpload → upload → CommitUpload) and signed client upload, on S3. ApplyUpload opens an
 * upload session (VodSessionKey) with a FileId assigned up front and answers a presigned upload to
 * `uploads/<SubAppId>/<VodSessionKey>/<MediaName>.<MediaType>`; the S3 trigger registers the object under
 * that FileId and starts the session's task flow; CommitUpload confirms the session and answers the FileId.
 */
export interface UploadApiDeps {
  uploads: DynamoUploadStore;
  objects: UploadObjects;
  media: DynamoMediaRepository;
  storage: Pick<ObjectStorage, 'publicUrl'>;
  clock: Clock;
  region: string;
  /** How long presigned upload URLs stay valid (s). */
  presignSeconds?: number;
  /** How long a session may be committed after ApplyUpload (s). */
  sessionSeconds?: number;
  /** Uploads of at least this many bytes (OpenVOD's `MediaSize`) are answered as multipart. */
  multipartThreshold?: number;
  partSize?: number;
}

export const UPLOAD_DEFAULTS = {
  presignSeconds: 3600,
  sessionSeconds: 24 * 3600,
  multipartThreshold: 64 * 1024 * 1024,
  partSize: 16 * 1024 * 1024,
  /** At most this many part URLs in one answer (10,000 would not fit a Lambda response); PresignUploadParts gives the others. */
  partsPerAnswer: 100,
  maxSize: 5 * 1024 ** 4,
};

const CONTENT_TYPES: Record<string, string> = {
  mp4: 'video/mp4',
  m4v: 'video/mp4',
  mov: 'video/quicktime',
  flv: 'video/x-flv',
  webm: 'video/webm',
  mkv: 'video/x-matroska',
  avi: 'video/x-msvideo',
  wmv: 'video/x-ms-wmv',
  ts: 'video/mp2t',
  m3u8: 'application/vnd.apple.mpegurl',
  mpg: 'video/mpeg',
  mpeg: 'video/mpeg',
  '3gp': 'video/3gpp',
  mp3: 'audio/mpeg',
  m4a: 'audio/mp4',
  aac: 'audio/aac',
  wav: 'audio/wav',
  flac: 'audio/flac',
  ogg: 'audio/ogg',
  opus: 'audio/opus',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  png: 'image/png',
  gif: 'image/gif',
  webp: 'image/webp',
};
export const contentTypeOf = (mediaType: string): string =>
  CONTENT_TYPES[mediaType.toLowerCase()] ?? 'application/octet-stream';

const unsupported = (what: string) =>
  z
    .unknown()
    .refine(() => false, { message: `${what} is not supported by OpenVOD; remove it` })
    .optional();
const mediaType = z.string().regex(/^[A-Za-z0-9]{1,10}$/, 'is a file extension such as mp4');
const mediaName = z.string().min(1).max(256);
const mediaSize = z.number().int().min(0).max(UPLOAD_DEFAULTS.maxSize);
/** A multipart upload's part size in bytes: S3's 5 MiB to 5 GiB. */
const partSize = z
  .number()
  .int()
  .min(5 * 1024 * 1024)
  .max(5 * 1024 ** 3);

export const applyUploadSchema = z
  .object({
    ...common,
    MediaType: mediaType,
    MediaName: mediaName.optional(),
    CoverType: unsupported('Cover upload (CoverType)'),
    Procedure: z.string().min(1).max(64).optional(),
    ExpireTime: unsupported('Media expiry (ExpireTime)'),
    StorageRegion: z.string().max(64).optional(),
    ClassId: z.number().int().min(0).optional(),
    SourceContext: z.string().max(250).optional(),
    SessionContext: z.string().max(1000).optional(),
    /** Reserved by Tencent for special uses; accepted and not used. */
    ExtInfo: z.string().max(1000).optional(),
    MediaStoragePath: unsupported('MediaStoragePath (FileID + Path mode)'),
    /** OpenVOD extension: the size of the file in bytes; large files are answered as a multipart upload. */
    MediaSize: mediaSize.optional(),
    /** OpenVOD extension: ask for a multipart upload with parts of this size (bytes, 5 MiB to 5 GiB; needs MediaSize). */
    UploadPartSize: partSize.optional(),
  })
  .strict()
  .refine((p) => p.UploadPartSize === undefined || p.MediaSize !== undefined, {
    message: 'give MediaSize with UploadPartSize',
    path: ['UploadPartSize'],
  });

/** The app's upload session of this key; refused when there is none (or it is another app's). */
async function appSession(
  deps: Pick<UploadApiDeps, 'uploads'>,
  subAppId: number,
  sessionKey: string,
): Promise<UploadSession> {
  const s = await deps.uploads.getSession(sessionKey);
  if (!s || s.subAppId !== subAppId) {
    throw new ApiError(
      'InvalidParameterValue.VodSessionKey',
      `VodSessionKey ${sessionKey} does not exist in this app.`,
    );
  }
  return s;
}

export const commitUploadSchema = z.object({ ...common, VodSessionKey: z.string().min(1).max(256) }).strict();

/** A file name safe as one key segment. */
export function safeMediaName(name: string | undefined): string {
  const n = [...(name ?? '')]
    .map((ch) => (ch.charCodeAt(0) < 0x20 || ch === '\u007f' || ch === '/' || ch === '\\' ? '_' : ch))
    .join('')
    .trim();
  return n || 'untitled';
}

/** Tags must be S3-safe (letters, digits, spaces and + - = . _ : / @); values that are not are left to the session. */
function taggingFor(procedure: string | undefined): string | undefined {
  if (!procedure || !/^[\w +\-=.:/@]{1,256}$/.test(procedure)) return undefined;
  return new URLSearchParams({ procedure }).toString();
}

export interface OpenSessionRequest {
  mediaName?: string;
  mediaType: string;
  mediaSize?: number;
  /** Multipart with this part size, whatever the size. */
  partSize?: number;
  procedure?: string;
  sessionContext?: string;
  sourceContext?: string;
  classId?: number;
  taskPriority?: number;
  taskNotifyMode?: UploadSession['taskNotifyMode'];
  origin: UploadSession['origin'];
}

export interface OpenedSession {
  session: UploadSession;
  /** Single PUT. */
  uploadUrl?: string;
  uploadHeaders: Record<string, string>;
  /** Multipart. */
  multipart?: {
    uploadId: string;
    partSize: number;
    partCount: number;
    parts: Array<{ PartNumber: number; Url: string }>;
    completeUrl: string;
  };
  expiresAt: string;
}

export async function openUploadSession(
  deps: UploadApiDeps,
  subAppId: number,
  req: OpenSessionRequest,
): Promise<OpenedSession> {
  const o = {
    ...UPLOAD_DEFAULTS,
    ...Object.fromEntries(Object.entries(deps).filter(([, v]) => v !== undefined)),
  } as typeof UPLOAD_DEFAULTS & UploadApiDeps;
  const now = deps.clock();
  const sessionKey = randomBytes(16).toString('hex');
  const name = safeMediaName(req.mediaName);
  const type = req.mediaType.toLowerCase();
  const key = `uploads/${subAppId}/${sessionKey}/${name}.${type}`;
  const contentType = contentTypeOf(type);
  const tagging = taggingFor(req.procedure);
  const session: UploadSession = {
    sessionKey,
    subAppId,
    key,
    fileId: newFileId(now, Math.random()),
    mediaName: req.mediaName ?? name,
    mediaType: type,
    procedure: req.procedure,
    sessionContext: req.sessionContext,
    sourceContext: req.sourceContext,
    classId: req.classId,
    taskPriority: req.taskPriority,
    taskNotifyMode: req.taskNotifyMode,
    origin: req.origin,
    createTime: isoNow(deps.clock),
    validUntil: Math.floor(now / 1000) + o.sessionSeconds,
    committed: false,
  };
  const expiresAt = new Date(now + o.presignSeconds * 1000).toISOString();
  if (req.mediaSize !== undefined && (req.partSize !== undefined || req.mediaSize >= o.multipartThreshold)) {
    const partSize = Math.max(req.partSize ?? o.partSize, Math.ceil(req.mediaSize / 10000));
    const parts = Math.max(1, Math.ceil(req.mediaSize / partSize));
    const mp = await deps.objects.presignMultipart(key, {
      contentType,
      tagging,
      expiresIn: o.presignSeconds,
      parts: Math.min(parts, o.partsPerAnswer),
    });
    session.uploadId = mp.uploadId;
    session.partCount = parts;
    session.partSize = partSize;
    await deps.uploads.putSession(session, 7 * 24 * 3600);
    return {
      session,
      uploadHeaders: {},
      multipart: {
        uploadId: mp.uploadId,
        partSize,
        partCount: parts,
        parts: mp.parts,
        completeUrl: mp.completeUrl,
      },
      expiresAt,
    };
  }
  const put = await deps.objects.presignPut(key, { contentType, tagging, expiresIn: o.presignSeconds });
  await deps.uploads.putSession(session, 7 * 24 * 3600);
  return { session, uploadUrl: put.url, uploadHeaders: put.headers, expiresAt };
}

/** The OpenVOD extension fields of an upload answer (ApplyUpload and the client upload endpoint). */
export function uploadExtensionFields(s: OpenedSession): Record<string, unknown> {
  return {
    UploadUrl: s.uploadUrl ?? '',
    UploadHeaders: s.uploadHeaders,
    UploadExpireTime: s.expiresAt,
    ...(s.multipart
      ? {
          UploadId: s.multipart.uploadId,
          UploadPartSize: s.multipart.partSize,
          UploadPartCount: s.multipart.partCount,
          UploadParts: s.multipart.parts,
          UploadCompleteUrl: s.multipart.completeUrl,
        }
      : {}),
  };
}

export async function applyUpload(
  deps: UploadApiDeps,
  subAppId: number,
  raw: unknown,
): Promise<Record<string, unknown>> {
  const p = parseParams(applyUploadSchema, raw);
  if (p.StorageRegion && p.StorageRegion !== deps.region) {
    throw new ApiError(
      'InvalidParameterValue.StorageRegion',
      `StorageRegion: OpenVOD stores media in ${deps.region} only; leave StorageRegion out or give ${deps.region}.`,
    );
  }
  const s = await openUploadSession(deps, subAppId, {
    mediaName: p.MediaName,
    mediaType: p.MediaType,
    mediaSize: p.MediaSize,
    partSize: p.UploadPartSize,
    procedure: p.Procedure,
    sessionContext: p.SessionContext,
    sourceContext: p.SourceContext,
    classId: p.ClassId,
    origin: 'ApplyUpload',
  });
  return {
    StorageBucket: deps.objects.bucket,
    StorageRegion: deps.region,
    VodSessionKey: s.session.sessionKey,
    MediaStoragePath: `/${s.session.key}`,
    CoverStoragePath: '',
    TempCertificate: null,
    ...uploadExtensionFields(s),
  };
}

/**
 * CommitUpload: the session must be this app's, unexpired and not committed before, and the object must
 * exist. The media is created under the session's FileId if the trigger has not done it yet; the trigger
 * (which always runs for the object) probes it and starts the task flow — the flow starts once either way.
 */
export async function commitUpload(
  deps: UploadApiDeps,
  subAppId: number,
  raw: unknown,
): Promise<Record<string, unknown>> {
  const p = parseParams(commitUploadSchema, raw);
  const s = await appSession(deps, subAppId, p.VodSessionKey);
  const nowMs = deps.clock();
  if (s.committed) {
    throw new ApiError(
      'InvalidParameterValue.VodSessionKey',
      `VodSessionKey ${p.VodSessionKey} was already committed (FileId ${s.fileId}); a session key can be committed once.`,
    );
  }
  if (s.validUntil < Math.floor(nowMs / 1000)) {
    throw new ApiError(
      'InvalidParameterValue.VodSessionKey',
      `VodSessionKey ${p.VodSessionKey} expired at ${new Date(s.validUntil * 1000).toISOString()}; call ApplyUpload again.`,
    );
  }
  const head = await deps.objects.head(s.key);
  if (!head) {
    throw new ApiError(
      'FailedOperation',
      s.uploadId
        ? 'The multipart upload is not complete: upload every part, then POST the completion to UploadCompleteUrl, then CommitUpload.'
        : 'Nothing was uploaded for this VodSessionKey yet: PUT the file to UploadUrl first, then CommitUpload.',
    );
  }
  if (!(await deps.uploads.commit(s.sessionKey, isoNow(deps.clock)))) {
    throw new ApiError(
      'InvalidParameterValue.VodSessionKey',
      `VodSessionKey ${p.VodSessionKey} was already committed (FileId ${s.fileId}); a session key can be committed once.`,
    );
  }
  const now = isoNow(deps.clock);
  const media: Media = {
    fileId: s.fileId,
    subAppId,
    status: 'PENDING',
    name: s.mediaName,
    bucket: deps.objects.bucket,
    key: s.key,
    classId: s.classId,
    sourceContext: s.sourceContext,
    sessionContext: s.sessionContext,
    procedure: s.procedure,
    createTime: now,
    updateTime: now,
  };
  await deps.media.put(media).catch((e: unknown) => {
    if ((e as Error).name !== 'ConditionalCheckFailedException') throw e;
  });
  return { FileId: s.fileId, MediaUrl: deps.storage.publicUrl(s.key), CoverUrl: '' };
}

export const presignUploadPartsSchema = z
  .object({
    ...common,
    VodSessionKey: z.string().min(1).max(256),
    /** The parts to presign (at most 100 a call); none: only the completion. */
    PartNumbers: z.array(z.number().int().min(1).max(10000)).max(100).optional(),
  })
  .strict();

/**
 * PresignUploadParts (OpenVOD extension): presigns more parts of a multipart ApplyUpload / client upload
 * (an answer holds the first 100) and the completion again (presigned URLs last `presignSeconds`). Only for
 * the app's own session, while it is valid and not committed.
 */
export async function presignUploadParts(
  deps: UploadApiDeps,
  subAppId: number,
  raw: unknown,
): Promise<Record<string, unknown>> {
  const p = parseParams(presignUploadPartsSchema, raw);
  const s = await appSession(deps, subAppId, p.VodSessionKey);
  if (!s.uploadId || !s.partCount) {
    throw new ApiError(
      'InvalidParameterValue.VodSessionKey',
      `VodSessionKey ${p.VodSessionKey} is not a multipart upload: PUT the file to its UploadUrl.`,
    );
  }
  const nowMs = deps.clock();
  if (s.committed || s.validUntil < Math.floor(nowMs / 1000)) {
    throw new ApiError(
      'InvalidParameterValue.VodSessionKey',
      `VodSessionKey ${p.VodSessionKey} was already committed or has expired; call ApplyUpload again.`,
    );
  }
  const numbers = [...new Set(p.PartNumbers ?? [])].sort((a, b) => a - b);
  const over = numbers.find((n) => n > s.partCount!);
  if (over !== undefined) {
    throw new ApiError(
      'InvalidParameterValue.PartNumbers',
      `PartNumbers: part ${over} does not exist; this upload has parts 1 to ${s.partCount}.`,
    );
  }
  const expiresIn = deps.presignSeconds ?? UPLOAD_DEFAULTS.presignSeconds;
  const signed = await deps.objects.presignParts(s.key, s.uploadId, numbers, expiresIn);
  return {
    UploadId: s.uploadId,
    UploadPartSize: s.partSize ?? 0,
    UploadPartCount: s.partCount,
    UploadParts: signed.parts,
    UploadCompleteUrl: signed.completeUrl,
    UploadExpireTime: new Date(nowMs + expiresIn * 1000).toISOString(),
  };
}

/** The signed client upload: the signature was verified (and, if one-time, consumed) by the caller. */
export const clientApplySchema = z
  .object({
    signature: z.string().min(1).max(4096),
    mediaName: mediaName.optional(),
    mediaType: mediaType,
    size: mediaSize.optional(),
    partSize: partSize.optional(),
  })
  .strict()
  .refine((p) => p.partSize === undefined || p.size !== undefined, {
    message: 'give size with partSize',
    path: ['partSize'],
  });

/** What clientApply refuses before any work (so a one-time signature is not used up by a refusal). */
export function checkClientApply(deps: Pick<UploadApiDeps, 'region'>, sig: VerifiedUploadSignature): void {
  if (sig.params.storageRegion && sig.params.storageRegion !== deps.region) {
    throw new ApiError(
      'InvalidParameterValue.StorageRegion',
      `storageRegion: OpenVOD stores media in ${deps.region} only.`,
    );
  }
}

export async function clientApply(
  deps: UploadApiDeps,
  sig: VerifiedUploadSignature,
  p: z.infer<typeof clientApplySchema>,
): Promise<Record<string, unknown>> {
  checkClientApply(deps, sig);
  const s = await openUploadSession(deps, sig.subAppId, {
    mediaName: p.mediaName,
    mediaType: p.mediaType,
    mediaSize: p.size,
    partSize: p.partSize,
    procedure: sig.params.procedure,
    sessionContext: sig.params.sessionContext,
    sourceContext: sig.params.sourceContext,
    classId: sig.params.classId,
    taskPriority: sig.params.taskPriority,
    taskNotifyMode: sig.params.taskNotifyMode,
    origin: 'ClientUpload',
  });
  return {
    SubAppId: sig.subAppId,
    VodSessionKey: s.session.sessionKey,
    FileId: s.session.fileId,
    MediaStoragePath: `/${s.session.key}`,
    MediaUrl: deps.storage.publicUrl(s.session.key),
    ...uploadExtensionFields(s),
  };
}
