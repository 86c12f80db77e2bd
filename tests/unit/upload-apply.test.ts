import type { DynamoMediaRepository } from '../../src/adapters/media-repo';
import type { DynamoUploadStore, UploadSession } from '../../src/adapters/upload-store';
import type { UploadObjects } from '../../src/adapters/upload-objects';
import type { Media } from '../../src/domain/media';
import { Logger } from '@aws-lambda-powertools/logger';
import { ApiError } from '../../src/domain/errors';
import type { ApiRequest } from '../../src/api/front-door';
import { handleClientUpload } from '../../src/services/upload-client';
import { newUploadSignature } from '../../src/services/upload-signature';
import {
  applyUpload,
  commitUpload,
  presignUploadParts,
  safeMediaName,
  type UploadApiDeps,
} from '../../src/services/upload-apply';

function fakes(now: { ms: number }) {
  const sessions = new Map<string, UploadSession>();
  const objects = new Set<string>();
  const media = new Map<string, Media>();
  const used = new Set<string>();
  const fail = { multipart: false };
  const uploads = {
    async putSession(s: UploadSession) {
      sessions.set(s.sessionKey, { ...s });
    },
    async getSession(id: string) {
      return sessions.get(id);
    },
    async commit(id: string) {
      const s = sessions.get(id);
      if (!s || s.committed) return false;
      s.committed = true;
      return true;
    },
    async useOnce(digest: string) {
      if (used.has(digest)) return false;
      used.add(digest);
      return true;
    },
    async releaseOnce(digest: string) {
      used.delete(digest);
    },
  } as unknown as DynamoUploadStore;
  const objs: UploadObjects = {
    bucket: 'media-bucket',
    presignPut: async (key, o) => ({
      url: `https://s3/${key}?put`,
      headers: { 'Content-Type': o.contentType, ...(o.tagging ? { 'x-amz-tagging': o.tagging } : {}) },
    }),
    presignMultipart: async (key, o) => {
      if (fail.multipart) throw Object.assign(new Error('S3 unavailable'), { name: 'ServiceUnavailable' });
      return {
        uploadId: 'up1',
        parts: Array.from({ length: o.parts }, (_, i) => ({
          PartNumber: i + 1,
          Url: `https://s3/${key}?part=${i + 1}`,
        })),
        completeUrl: `https://s3/${key}?complete`,
      };
    },
    presignParts: async (key, uploadId, numbers, expiresIn) => ({
      parts: numbers.map((n) => ({
        PartNumber: n,
        Url: `https://s3/${key}?uploadId=${uploadId}&part=${n}&ttl=${expiresIn}`,
      })),
      completeUrl: `https://s3/${key}?uploadId=${uploadId}&complete&ttl=${expiresIn}`,
    }),
    head: async (key) => (objects.has(key) ? { size: 1, eTag: 'e', metadata: {} } : undefined),
    tags: async () => ({}),
  };
  const repo = {
    async put(m: Media) {
      if (media.has(m.fileId))
        throw Object.assign(new Error('exists'), { name: 'ConditionalCheckFailedException' });
      media.set(m.fileId, m);
    },
  } as unknown as DynamoMediaRepository;
  const deps: UploadApiDeps = {
    uploads,
    objects: objs,
    media: repo,
    storage: { publicUrl: (k) => `https://cdn/${k}` },
    clock: () => now.ms,
    region: 'us-east-1',
  };
  return { deps, sessions, objects, media, used, fail };
}

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    if (e instanceof ApiError) return `${e.code}: ${e.message}`;
    throw e;
  }
  return 'ok';
}

