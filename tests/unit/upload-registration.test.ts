import path from 'node:path';
import { Logger } from '@aws-lambda-powertools/logger';
import type { DynamoMediaRepository } from '../../src/adapters/media-repo';
import type { Media } from '../../src/domain/media';
import { ApiError } from '../../src/domain/errors';
import { resolveFfmpeg } from '../../src/media/ffmpeg-path';
import {
  decodeS3Key,
  fileUploadEventContent,
  intentFromAttributes,
  newFileUploadEventId,
  parseUploadKey,
  registerUpload,
  resolveIntent,
  sessionKeyOf,
  uploadFileId,
  type NewFileUploadEvent,
  type RegistrationDeps,
  type StartProcedureRequest,
} from '../../src/services/upload-registration';
import type { UploadSession } from '../../src/adapters/upload-store';
import { DedupeConflict } from '../../src/adapters/task-store';

const REAL = path.resolve(__dirname, '../../../shared/media/real-footage-320x192-5994.mp4');
const NOT_MEDIA = __filename;

/** An in-memory media repository with DynamoDB's conditional writes (a tombstoned media takes no update). */
function fakeMedia() {
  const items = new Map<string, Media>();
  const live = (fileId: string) => {
    const m = items.get(fileId);
    return m && !m.deleteTime ? m : undefined;
  };
  let failNextProcedureResult = false;
  const repo = {
    async put(m: Media) {
      if (items.has(m.fileId))
        throw Object.assign(new Error('exists'), { name: 'ConditionalCheckFailedException' });
      items.set(m.fileId, { ...m });
    },
    async get(fileId: string, subAppId: number) {
      const m = live(fileId);
      return m && m.subAppId === subAppId ? { ...m } : undefined;
    },
    async markReady(fileId: string) {
      const m = live(fileId);
      if (m) m.status = 'READY';
      return Boolean(m);
    },
    async markFailed(fileId: string, reason: string) {
      const m = live(fileId);
      if (!m || m.status === 'READY') return false;
      Object.assign(m, { status: 'FAILED', failReason: reason });
      return true;
    },
    async setProcedureResult(fileId: string, r: { procedureTaskId?: string; procedureError?: string }) {
      if (failNextProcedureResult) {
        failNextProcedureResult = false;
        throw new Error('crashed before the result was recorded');
      }
      const m = live(fileId);
      if (m) Object.assign(m, r);
      return Boolean(m);
    },
  };
  return {
    items,
    repo: repo as unknown as DynamoMediaRepository,
    crashNextProcedureResult: () => (failNextProcedureResult = true),
  };
}

/** startProcedure with the tasks table's dedupe (SessionId and internal dedupe key), and a set of existing procedures. */
function fakeProcedures(existing: string[]) {
  const sessions = new Map<string, string>();
  const started: StartProcedureRequest[] = [];
  let n = 0;
  const start = async (_subAppId: number, req: StartProcedureRequest) => {
    await new Promise((r) => setTimeout(r, 5));
    if (!existing.includes(req.procedureName)) {
      throw new ApiError(
        'InvalidParameterValue.ProcedureName',
        `There is no task-flow template named ${req.procedureName}.`,
      );
    }
    const prev = req.sessionId && sessions.get(req.sessionId);
    if (prev)
      throw new ApiError(
        'InvalidParameterValue.SessionId',
        `SessionId ${req.sessionId} was already used by task ${prev}; requests with the same SessionId are refused within the dedupe window.`,
      );
    const dup = req.dedupeKey && sessions.get(`dedupe:${req.dedupeKey}`);
    if (dup) throw new DedupeConflict(req.dedupeKey!, dup);
    const taskId = `1500000001-procedurev2-${++n}`;
    if (req.sessionId) sessions.set(req.sessionId, taskId);
    if (req.dedupeKey) sessions.set(`dedupe:${req.dedupeKey}`, taskId);
    started.push(req);
    return { taskId };
  };
  return { start, started };
}

const logger = new Logger({ logLevel: 'SILENT' });
const ffprobe = resolveFfmpeg(process.env).ffprobe;

function deps(file: string, extra: Partial<RegistrationDeps> = {}) {
  const media = fakeMedia();
  const events: NewFileUploadEvent[] = [];
  const d: RegistrationDeps = {
    media: media.repo,
    storage: { presignGet: async () => file, publicUrl: (k) => `http://media/${k}` },
    ffprobe,
    clock: () => 0,
    logger,
    publishNewFileUpload: async (e) => {
      events.push(e);
    },
    ...extra,
  };
  return { d, media, events };
}

