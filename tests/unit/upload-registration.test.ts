import { Logger } from '@aws-lambda-powertools/logger';
import type { DynamoMediaRepository } from '../../src/adapters/media-repo';
import type { Media } from '../../src/domain/media';
import { decodeS3Key, parseUploadKey, registerUpload, uploadFileId } from '../../src/services/upload-registration';
import type { ObjectStorage } from '../../src/services/ports';

/** An in-memory media repository with DynamoDB's conditional-put behaviour. */
function fakeMedia() {
  const items = new Map<string, Media>();
  const repo = {
    async put(m: Media) {
      if (items.has(m.fileId)) throw Object.assign(new Error('exists'), { name: 'ConditionalCheckFailedException' });
      items.set(m.fileId, { ...m });
    },
    async markReady(fileId: string) {
      items.get(fileId)!.status = 'READY';
    },
    async markFailed(fileId: string, reason: string) {
      Object.assign(items.get(fileId)!, { status: 'FAILED', failReason: reason });
    },
  };
  return { items, repo: repo as unknown as DynamoMediaRepository };
}

const storage = { presignGet: async () => '/nonexistent/input.mp4' } as unknown as ObjectStorage;
const logger = new Logger({ logLevel: 'SILENT' });

describe('upload registration', () => {
  test('keys are decoded as S3 sends them and parsed into app and name', () => {
    expect(decodeS3Key('uploads/1500000001/holiday+clip+%C3%A9.MP4')).toBe('uploads/1500000001/holiday clip é.MP4');
    expect(parseUploadKey('uploads/1500000001/a/b/holiday clip é.MP4')).toEqual({ subAppId: 1500000001, name: 'holiday clip é' });
    expect(parseUploadKey('elsewhere/1500000001/x.mp4')).toBeUndefined();
    expect(parseUploadKey('uploads/abc/x.mp4')).toBeUndefined();
  });

  test('the FileId is derived from the object creation: same event → same FileId, new upload → new FileId', () => {
    const o = { bucket: 'b', key: 'uploads/1/x.mp4', size: 1, sequencer: '0055AED6DCD90281E5' };
    expect(uploadFileId(o)).toBe(uploadFileId({ ...o }));
    expect(uploadFileId(o)).not.toBe(uploadFileId({ ...o, sequencer: '0055AED6DCD90281E6' }));
    expect(uploadFileId(o)).toMatch(/^\d{19}$/);
  });

  test('a redelivered event registers nothing twice; an unreadable file is recorded FAILED with its reason', async () => {
    const { items, repo } = fakeMedia();
    const deps = { media: repo, storage, ffprobe: 'ffprobe', clock: () => 0, logger };
    const obj = { bucket: 'b', key: 'uploads/1500000001/x.mp4', size: 10, sequencer: '01' };
    const first = await registerUpload(deps, obj);
    const again = await registerUpload(deps, obj);
    expect(first.status).toBe('failed');
    expect(again).toEqual({ fileId: first.fileId, status: 'duplicate' });
    expect(items.size).toBe(1);
    expect(items.get(first.fileId!)).toMatchObject({ status: 'FAILED', subAppId: 1500000001 });
    expect(items.get(first.fileId!)?.failReason).toMatch(/./);
    expect(await registerUpload(deps, { ...obj, key: 'other/x.mp4' })).toEqual({ status: 'ignored' });
  });
});