describe('ApplyUpload / CommitUpload', () => {
  test('apply answers a session, a key under uploads/<SubAppId>/<VodSessionKey>/ and a presigned PUT with its headers', async () => {
    const { deps, sessions } = fakes({ ms: Date.parse('2026-01-01T00:00:00Z') });
    const a = await applyUpload(deps, 1500000001, {
      MediaType: 'MP4',
      MediaName: 'a/b',
      Procedure: 'hd',
      SessionContext: 'ctx',
    });
    expect(a).toMatchObject({
      StorageBucket: 'media-bucket',
      StorageRegion: 'us-east-1',
      MediaStoragePath: `/uploads/1500000001/${String(a.VodSessionKey)}/a_b.mp4`,
      CoverStoragePath: '',
      TempCertificate: null,
      UploadHeaders: { 'Content-Type': 'video/mp4', 'x-amz-tagging': 'procedure=hd' },
    });
    expect(sessions.get(String(a.VodSessionKey))).toMatchObject({
      procedure: 'hd',
      sessionContext: 'ctx',
      committed: false,
      origin: 'ApplyUpload',
    });
    const big = await applyUpload(deps, 1500000001, { MediaType: 'mp4', MediaSize: 100 * 1024 * 1024 });
    expect((big.UploadParts as unknown[]).length).toBe(7); // 16 MiB parts
    expect(big.UploadCompleteUrl).toContain('complete');
    expect(
      await code(applyUpload(deps, 1, { MediaType: 'mp4', ExpireTime: '2030-01-01T00:00:00Z' })),
    ).toMatch(/ExpireTime/);
    expect(await code(applyUpload(deps, 1, { MediaType: 'mp4', StorageRegion: 'ap-chongqing' }))).toMatch(
      /^InvalidParameterValue.StorageRegion/,
    );
    expect(await code(applyUpload(deps, 1, { MediaType: '../x' }))).toMatch(
      /^InvalidParameterValue.MediaType/,
    );
    expect(safeMediaName('\u0001x/y\\z')).toBe('_x_y_z');
  });

  test('commit: not uploaded yet, then FileId once; reused, foreign and expired keys are refused', async () => {
    const now = { ms: Date.parse('2026-01-01T00:00:00Z') };
    const { deps, objects, media } = fakes(now);
    const a = await applyUpload(deps, 1500000001, { MediaType: 'mp4', MediaName: 'clip' });
    const key = String(a.MediaStoragePath).slice(1);
    const VodSessionKey = String(a.VodSessionKey);
    expect(await code(commitUpload(deps, 1500000001, { VodSessionKey }))).toMatch(
      /^FailedOperation: Nothing was uploaded/,
    );
    objects.add(key);
    expect(await code(commitUpload(deps, 1500000002, { VodSessionKey }))).toMatch(
      /^InvalidParameterValue.VodSessionKey: .*does not exist/,
    );
    const c = await commitUpload(deps, 1500000001, { VodSessionKey });
    expect(c.FileId).toMatch(/^\d{19}$/);
    expect(c.MediaUrl).toBe(`https://cdn/${key}`);
    expect(media.get(String(c.FileId))).toMatchObject({ status: 'PENDING', key, name: 'clip' });
    expect(await code(commitUpload(deps, 1500000001, { VodSessionKey }))).toMatch(/already committed/);
    expect(await code(commitUpload(deps, 1500000001, { VodSessionKey: 'nope' }))).toMatch(/does not exist/);

    const b = await applyUpload(deps, 1500000001, { MediaType: 'mp4' });
    objects.add(String(b.MediaStoragePath).slice(1));
    now.ms += 25 * 3600 * 1000;
    expect(await code(commitUpload(deps, 1500000001, { VodSessionKey: String(b.VodSessionKey) }))).toMatch(
      /expired/,
    );
  });

  test('a very large multipart upload answers the first 100 part URLs; PresignUploadParts gives the others, for the app’s live session only', async () => {
    const now = { ms: Date.parse('2026-01-01T00:00:00Z') };
    const { deps } = fakes(now);
    const size = 200 * 1024 ** 3; // 200 GiB: 10,000 parts
    const a = await applyUpload(deps, 1500000001, { MediaType: 'mp4', MediaSize: size });
    const count = Number(a.UploadPartCount);
    expect(count).toBe(10000);
    expect(Number(a.UploadPartSize) * count).toBeGreaterThanOrEqual(size);
    expect((a.UploadParts as Array<{ PartNumber: number }>).map((x) => x.PartNumber)).toEqual(
      Array.from({ length: 100 }, (_, i) => i + 1),
    );
    const VodSessionKey = String(a.VodSessionKey);
    const more = await presignUploadParts(deps, 1500000001, {
      VodSessionKey,
      PartNumbers: [10000, 101, 101, 5000],
    });
    expect((more.UploadParts as Array<{ PartNumber: number; Url: string }>).map((x) => x.PartNumber)).toEqual(
      [101, 5000, 10000],
    );
    expect(more).toMatchObject({ UploadId: 'up1', UploadPartCount: 10000 });
    expect(String(more.UploadCompleteUrl)).toContain('uploadId=up1&complete');
    // Only the completion, again (presigned URLs last an hour).
    now.ms += 2 * 3600 * 1000;
    const again = await presignUploadParts(deps, 1500000001, { VodSessionKey });
    expect(again.UploadParts).toEqual([]);
    expect(again.UploadExpireTime).toBe(new Date(now.ms + 3600 * 1000).toISOString());

    expect(await code(presignUploadParts(deps, 1500000001, { VodSessionKey, PartNumbers: [10001] }))).toMatch(
      /^InvalidParameterValue.PartNumbers/,
    );
    expect(
      await code(
        presignUploadParts(deps, 1500000001, {
          VodSessionKey,
          PartNumbers: Array.from({ length: 101 }, (_, i) => i + 1),
        }),
      ),
    ).toMatch(/^InvalidParameterValue.PartNumbers/);
    expect(await code(presignUploadParts(deps, 1500000002, { VodSessionKey }))).toMatch(/does not exist/);
    const single = await applyUpload(deps, 1500000001, { MediaType: 'mp4' });
    expect(
      await code(presignUploadParts(deps, 1500000001, { VodSessionKey: String(single.VodSessionKey) })),
    ).toMatch(/not a multipart upload/);
    now.ms += 25 * 3600 * 1000;
    expect(await code(presignUploadParts(deps, 1500000001, { VodSessionKey }))).toMatch(/expired/);
  });
});