describe('upload registration', () => {
  test('keys are decoded as S3 sends them and parsed into app and name', () => {
    expect(decodeS3Key('uploads/1500000001/holiday+clip+%C3%A9.MP4')).toBe(
      'uploads/1500000001/holiday clip é.MP4',
    );
    expect(parseUploadKey('uploads/1500000001/a/b/holiday clip é.MP4')).toEqual({
      subAppId: 1500000001,
      name: 'holiday clip é',
    });
    expect(parseUploadKey('elsewhere/1500000001/x.mp4')).toBeUndefined();
    expect(parseUploadKey('uploads/abc/x.mp4')).toBeUndefined();
    expect(sessionKeyOf('uploads/1/0123456789abcdef0123456789abcdef/a b.mp4')).toBe(
      '0123456789abcdef0123456789abcdef',
    );
    expect(sessionKeyOf('uploads/1/a/b.mp4')).toBeUndefined();
  });

  test('the FileId is derived from the object creation: same event → same FileId, new upload → new FileId', () => {
    const o = { bucket: 'b', key: 'uploads/1/x.mp4', size: 1, sequencer: '0055AED6DCD90281E5' };
    expect(uploadFileId(o)).toBe(uploadFileId({ ...o }));
    expect(uploadFileId(o)).not.toBe(uploadFileId({ ...o, sequencer: '0055AED6DCD90281E6' }));
    expect(uploadFileId(o)).toMatch(/^\d{19}$/);
  });

  test('procedure from tags first, else user metadata; names case-insensitive', () => {
    expect(
      intentFromAttributes({ Procedure: 'hd', SessionContext: 'c1' }, { procedure: 'other' }),
    ).toMatchObject({
      procedure: 'hd',
      sessionContext: 'c1',
      source: 'tags',
    });
    expect(
      intentFromAttributes({ owner: 'x' }, { procedure: 'sd', sessioncontext: 'ctx', classid: '3' }),
    ).toMatchObject({
      procedure: 'sd',
      sessionContext: 'ctx',
      classId: 3,
      source: 'metadata',
    });
    expect(intentFromAttributes({}, {})).toEqual({ source: 'none' });
  });

  test('a session key wins over tags, but only for its own app and key', async () => {
    const s = {
      sessionKey: '0123456789abcdef0123456789abcdef',
      subAppId: 1,
      key: 'uploads/1/0123456789abcdef0123456789abcdef/a.mp4',
      fileId: '5000000000000000001',
      procedure: 'fromSession',
      mediaName: 'a',
    } as UploadSession;
    const r = {
      uploads: { getSession: async (id: string) => (id === s.sessionKey ? s : undefined) },
      objects: { tags: async () => ({ procedure: 'fromTags' }), head: async () => undefined },
      logger,
    };
    expect(await resolveIntent(r, 1, s.key)).toMatchObject({
      procedure: 'fromSession',
      fileId: s.fileId,
      source: 'session',
    });
    expect(await resolveIntent(r, 2, s.key.replace('/1/', '/2/'))).toMatchObject({
      procedure: 'fromTags',
      source: 'tags',
    });
  });

  test('the same event twice, even at once: one media, one flow, one NewFileUpload id', async () => {
    const p = fakeProcedures(['hd']);
    const { d, media, events } = deps(REAL, { startProcedure: p.start });
    const obj = { bucket: 'b', key: 'uploads/1500000001/clip.MP4', size: 10, sequencer: '01' };
    const intent = { procedure: 'hd', sessionContext: 'ctx', source: 'tags' as const };
    const [a, b] = await Promise.all([registerUpload(d, obj, intent), registerUpload(d, obj, intent)]);
    const again = await registerUpload(d, obj, intent);
    expect(media.items.size).toBe(1);
    expect(p.started).toHaveLength(1);
    expect(p.started[0]).toMatchObject({
      procedureName: 'hd',
      sessionContext: 'ctx',
      dedupeKey: `upload-${a.fileId}`,
    });
    // The dedupe is internal: the task gets no SessionId (DescribeTaskDetail shows none).
    expect(p.started[0].sessionId).toBeUndefined();
    expect(new Set([a.procedureTaskId, b.procedureTaskId, again.procedureTaskId])).toEqual(
      new Set(['1500000001-procedurev2-1']),
    );
    expect(media.items.get(a.fileId!)).toMatchObject({
      status: 'READY',
      procedureTaskId: '1500000001-procedurev2-1',
    });
    expect(new Set(events.map((e) => e.eventId))).toEqual(new Set([newFileUploadEventId(a.fileId!)]));
    expect(events[0].content).toMatchObject({
      FileId: a.fileId,
      ProcedureTaskId: '1500000001-procedurev2-1',
    });
  });

  test('a non-media file is FAILED with its reason and starts nothing', async () => {
    const p = fakeProcedures(['hd']);
    const { d, media, events } = deps(NOT_MEDIA, { startProcedure: p.start });
    const obj = { bucket: 'b', key: 'uploads/1500000001/x.mp4', size: 10, sequencer: '01' };
    const first = await registerUpload(d, obj, { procedure: 'hd', source: 'tags' });
    const again = await registerUpload(d, obj, { procedure: 'hd', source: 'tags' });
    expect(first.status).toBe('failed');
    expect(again).toEqual({ fileId: first.fileId, status: 'duplicate' });
    expect(media.items.get(first.fileId!)).toMatchObject({ status: 'FAILED', subAppId: 1500000001 });
    expect(media.items.get(first.fileId!)?.failReason).toMatch(/./);
    expect(p.started).toHaveLength(0);
    expect(events).toHaveLength(0);
    expect(await registerUpload(d, { ...obj, key: 'other/x.mp4' })).toEqual({ status: 'ignored' });
  });

  test('a procedure that does not exist is recorded on the media and reported in NewFileUpload', async () => {
    const p = fakeProcedures(['hd']);
    const { d, media, events } = deps(REAL, { startProcedure: p.start });
    const obj = { bucket: 'b', key: 'uploads/1500000001/y.mp4', size: 10, sequencer: '02' };
    const r = await registerUpload(d, obj, { procedure: 'nope', source: 'metadata' });
    expect(r.status).toBe('registered');
    expect(r.procedureError).toMatch(/"nope" was not started: There is no task-flow template named nope/);
    expect(media.items.get(r.fileId!)).toMatchObject({ status: 'READY', procedureError: r.procedureError });
    expect(events).toHaveLength(1);
    expect(events[0].content).toMatchObject({
      FileId: r.fileId,
      ProcedureTaskId: '',
      ProcedureError: r.procedureError,
    });
  });

  test('a redelivery after a crash between starting the flow and recording it records the flow it started', async () => {
    const p = fakeProcedures(['hd']);
    const { d, media, events } = deps(REAL, { startProcedure: p.start });
    const obj = { bucket: 'b', key: 'uploads/1500000001/crash.mp4', size: 10, sequencer: '03' };
    const intent = { procedure: 'hd', source: 'tags' as const };
    media.crashNextProcedureResult();
    await expect(registerUpload(d, obj, intent)).rejects.toThrow(/crashed/);
    expect(p.started).toHaveLength(1);
    const fileId = uploadFileId(obj);
    expect(media.items.get(fileId)?.procedureTaskId).toBeUndefined();

    const again = await registerUpload(d, obj, intent);
    expect(again).toMatchObject({ status: 'duplicate', procedureTaskId: '1500000001-procedurev2-1' });
    expect(p.started).toHaveLength(1);
    expect(media.items.get(fileId)).toMatchObject({
      status: 'READY',
      procedureTaskId: '1500000001-procedurev2-1',
    });
    expect(events.map((e) => e.content.ProcedureTaskId)).toEqual(['1500000001-procedurev2-1']);
  });

  test('a media deleted while it is registered stops the registration: no flow, no event, no ghost item', async () => {
    const p = fakeProcedures(['hd']);
    const obj = { bucket: 'b', key: 'uploads/1500000001/gone.mp4', size: 10, sequencer: '04' };
    const fileId = uploadFileId(obj);
    const { d, media, events } = deps(REAL, { startProcedure: p.start });
    // DeleteMedia tombstones the media while ffprobe reads it.
    d.storage = {
      publicUrl: d.storage.publicUrl,
      presignGet: async () => {
        media.items.get(fileId)!.deleteTime = '2026-01-01T00:00:00.000Z';
        return REAL;
      },
    };
    const r = await registerUpload(d, obj, { procedure: 'hd', source: 'tags' });
    expect(r).toEqual({ fileId, status: 'ignored' });
    expect(media.items.get(fileId)).toMatchObject({ status: 'PENDING', deleteTime: expect.any(String) });
    expect(p.started).toHaveLength(0);
    expect(events).toHaveLength(0);
    // A late redelivery finds the tombstone: still nothing.
    expect(await registerUpload(d, obj, { procedure: 'hd', source: 'tags' })).toEqual({
      fileId,
      status: 'ignored',
    });
    expect(p.started).toHaveLength(0);
    expect(events).toHaveLength(0);
  });

  test('NewFileUpload: a pulled media is SourceType Upload, as Tencent counts pull uploads', () => {
    const media = {
      fileId: '5000000000000000009',
      subAppId: 1,
      status: 'READY',
      name: 'pulled',
      bucket: 'b',
      key: '1/5000000000000000009/source.mp4',
      sourceUrl: 'https://example.com/pulled.mp4',
      createTime: '2026-01-01T00:00:00.000Z',
      updateTime: '2026-01-01T00:00:00.000Z',
    } as Media;
    const c = fileUploadEventContent(media, 'http://media/x') as {
      MediaBasicInfo: { SourceInfo: { SourceType: string } };
    };
    expect(c.MediaBasicInfo.SourceInfo.SourceType).toBe('Upload');
  });
});
