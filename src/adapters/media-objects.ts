import { DeleteObjectsCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';

/** The media library's port on the media bucket: removing what a media (or one of its outputs) stored. */
export interface MediaObjectRemover {
  /** Deletes every object whose key starts with `prefix`; returns how many were deleted. */
  deletePrefix(prefix: string): Promise<number>;
  /** Deletes these keys (missing ones are no error). */
  deleteKeys(keys: string[]): Promise<number>;
}

/** Lists a prefix page by page (1000 keys) and deletes each page with one DeleteObjects call. */
export class S3MediaObjects implements MediaObjectRemover {
  constructor(
    private readonly s3: S3Client,
    readonly bucket: string,
  ) {}

  async deletePrefix(prefix: string): Promise<number> {
    if (!prefix.endsWith('/')) throw new Error(`refusing to delete a prefix that is not a folder: ${prefix}`);
    let deleted = 0;
    let token: string | undefined;
    do {
      const page = await this.s3.send(
        new ListObjectsV2Command({
          Bucket: this.bucket,
          Prefix: prefix,
          ContinuationToken: token,
          MaxKeys: 1000,
        }),
      );
      deleted += await this.deleteKeys((page.Contents ?? []).map((o) => o.Key!).filter(Boolean));
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return deleted;
  }

  async deleteKeys(keys: string[]): Promise<number> {
    let deleted = 0;
    for (let i = 0; i < keys.length; i += 1000) {
      const batch = keys.slice(i, i + 1000);
      const out = await this.s3.send(
        new DeleteObjectsCommand({
          Bucket: this.bucket,
          Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true },
        }),
      );
      const errors = out.Errors ?? [];
      if (errors.length > 0) {
        const e = errors[0];
        throw Object.assign(new Error(`S3 could not delete ${e.Key}: ${e.Code} ${e.Message ?? ''}`.trim()), {
          name: e.Code === 'SlowDown' || e.Code === 'InternalError' ? 'ServiceUnavailable' : 'S3DeleteError',
        });
      }
      deleted += batch.length;
    }
    return deleted;
  }
}
