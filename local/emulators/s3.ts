/**
 * S3 emulator: `s3rver` (files under `<dataDir>/s3`, so objects survive a restart), with its
 * object-created notifications turned into S3 event records shaped as AWS sends them.
 *
 * ## AWS SDK v3 against s3rver (checked with @aws-sdk/client-s3 3.1175)
 *
 * Since SDK 3.729 the S3 client computes a CRC32 checksum for every request that supports one
 * (`requestChecksumCalculation: 'WHEN_SUPPORTED'`). For a *stream* body (PutObject/UploadPart with a
 * Readable, e.g. `fs.createReadStream`) it then sends the body `aws-chunked` with a trailing
 * `x-amz-checksum-crc32` (`x-amz-content-sha256: STREAMING-UNSIGNED-PAYLOAD-TRAILER`). s3rver 3.7
 * does not decode aws-chunked and would STORE THE FRAMING (`d\r\n...\r\n0\r\nx-amz-checksum-crc32:...`)
 * as the object: silent corruption. Buffers/strings are sent plainly (checksum in a header, ignored).
 * Presigned PUT URLs made by such a client carry `x-amz-checksum-crc32=AAAAAA==` (the CRC32 of an
 * empty body) and `x-amz-sdk-checksum-algorithm` in the query: s3rver ignores them, real S3 rejects
 * a non-empty upload with BadDigest. `responseChecksumValidation: 'WHEN_SUPPORTED'` adds
 * `x-amz-checksum-mode: ENABLED` to GetObject (harmless here: s3rver returns no checksum).
 *
 * Therefore every S3Client talking to s3rver needs {@link localS3ClientOptions}:
 *   - `forcePathStyle: true`: s3rver's vhost routing needs `<bucket>.localhost`; path style always works;
 *   - `requestChecksumCalculation: 'WHEN_REQUIRED'`: no aws-chunked bodies, no checksum query on presigned URLs;
 *   - `responseChecksumValidation: 'WHEN_REQUIRED'`;
 *   - credentials whose access key id s3rver knows: it rejects unknown ids (InvalidAccessKeyId); it does
 *     not verify SigV4 signatures. `startS3` registers `local`/`local` next to s3rver's own `S3RVER`/`S3RVER`.
 * With those, PutObject (string, Buffer, stream), GetObject, HeadObject, lib-storage `Upload`
 * (multipart above 5 MiB), Put/GetObjectTagging and presigned PUT/GET used with plain `fetch` work.
 * As a guard, this server answers any `aws-chunked` request with 400 InvalidRequest instead of corrupting it.
 *
 * s3rver ignores `Tagging` (x-amz-tagging) on PutObject and CreateMultipartUpload: this wrapper applies it to
 * the created object before the ObjectCreated event is delivered, as S3 does. Other s3rver gaps: no
 * versioning, no ACL/policy enforcement; UploadPartCopy is NotImplemented.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { mkdirSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { S3EventRecord } from 'aws-lambda';

export const LOCAL_S3_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' } as const;

/** Spread into `new S3Client({ ...localS3ClientOptions, endpoint })`; see the file comment for why. */
export const localS3ClientOptions = {
  region: 'us-east-1',
  forcePathStyle: true,
  requestChecksumCalculation: 'WHEN_REQUIRED',
  responseChecksumValidation: 'WHEN_REQUIRED',
  credentials: LOCAL_S3_CREDENTIALS,
} as const;

export interface S3Emulator {
  endpoint: string;
  stop(): Promise<void>;
}

export interface StartS3Options {
  port: number;
  /** Objects live in `<dataDir>/s3`. */
  dataDir: string;
  /** Called once per object created (Put, Post, Copy, CompleteMultipartUpload), record shaped as AWS sends it. */
  onObjectCreated?: (record: S3EventRecord) => void;
  log?: (msg: string) => void;
}

// ---- minimal typings for the parts of s3rver used here (it ships none) ----
type RequestHandler = (req: IncomingMessage, res: ServerResponse) => void;
interface S3rverEventPayload {
  Records: RawS3rverRecord[];
}
interface RawS3rverRecord {
  eventName: string;
  eventTime: string;
  userIdentity?: { principalId: string };
  requestParameters?: { sourceIPAddress: string };
  responseElements?: Record<string, string>;
  s3: {
    bucket: { name: string; ownerIdentity?: { principalId: string } };
    object: { key: string; size?: number; eTag?: string; sequencer?: string };
  };
}
interface S3rverInstance {
  run(): Promise<{ address: string; port: number }>;
  close(): Promise<void>;
  on(event: 'event', listener: (payload: S3rverEventPayload) => void): void;
  callback(): RequestHandler;
  store: { getMetadata(bucket: string, key: string): Promise<Record<string, string | number>> };
}
type S3rverCtor = new (options: {
  port: number;
  address: string;
  silent: boolean;
  directory: string;
  vhostBuckets?: boolean;
}) => S3rverInstance;
interface AwsAccountModule {
  DUMMY_ACCOUNT: { createKeyPair(accessKeyId: string, secretAccessKey: string): void };
}

