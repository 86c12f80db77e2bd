import type { DynamoMediaRepository } from '../../src/adapters/media-repo';
import type { DynamoUploadStore, UploadSession } from '../../src/adapters/upload-store';
import type { UploadObjects } from '../../src/adapters/upload-objects';
import type { Media } from '../../src/domain/media';
import { ApiError } from '../../src/domain/errors';
import {
  applyUpload,
  commitUpload,
  safeMediaName,
  type UploadApiDeps,
} from '../../src/services/upload-apply';

function fakes(now: { ms: number }) {
  const sessions = new Map<string, UploadSession>();
  const objects = new Set<string>();
  const media = new Map<string, Media>();
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
  } as unknown as DynamoUploadStore;
  const objs: UploadObjects = {
    bucket: 'media-bucket',
    presignPut: async (key, o) => ({
      url: `https://s3/${key}?put`,
      headers: { 'Content-Type': o.contentType, ...(o.tagging ? { 'x-amz-tagging': o.tagging } : {}) },
    }),
    presignMultipart: async (key, o) => ({
      uploadId: 'up1',
      parts: Array.from({ length: o.parts }, (_, i) => ({
        PartNumber: i + 1,
        Url: `https://s3/${key}?part=${i + 1}`,
      })),
      completeUrl: `https://s3/${key}?complete`,
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
  return { deps, sessions, objects, media };
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
});
