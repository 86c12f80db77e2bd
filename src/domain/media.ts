import type { MediaProbe } from '../media/probe';

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
  createTime: string;
  updateTime: string;
}

/** Tencent FileIds are numeric strings such as 5285485487985271487. */
export function newFileId(now: number, random: number): string {
  const base = BigInt(now) * 1000000n + BigInt(Math.floor(random * 1000000));
  return (5000000000000000000n + (base % 4000000000000000000n)).toString();
}