const requireCjs = createRequire(__filename);

/**
 * Encode a key as S3 does in event notifications: form-urlencoding (space → '+', UTF-8 bytes →
 * %XX upper case), '/' kept. Consumers decode with `decodeURIComponent(key.replace(/\+/g, ' '))`.
 */
export function encodeS3EventKey(key: string): string {
  return encodeURIComponent(key)
    .replace(/%2F/g, '/')
    .replace(/%20/g, '+')
    .replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** The inverse of encodeS3EventKey (as the upload trigger decodes event keys). */
export function decodeS3EventKey(key: string): string {
  return decodeURIComponent(key.replace(/\+/g, ' '));
}

let sequencerCounter = 0;
function nextSequencer(): string {
  // S3's sequencer: hex, only meaningful for ordering events on the same key. Monotonic here.
  sequencerCounter = (sequencerCounter + 1) % 0x10000;
  return (Date.now().toString(16) + sequencerCounter.toString(16).padStart(4, '0'))
    .toUpperCase()
    .padStart(16, '0');
}

function randomHex(n: number): string {
  let s = '';
  while (s.length < n) s += Math.floor(Math.random() * 16).toString(16);
  return s.toUpperCase();
}

interface RequestInfo {
  method: string;
  url: string;
  /** `x-amz-tagging` of the request (S3 applies it to the created object; s3rver ignores it). */
  tagging?: string;
}

/** s3rver's tagging subresource XML for an `x-amz-tagging` query string (k1=v1&k2=v2). */
export function taggingXml(tagging: string): string {
  const esc = (v: string) => v.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  const tags = [...new URLSearchParams(tagging)]
    .map(([k, v]) => `<Tag><Key>${esc(k)}</Key><Value>${esc(v)}</Value></Tag>`)
    .join('');
  return `<Tagging><TagSet>${tags}</TagSet></Tagging>`;
}

function isAwsChunked(req: IncomingMessage): boolean {
  const enc = String(req.headers['content-encoding'] ?? '');
  const sha = String(req.headers['x-amz-content-sha256'] ?? '');
  return enc.split(',').some((e) => e.trim() === 'aws-chunked') || sha.startsWith('STREAMING-');
}

export async function startS3(opts: StartS3Options): Promise<S3Emulator> {
  const log = opts.log ?? (() => undefined);
  const started = Date.now();
  const directory = path.resolve(opts.dataDir, 's3');
  mkdirSync(directory, { recursive: true });

  const S3rver = requireCjs('s3rver') as S3rverCtor;
  const account = requireCjs('s3rver/lib/models/account') as AwsAccountModule;
  account.DUMMY_ACCOUNT.createKeyPair(LOCAL_S3_CREDENTIALS.accessKeyId, LOCAL_S3_CREDENTIALS.secretAccessKey);

  const server = new S3rver({
    port: opts.port,
    address: '127.0.0.1',
    silent: true,
    directory,
    vhostBuckets: false,
  });

  // Remember which request emitted an event (to tell CompleteMultipartUpload from a form POST),
  // and refuse aws-chunked bodies, which s3rver would store verbatim.
  const als = new AsyncLocalStorage<RequestInfo>();
  const multipartTags = new Map<string, string>();
  const { TaggingConfiguration } = requireCjs('s3rver/lib/models/config') as {
    TaggingConfiguration: new (xml: string) => { type: string; toXML(indent?: number): string };
  };
  const store = server.store as unknown as {
    putSubresource(
      bucket: string,
      key: string,
      resource: { type: string; toXML(indent?: number): string },
    ): Promise<void>;
    deleteSubresource(bucket: string, key: string, type: string): Promise<void>;
  };
  /**
   * One spelling per key for the multipart tags, the object's real key: request paths are percent-encoded
   * (a literal '+' is a plus there), s3rver's event keys are the real key; as S3 encodes event keys
   * (encodeS3EventKey, '+' for a space) and the trigger decodes them, both sides meet in the decoded form.
   */
  const tagKey = (bucketAndKey: string) => decodeS3EventKey(encodeS3EventKey(bucketAndKey));
  const koaCallback = server.callback.bind(server);
  server.callback = (): RequestHandler => {
    const handler = koaCallback();
    return (req, res) => {
      if (isAwsChunked(req)) {
        req.resume();
        res.statusCode = 400;
        res.setHeader('content-type', 'application/xml');
        res.end(
          '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>InvalidRequest</Code><Message>' +
            'This local S3 (s3rver) cannot decode aws-chunked bodies: create the S3Client with ' +
            "requestChecksumCalculation: 'WHEN_REQUIRED' (see localS3ClientOptions in local/emulators/s3.ts)" +
            '</Message></Error>',
        );
        return;
      }
      const tagging =
        typeof req.headers['x-amz-tagging'] === 'string' ? req.headers['x-amz-tagging'] : undefined;
      // CreateMultipartUpload's tags apply to the object its completion creates: remember them until then.
      if (tagging && req.method === 'POST' && /[?&]uploads(=|&|$)/.test(req.url ?? '')) {
        multipartTags.set(
          tagKey(decodeURIComponent((req.url ?? '').split('?')[0].replace(/^\//, ''))),
          tagging,
        );
      }
      als.run({ method: req.method ?? '', url: req.url ?? '', tagging }, () => handler(req, res));
    };
  };

  const pending = new Set<Promise<void>>();
  server.on('event', (payload) => {
    const onObjectCreated = opts.onObjectCreated;
    if (!onObjectCreated) return;
    const reqInfo = als.getStore();
    for (const raw of payload.Records) {
      if (!raw.eventName.startsWith('ObjectCreated:')) continue;
      let eventName = raw.eventName;
      if (eventName === 'ObjectCreated:Post' && reqInfo && /[?&]uploadId=/.test(reqInfo.url)) {
        eventName = 'ObjectCreated:CompleteMultipartUpload';
      }
      const bucket = raw.s3.bucket.name;
      const key = raw.s3.object.key;
      const build = (eTag: string | undefined): S3EventRecord => ({
        eventVersion: '2.1',
        eventSource: 'aws:s3',
        awsRegion: 'us-east-1',
        eventTime: new Date().toISOString(),
        eventName,
        userIdentity: { principalId: raw.userIdentity?.principalId ?? `AWS:${randomHex(21)}` },
        requestParameters: { sourceIPAddress: raw.requestParameters?.sourceIPAddress ?? '127.0.0.1' },
        responseElements: {
          'x-amz-request-id': raw.responseElements?.['x-amz-request-id'] ?? randomHex(16),
          'x-amz-id-2': raw.responseElements?.['x-amz-id-2'] ?? randomHex(32),
        },
        s3: {
          s3SchemaVersion: '1.0',
          configurationId: 'local',
          bucket: {
            name: bucket,
            ownerIdentity: { principalId: raw.s3.bucket.ownerIdentity?.principalId ?? randomHex(14) },
            arn: `arn:aws:s3:::${bucket}`,
          },
          object: {
            key: encodeS3EventKey(key),
            size: Number(raw.s3.object.size ?? 0),
            eTag: eTag ?? '',
            sequencer: nextSequencer(),
          },
        },
      });
      const deliver = (record: S3EventRecord): void => {
        try {
          onObjectCreated(record);
        } catch (err) {
          log(`s3: onObjectCreated threw for s3://${bucket}/${key}: ${(err as Error).message}`);
        }
      };
      // Tags sent at creation (PutObject / CreateMultipartUpload `x-amz-tagging`) are on the object before the
      // event is delivered, as on S3.
      const tagging =
        eventName === 'ObjectCreated:Put'
          ? reqInfo?.tagging
          : eventName === 'ObjectCreated:CompleteMultipartUpload'
            ? multipartTags.get(tagKey(`${bucket}/${key}`))
            : undefined;
      if (eventName === 'ObjectCreated:CompleteMultipartUpload')
        multipartTags.delete(tagKey(`${bucket}/${key}`));
      // A new object without tags has none (s3rver keeps the tagging file of the key's previous object).
      const clearStale =
        !tagging &&
        (eventName === 'ObjectCreated:Put' || eventName === 'ObjectCreated:CompleteMultipartUpload');
      if (clearStale && raw.s3.object.eTag) {
        const eTag = raw.s3.object.eTag;
        const p = store
          .deleteSubresource(bucket, key, new TaggingConfiguration(taggingXml('')).type)
          .catch((err: unknown) => log(`s3: could not clear the tags of ${key}: ${(err as Error).message}`))
          .then(() => deliver(build(eTag)))
          .finally(() => pending.delete(p));
        pending.add(p);
      } else if (tagging && raw.s3.object.eTag) {
        const eTag = raw.s3.object.eTag;
        const p = store
          .putSubresource(bucket, key, new TaggingConfiguration(taggingXml(tagging)))
          .catch((err: unknown) =>
            log(`s3: could not apply x-amz-tagging to ${key}: ${(err as Error).message}`),
          )
          .then(() => deliver(build(eTag)))
          .finally(() => pending.delete(p));
        pending.add(p);
      } else if (raw.s3.object.eTag) {
        deliver(build(raw.s3.object.eTag));
      } else {
        // s3rver leaves eTag out of Copy events: read it from the stored metadata.
        const p = server.store
          .getMetadata(bucket, key)
          .then(
            (md) => String(md.etag ?? '').replace(/"/g, ''),
            () => undefined,
          )
          .then((eTag) => deliver(build(eTag)))
          .finally(() => pending.delete(p));
        pending.add(p);
      }
    }
  });

  await server.run();
  const endpoint = `http://127.0.0.1:${opts.port}`;
  log(`S3 (s3rver) ready on ${endpoint} in ${Date.now() - started} ms (data: ${directory})`);

  let stopping: Promise<void> | undefined;
  return {
    endpoint,
    stop(): Promise<void> {
      stopping ??= (async () => {
        await server.close();
        await Promise.all([...pending]);
        log('S3 stopped');
      })();
      return stopping;
    },
  };
}
