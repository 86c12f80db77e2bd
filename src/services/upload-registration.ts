import { createHash } from 'node:crypto';
import type { Logger } from '@aws-lambda-powertools/logger';
import { classify } from '../domain/errors';
import type { Media } from '../domain/media';
import type { DynamoMediaRepository } from '../adapters/media-repo';
import { probeMedia } from '../media/probe';
import { isoNow, type Clock, type ObjectStorage } from './ports';

/**
 * Registers an object created under `uploads/<SubAppId>/…` as a media: a FileId derived from the object
 * (bucket, key, version/sequencer), so S3 delivering the same event twice registers it once; then probes
 * it (READY) or records why it is not a media file (FAILED). Starting a task flow from the object's
 * `procedure` tag is the upload issue's work.
 */
export interface UploadedObject {
  bucket: string;
  /** URL-decoded key. */
  key: string;
  size: number;
  /** Identifies this creation of the key (S3's sequencer, or the version/eTag). */
  sequencer: string;
}

export function parseUploadKey(key: string): { subAppId: number; name: string } | undefined {
  const m = /^uploads\/(\d+)\/(.+)$/.exec(key);
  if (!m) return undefined;
  const file = m[2].split('/').pop() ?? m[2];
  return { subAppId: Number(m[1]), name: file.replace(/\.[^.]*$/, '') || file };
}

/** S3 event keys are URL-encoded with '+' for spaces. */
export function decodeS3Key(key: string): string {
  return decodeURIComponent(key.replace(/\+/g, ' '));
}

export function uploadFileId(obj: UploadedObject): string {
  const h = createHash('sha256').update(`${obj.bucket}\n${obj.key}\n${obj.sequencer}`).digest();
  return (5000000000000000000n + (h.readBigUInt64BE(0) % 4000000000000000000n)).toString();
}

export async function registerUpload(
  deps: { media: DynamoMediaRepository; storage: ObjectStorage; ffprobe: string; clock: Clock; logger: Logger },
  obj: UploadedObject,
): Promise<{ fileId?: string; status: 'registered' | 'duplicate' | 'ignored' | 'failed' }> {
  const parsed = parseUploadKey(obj.key);
  if (!parsed) {
    deps.logger.warn('upload outside uploads/<SubAppId>/ ignored', { key: obj.key });
    return { status: 'ignored' };
  }
  const fileId = uploadFileId(obj);
  const now = isoNow(deps.clock);
  const media: Media = {
    fileId,
    subAppId: parsed.subAppId,
    status: 'PENDING',
    name: parsed.name,
    bucket: obj.bucket,
    key: obj.key,
    createTime: now,
    updateTime: now,
  };
  try {
    await deps.media.put(media);
  } catch (e) {
    if ((e as Error).name === 'ConditionalCheckFailedException') return { fileId, status: 'duplicate' };
    throw e;
  }
  try {
    const url = await deps.storage.presignGet(obj.key, 3600);
    const probe = await probeMedia(deps.ffprobe, url, { timeoutMs: 120_000 });
    await deps.media.markReady(fileId, probe, isoNow(deps.clock));
    deps.logger.info('upload registered', { fileId, subAppId: parsed.subAppId });
    return { fileId, status: 'registered' };
  } catch (e) {
    const c = classify(e);
    if (c.transient) throw e;
    await deps.media.markFailed(fileId, c.message, isoNow(deps.clock));
    deps.logger.info('upload is not a usable media', { fileId, reason: c.message });
    return { fileId, status: 'failed' };
  }
}