describe('client upload endpoint', () => {
  const SECRET_ID = 'AKIDclient';
  const SECRET_KEY = 'client-secret';
  const logger = new Logger({ logLevel: 'SILENT' });
  const post = (body: object): ApiRequest => ({
    method: 'POST',
    path: '/upload/apply',
    query: '',
    headers: {},
    body: Buffer.from(JSON.stringify(body)),
  });
  const answer = (r: { body?: string }) => JSON.parse(String(r.body)).Response as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

  test('a one-time signature is not used up by a refusal or by a transient failure', async () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    const { deps, used, fail } = fakes({ ms: now });
    const cd = {
      upload: deps,
      resolveKey: async (id: string) =>
        id === SECRET_ID ? { subAppId: 1500000001, secretKey: SECRET_KEY } : undefined,
      maxClockSkewSeconds: 300,
      logger,
      now: () => now,
    };
    const sign = (extra: Record<string, unknown> = {}) =>
      newUploadSignature(SECRET_ID, SECRET_KEY, { expireSeconds: 600, oneTimeValid: 1, now, ...extra });

    // Another region: refused before the signature is used.
    const wrongRegion = sign({ storageRegion: 'ap-chongqing' });
    const r1 = answer(await handleClientUpload(post({ signature: wrongRegion, mediaType: 'mp4' }), cd));
    expect(r1.Error.Code).toBe('InvalidParameterValue.StorageRegion');
    expect(used.size).toBe(0);

    // S3 fails after the signature was used: the use is taken back, so the client can retry with it.
    const sig = sign();
    fail.multipart = true;
    const r2 = await handleClientUpload(
      post({ signature: sig, mediaType: 'mp4', size: 100 * 1024 ** 2 }),
      cd,
    );
    expect(r2.statusCode).toBe(500);
    expect(used.size).toBe(0);
    fail.multipart = false;
    const r3 = answer(
      await handleClientUpload(post({ signature: sig, mediaType: 'mp4', size: 200 * 1024 ** 3 }), cd),
    );
    expect(r3.VodSessionKey).toMatch(/^[0-9a-f]{32}$/);
    expect(r3.UploadParts).toHaveLength(100);
    expect(used.size).toBe(1);
    const r4 = answer(await handleClientUpload(post({ signature: sig, mediaType: 'mp4' }), cd));
    expect(r4.Error.Code).toBe('AuthFailure.SignatureFailure');
    expect(r4.Error.Message).toMatch(/used already/);

    // More parts of that upload, with the (used) one-time signature of the same app.
    const parts = answer(
      await handleClientUpload(
        post({ signature: sig, vodSessionKey: r3.VodSessionKey, partNumbers: [101, 102] }),
        cd,
      ),
    );
    expect(parts.UploadParts.map((x: { PartNumber: number }) => x.PartNumber)).toEqual([101, 102]);
  });
});
