import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  PutObjectCommand,
  UploadPartCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';

/** What the upload paths need from the media bucket: presigned uploads, HEAD, tags. */
export interface UploadObjects {
  bucket: string;
  /** A presigned PUT; `headers` must be sent with it exactly (they are signed). */
  presignPut(
    key: string,
    opts: { contentType: string; tagging?: string; expiresIn: number },
  ): Promise<{ url: string; headers: Record<string, string> }>;
  /**
   * Starts a multipart upload (the tags apply to the completed object) and presigns its first `parts` parts
   * and its completion.
   */
  presignMultipart(
    key: string,
    opts: { contentType: string; tagging?: string; expiresIn: number; parts: number },
  ): Promise<{ uploadId: string; parts: Array<{ PartNumber: number; Url: string }>; completeUrl: string }>;
  /** Presigns (again) the given parts and the completion of a started multipart upload. */
  presignParts(
    key: string,
    uploadId: string,
    partNumbers: number[],
    expiresIn: number,
  ): Promise<{ parts: Array<{ PartNumber: number; Url: string }>; completeUrl: string }>;
  head(
    key: string,
  ): Promise<
    { size: number; eTag: string; metadata: Record<string, string>; contentType?: string } | undefined
  >;
  tags(key: string): Promise<Record<string, string>>;
}

const notFound = (e: unknown) => {
  const err = e as { name?: string; $metadata?: { httpStatusCode?: number } };
  return err?.name === 'NotFound' || err?.name === 'NoSuchKey' || err?.$metadata?.httpStatusCode === 404;
};

export class S3UploadObjects implements UploadObjects {
  constructor(
    private readonly s3: S3Client,
    readonly bucket: string,
  ) {}

  async presignPut(
    key: string,
    opts: { contentType: string; tagging?: string; expiresIn: number },
  ): Promise<{ url: string; headers: Record<string, string> }> {
    const headers: Record<string, string> = { 'Content-Type': opts.contentType };
    if (opts.tagging) headers['x-amz-tagging'] = opts.tagging;
    const url = await getSignedUrl(
      this.s3,
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: key,
        ContentType: opts.contentType,
        Tagging: opts.tagging,
      }),
      // Signed as headers, not hoisted into the query: S3 applies x-amz-tagging only from the header.
      {
        expiresIn: opts.expiresIn,
        unhoistableHeaders: new Set(['x-amz-tagging']),
        signableHeaders: new Set(['content-type']),
      },
    );
    return { url, headers };
  }

  async presignMultipart(
    key: string,
    opts: { contentType: string; tagging?: string; expiresIn: number; parts: number },
  ): Promise<{ uploadId: string; parts: Array<{ PartNumber: number; Url: string }>; completeUrl: string }> {
    const created = await this.s3.send(
      new CreateMultipartUploadCommand({
        Bucket: this.bucket,
        Key: key,
        ContentType: opts.contentType,
        Tagging: opts.tagging,
      }),
    );
    const uploadId = created.UploadId!;
    const signed = await this.presignParts(
      key,
      uploadId,
      Array.from({ length: opts.parts }, (_, i) => i + 1),
      opts.expiresIn,
    );
    return { uploadId, ...signed };
  }

  async presignParts(
    key: string,
    uploadId: string,
    partNumbers: number[],
    expiresIn: number,
  ): Promise<{ parts: Array<{ PartNumber: number; Url: string }>; completeUrl: string }> {
    const parts = await Promise.all(
      partNumbers.map(async (n) => ({
        PartNumber: n,
        Url: await getSignedUrl(
          this.s3,
          new UploadPartCommand({ Bucket: this.bucket, Key: key, UploadId: uploadId, PartNumber: n }),
          { expiresIn },
        ),
      })),
    );
    const completeUrl = await getSignedUrl(
      this.s3,
      new CompleteMultipartUploadCommand({ Bucket: this.bucket, Key: key, UploadId: uploadId }),
      { expiresIn },
    );
    return { parts, completeUrl };
  }

  async head(
    key: string,
  ): Promise<
    { size: number; eTag: string; metadata: Record<string, string>; contentType?: string } | undefined
  > {
    try {
      const h = await this.s3.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return {
        size: Number(h.ContentLength ?? 0),
        eTag: String(h.ETag ?? '').replace(/"/g, ''),
        metadata: h.Metadata ?? {},
        contentType: h.ContentType,
      };
    } catch (e) {
      if (notFound(e)) return undefined;
      throw e;
    }
  }

  async tags(key: string): Promise<Record<string, string>> {
    try {
      const out = await this.s3.send(new GetObjectTaggingCommand({ Bucket: this.bucket, Key: key }));
      return Object.fromEntries((out.TagSet ?? []).map((t) => [t.Key ?? '', t.Value ?? '']));
    } catch (e) {
      if (notFound(e)) return {};
      throw e;
    }
  }
}
