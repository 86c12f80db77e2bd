import type { MediaProbe } from '../media/probe';
import type { SubtaskKind } from './task';

/** A media file known to OpenVOD (FileId). The upload issue extends it (media library, outputs). */
export type MediaStatus = 'PENDING' | 'READY' | 'FAILED';

export interface Media {
  fileId: string;
  subAppId: number;
  status: MediaStatus;
  name: string;
  bucket: string;
  key: string;
  /** Where it was pulled from, when it came from a URL. */
  sourceUrl?: string;
  metaData?: MediaProbe;
  failReason?: string;
  /** Upload issue: what the upload asked for, and the task flow it started (or why it could not). */
  classId?: number;
  sourceContext?: string;
  sessionContext?: string;
  procedure?: string;
  procedureTaskId?: string;
  procedureError?: string;
  createTime: string;
  updateTime: string;
  /** Media library: the cover (CoverBySnapshot output), its finish time (a later cover replaces an earlier one). */
  coverUrl?: string;
  coverTime?: string;
  /** Media library: `<Kind>#<Definition>` of each output recorded on the media (items `OUTPUT#<FileId>#<Kind>#<Definition>`). */
  outputKeys?: Set<string>;
  /** Media library: the original file was removed by DeleteMedia (OriginalFiles): nothing can process it any more. */
  sourceDeleted?: boolean;
  /** Media library: DeleteMedia is removing this media; it no longer exists for any read. */
  deleteTime?: string;
}

/** The folder of each subtask kind's outputs under `<SubAppId>/<FileId>/` (then `<Definition>/`). */
export const OUTPUT_DIRS: Record<SubtaskKind, string> = {
  Transcode: 'transcode',
  SampleSnapshot: 'sampleSnapshot',
  SnapshotByTimeOffset: 'snapshotByTimeOffset',
  ImageSprites: 'imageSprite',
  CoverBySnapshot: 'cover',
  AdaptiveDynamicStreaming: 'adaptiveDynamicStreaming',
  AnimatedGraphics: 'animatedGraphics',
};

/** Tencent FileIds are numeric strings such as 5285485487985271487. */
export function newFileId(now: number, random: number): string {
  const base = BigInt(now) * 1000000n + BigInt(Math.floor(random * 1000000));
  return (5000000000000000000n + (base % 4000000000000000000n)).toString();
}
