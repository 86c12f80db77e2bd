/**
 * The media library on DynamoDB Local (tables from serverless.yml, GSIs included) and the S3 emulator (s3rver):
 * outputs recorded on the media (idempotent, the later output of a kind+definition wins under concurrency,
 * 10,000 snapshot URLs in one compact item), DescribeMediaInfos (filters, other apps' FileIds), DeleteMedia
 * (parts and whole, objects really removed, refused while a task runs, another app's media not found),
 * SearchMedia (names, prefixes, time range, order, paging), through the action handlers (validation included).
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import {
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  UploadPartCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { Logger } from '@aws-lambda-powertools/logger';
import type { S3EventRecord } from 'aws-lambda';
import { localS3ClientOptions, startS3 } from '../../local/emulators/s3';
import { DynamoMediaRepository } from '../../src/adapters/media-repo';
import { DynamoFileTasks, DynamoMediaLibraryRepository } from '../../src/adapters/media-library-repo';
import { S3MediaObjects } from '../../src/adapters/media-objects';
import { S3Storage } from '../../src/adapters/s3-storage';
import { MEDIA_ACTIONS } from '../../src/api/actions-media';
import type { ActionContext, ApiServices } from '../../src/api/actions';
import { ApiError } from '../../src/domain/errors';
import type { Media } from '../../src/domain/media';
import type { Subtask, SubtaskKind, Task } from '../../src/domain/task';
import type { MediaProbe } from '../../src/media/probe';
import { newTaskId, storeTask, usableMedia } from '../../src/services/submit';
import { deleteMedia, recordFlowOutputs, type MediaLibraryDeps } from '../../src/services/media-library';
import { DynamoTaskStore } from '../../src/adapters/task-store';
import { compactValue } from '../../src/domain/packed-lists';
import { resolveFfmpeg } from '../../src/media/ffmpeg-path';
import {
  decodeS3Key,
  registerUpload,
  uploadFileId,
  type RegistrationDeps,
} from '../../src/services/upload-registration';
import { freePort } from '../helpers/ports';
import { serviceModel, startDynamoWithTables } from '../helpers/dynamo';

const REAL = path.resolve(__dirname, '../../../shared/media/real-footage-320x192-5994.mp4');
const APP = 1500000101;
const OTHER = 1500000102;
const BUCKET = 'media';
let dir: string;
let stops: Array<() => Promise<void>> = [];
let doc: DynamoDBDocumentClient;
let s3: S3Client;
let deps: MediaLibraryDeps;
let storage: S3Storage;
let seq = 0;

const probe: MediaProbe = {
  container: 'mp4',
  durationSeconds: 4,
  sizeBytes: 123456,
  bitrate: 246912,
  video: {
    codec: 'h264',
    width: 320,
    height: 180,
    displayWidth: 320,
    displayHeight: 180,
    fps: 30,
    bitrate: 200000,
    rotation: 0,
  },
  audio: { codec: 'aac', sampleRate: 48000, channels: 2, bitrate: 46912 },
} as unknown as MediaProbe;

function ctx(subAppId: number): ActionContext {
  return {
    subAppId,
    requestId: 'r',
    logger: new Logger({ logLevel: 'SILENT' }),
    services: { library: deps } as unknown as ApiServices,
  };
}
const call = (action: string, subAppId: number, params: object) =>
  MEDIA_ACTIONS[action](ctx(subAppId), params) as Promise<Record<string, any>>; // eslint-disable-line @typescript-eslint/no-explicit-any

async function refusal(p: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await p;
  } catch (e) {
    if (e instanceof ApiError) return { code: e.code, message: e.message };
    throw e;
  }
  throw new Error('expected an ApiError');
}

async function newMedia(
  subAppId = APP,
  name = 'clip',
  createTime = new Date().toISOString(),
): Promise<Media> {
  const fileId = String(5285485487985271000n + BigInt(++seq));
  const key = `${subAppId}/${fileId}/source.mp4`;
  await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: 'source bytes' }));
  const media: Media = {
    fileId,
    subAppId,
    status: 'READY',
    name,
    bucket: BUCKET,
    key,
    metaData: probe,
    createTime,
    updateTime: createTime,
  };
  await new DynamoMediaRepository(doc, 'media').put(media);
  return media;
}

/** Writes objects as a worker would and returns the subtask that reports them. */
async function producedSubtask(
  media: Media,
  kind: SubtaskKind,
  definition: number,
  files: string[],
  finishTime: string,
  output: (url: (f: string) => string) => Record<string, unknown>,
): Promise<Subtask> {
  const dirName = {
    Transcode: 'transcode',
    SampleSnapshot: 'sampleSnapshot',
    CoverBySnapshot: 'cover',
    AdaptiveDynamicStreaming: 'adaptiveDynamicStreaming',
  }[kind as string]!;
  const prefix = `${media.subAppId}/${media.fileId}/${dirName}/${definition}`;
  for (const f of files)
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: `${prefix}/${f}`, Body: `${kind} ${f}` }));
  return {
    taskId: 't',
    index: 0,
    kind,
    status: 'SUCCESS',
    input: { Definition: definition },
    template: {},
    progress: 100,
    errCode: 0,
    message: 'SUCCESS',
    output: output((f) => storage.publicUrl(`${prefix}/${f}`)),
    finishTime,
  };
}

const task = (media: Media, taskId: string): Task => ({
  taskId,
  subAppId: media.subAppId,
  taskType: 'Procedure',
  status: 'PROCESSING',
  fileId: media.fileId,
  createTime: new Date().toISOString(),
  priority: 0,
  notifyMode: 'Finish',
  subtaskCount: 1,
});

const transcodeOutput = (def: number, md5: string) => (url: (f: string) => string) => ({
  Url: url('out.mp4'),
  Definition: def,
  Bitrate: 100000,
  Height: 180,
  Width: 320,
  Size: 1000,
  Duration: 4,
  Md5: md5,
  Container: 'mov,mp4,m4a,3gp,3g2,mj2',
  VideoStreamSet: [{ Bitrate: 90000, Height: 180, Width: 320, Codec: 'h264', Fps: 30 }],
  AudioStreamSet: [{ Bitrate: 10000, SamplingRate: 48000, Codec: 'aac' }],
});

async function keysUnder(prefix: string): Promise<string[]> {
  const out = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: prefix }));
  return (out.Contents ?? []).map((o) => o.Key!);
}
async function exists(key: string): Promise<boolean> {
  try {
    await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }));
    return true;
  } catch (e) {
    if ((e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404) return false;
    throw e;
  }
}

beforeAll(async () => {
  const db = await startDynamoWithTables({ MediaTable: 'media', TasksTable: 'tasks' }, 'openvod-library-');
  stops.push(db.stop);
  dir = db.dir;
  const s3e = await startS3({ port: await freePort(), dataDir: dir });
  stops.push(s3e.stop);
  doc = db.doc;
  s3 = new S3Client({ ...localS3ClientOptions, endpoint: s3e.endpoint });
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
  storage = new S3Storage(s3, BUCKET, `${s3e.endpoint}/${BUCKET}`);
  deps = {
    media: new DynamoMediaRepository(doc, 'media'),
    library: new DynamoMediaLibraryRepository(doc, 'media'),
    objects: new S3MediaObjects(s3, BUCKET),
    fileTasks: new DynamoFileTasks(doc, 'tasks'),
    publicUrl: (k) => storage.publicUrl(k),
    region: 'ap-test-1',
    clock: Date.now,
  };
}, 90_000);

afterAll(async () => {
  s3?.destroy();
  for (const stop of stops.reverse()) await stop();
  stops = [];
});

test('a flow’s outputs are recorded on its media and DescribeMediaInfos shows them in Tencent’s shape', async () => {
  const m = await newMedia(APP, 'holiday');
  const t0 = '2026-01-01T00:00:10.000Z';
  const subs = [
    await producedSubtask(m, 'Transcode', 100030, ['out.mp4'], t0, transcodeOutput(100030, 'aaa')),
    await producedSubtask(m, 'Transcode', 100010, ['out.mp4'], t0, transcodeOutput(100010, 'bbb')),
    await producedSubtask(
      m,
      'SampleSnapshot',
      10,
      ['1.jpg', '2.jpg', '3.jpg', '4.jpg', '5.jpg'],
      t0,
      (url) => ({
        Definition: 10,
        SampleType: 'Percent',
        Interval: 10,
        ImageUrlSet: ['1.jpg', '2.jpg', '3.jpg', '4.jpg', '5.jpg'].map(url),
        WaterMarkDefinition: [],
      }),
    ),
    await producedSubtask(m, 'CoverBySnapshot', 10, ['cover.jpg'], t0, (url) => ({
      CoverUrl: url('cover.jpg'),
    })),
    await producedSubtask(
      m,
      'AdaptiveDynamicStreaming',
      10,
      ['master.m3u8', '0/index.m3u8', '0/seg_00000.ts'],
      t0,
      (url) => ({
        Definition: 10,
        Package: 'HLS',
        DrmType: '',
        Url: url('master.m3u8'),
        Size: 3000,
        SubStreamSet: [],
      }),
    ),
  ].map((s, index) => ({ ...s, index }));
  const failed: Subtask = {
    ...subs[0],
    index: 9,
    kind: 'Transcode',
    status: 'FAIL',
    input: { Definition: 100040 },
    output: undefined,
  };
  const r = await recordFlowOutputs(deps, task(m, 'task-a'), [...subs, failed]);
  expect(r).toEqual({ recorded: 5, superseded: 0, orphaned: 0, failed: 0 });
  // Idempotent: the same flow end recorded again changes nothing.
  expect(await recordFlowOutputs(deps, task(m, 'task-a'), subs)).toEqual({
    recorded: 5,
    superseded: 0,
    orphaned: 0,
    failed: 0,
  });

  const out = await call('DescribeMediaInfos', APP, { FileIds: [m.fileId, '5999999999999999999'] });
  expect(out.NotExistFileIdSet).toEqual(['5999999999999999999']);
  const info = out.MediaInfoSet[0];
  expect(info.FileId).toBe(m.fileId);
  expect(info.BasicInfo).toMatchObject({
    Name: 'holiday',
    CreateTime: m.createTime,
    ExpireTime: '9999-12-31T23:59:59Z',
    CoverUrl: storage.publicUrl(`${APP}/${m.fileId}/cover/10/cover.jpg`),
    Type: 'mp4',
    MediaUrl: storage.publicUrl(m.key),
    SourceInfo: { SourceType: 'Upload', SourceContext: '' },
    StorageRegion: 'ap-test-1',
    StoragePath: `/${m.key}`,
    Category: 'Video',
    Status: 'Normal',
    StorageClass: 'STANDARD',
  });
  expect(info.MetaData).toMatchObject({
    Size: 123456,
    Container: 'mp4',
    Width: 320,
    Height: 180,
    Duration: 4,
  });
  // Definition 0 is the original file, then the transcodes by definition.
  expect(info.TranscodeInfo.TranscodeSet.map((t: { Definition: number }) => t.Definition)).toEqual([
    0, 100010, 100030,
  ]);
  expect(info.TranscodeInfo.TranscodeSet[2]).toMatchObject({
    Url: storage.publicUrl(`${APP}/${m.fileId}/transcode/100030/out.mp4`),
    Md5: 'aaa',
    DigitalWatermarkType: 'None',
  });
  expect(info.SampleSnapshotInfo.SampleSnapshotSet).toEqual([
    {
      Definition: 10,
      SampleType: 'Percent',
      Interval: 10,
      ImageUrlSet: [1, 2, 3, 4, 5].map((i) =>
        storage.publicUrl(`${APP}/${m.fileId}/sampleSnapshot/10/${i}.jpg`),
      ),
      WaterMarkDefinition: [],
    },
  ]);
  expect(info.AdaptiveDynamicStreamingInfo.AdaptiveDynamicStreamingSet[0]).toMatchObject({
    Definition: 10,
    Package: 'HLS',
    Url: storage.publicUrl(`${APP}/${m.fileId}/adaptiveDynamicStreaming/10/master.m3u8`),
  });
  expect(info.ImageSpriteInfo).toBeNull();
  expect(info.AnimatedGraphicsInfo).toBeNull();
  expect(info.KeyFrameDescInfo).toEqual({ KeyFrameDescSet: [] });

  // Filters: only what is asked for; an unknown filter is refused by name.
  const only = await call('DescribeMediaInfos', APP, { FileIds: [m.fileId], Filters: ['transcodeInfo'] });
  expect(only.MediaInfoSet[0].BasicInfo).toBeNull();
  expect(only.MediaInfoSet[0].MetaData).toBeNull();
  expect(only.MediaInfoSet[0].TranscodeInfo.TranscodeSet).toHaveLength(3);
  expect(
    await refusal(
      call('DescribeMediaInfos', APP, { FileIds: [m.fileId], Filters: ['basicInfo', 'colorInfo'] }),
    ),
  ).toMatchObject({
    code: 'InvalidParameterValue.Filters',
  });
  expect(
    await refusal(
      call('DescribeMediaInfos', APP, { FileIds: Array.from({ length: 21 }, (_, i) => String(i)) }),
    ),
  ).toMatchObject({ code: 'InvalidParameterValue.FileIds' });
  // Another app does not see the media.
  const other = await call('DescribeMediaInfos', OTHER, { FileIds: [m.fileId] });
  expect(other).toEqual({ MediaInfoSet: [], NotExistFileIdSet: [m.fileId] });
});

test('of concurrent outputs of one kind and definition the later one stays, whatever order they are written in', async () => {
  const m = await newMedia();
  const early = await producedSubtask(
    m,
    'Transcode',
    100030,
    ['out.mp4'],
    '2026-01-01T00:00:01.000Z',
    transcodeOutput(100030, 'early'),
  );
  const late = await producedSubtask(
    m,
    'Transcode',
    100030,
    ['out.mp4'],
    '2026-01-01T00:00:02.000Z',
    transcodeOutput(100030, 'late'),
  );
  const others = await Promise.all(
    [100010, 100020, 100040, 100070].map((d) =>
      producedSubtask(
        m,
        'Transcode',
        d,
        ['out.mp4'],
        '2026-01-01T00:00:01.500Z',
        transcodeOutput(d, `d${d}`),
      ),
    ),
  );
  // Ten flow ends racing: the later 100030 first, then the earlier one many times, plus other definitions.
  const results = await Promise.all([
    recordFlowOutputs(deps, task(m, 'late'), [late]),
    ...Array.from({ length: 5 }, () => recordFlowOutputs(deps, task(m, 'early'), [early])),
    ...others.map((s, i) => recordFlowOutputs(deps, task(m, `o${i}`), [s])),
  ]);
  expect(results.reduce((n, r) => n + r.recorded, 0)).toBeGreaterThanOrEqual(5);
  const set = (await call('DescribeMediaInfos', APP, { FileIds: [m.fileId], Filters: ['transcodeInfo'] }))
    .MediaInfoSet[0].TranscodeInfo.TranscodeSet as Array<{ Definition: number; Md5: string }>;
  expect(set.map((t) => t.Definition)).toEqual([0, 100010, 100020, 100030, 100040, 100070]);
  expect(set.find((t) => t.Definition === 100030)!.Md5).toBe('late');
  // A re-transcode that ends later replaces the entry, as Tencent does.
  const again = await producedSubtask(
    m,
    'Transcode',
    100030,
    ['out.mp4'],
    '2026-01-01T00:00:03.000Z',
    transcodeOutput(100030, 'again'),
  );
  await recordFlowOutputs(deps, task(m, 'again'), [again]);
  const after = (await call('DescribeMediaInfos', APP, { FileIds: [m.fileId], Filters: ['transcodeInfo'] }))
    .MediaInfoSet[0].TranscodeInfo.TranscodeSet as Array<{ Definition: number; Md5: string }>;
  expect(after.filter((t) => t.Definition === 100030).map((t) => t.Md5)).toEqual(['again']);
});

test('10,000 snapshot URLs are stored compactly and read back exactly', async () => {
  const m = await newMedia();
  const prefix = `${APP}/${m.fileId}/sampleSnapshot/20`;
  const urls = Array.from({ length: 10_000 }, (_, i) => storage.publicUrl(`${prefix}/${i + 1}.jpg`));
  const sub: Subtask = {
    taskId: 'big',
    index: 0,
    kind: 'SampleSnapshot',
    status: 'SUCCESS',
    input: { Definition: 20 },
    template: {},
    progress: 100,
    errCode: 0,
    message: 'SUCCESS',
    output: { Definition: 20, SampleType: 'Time', Interval: 1, ImageUrlSet: urls, WaterMarkDefinition: [] },
    finishTime: new Date().toISOString(),
  };
  expect(await recordFlowOutputs(deps, task(m, 'big'), [sub])).toMatchObject({ recorded: 1 });
  const item = await doc.send(
    new GetCommand({ TableName: 'media', Key: { pk: `OUTPUT#${m.fileId}#SampleSnapshot#20` } }),
  );
  expect(JSON.stringify(item.Item).length).toBeLessThan(1000);
  const set = (
    await call('DescribeMediaInfos', APP, { FileIds: [m.fileId], Filters: ['sampleSnapshotInfo'] })
  ).MediaInfoSet[0].SampleSnapshotInfo.SampleSnapshotSet;
  expect(set[0].ImageUrlSet).toEqual(urls);

  // A flow's subtasks come from the tasks table with their outputs compacted (task-store endSubtask): recorded
  // on the media all the same.
  const again = await newMedia();
  const againPrefix = `${APP}/${again.fileId}/sampleSnapshot/20`;
  const againUrls = urls.map((_, i) => storage.publicUrl(`${againPrefix}/${i + 1}.jpg`));
  const stored = compactValue({ ...sub.output, ImageUrlSet: againUrls }) as Record<string, unknown>;
  expect(JSON.stringify(stored).length).toBeLessThan(1000);
  expect(await recordFlowOutputs(deps, task(again, 'big2'), [{ ...sub, output: stored }])).toMatchObject({
    recorded: 1,
  });
  const againSet = (
    await call('DescribeMediaInfos', APP, { FileIds: [again.fileId], Filters: ['sampleSnapshotInfo'] })
  ).MediaInfoSet[0].SampleSnapshotInfo.SampleSnapshotSet;
  expect(againSet[0].ImageUrlSet).toEqual(againUrls);
});

test('DeleteMedia of parts removes their objects and entries; Definition 0 removes all of the type and the processing cover', async () => {
  const m = await newMedia();
  const t = '2026-01-01T00:00:10.000Z';
  const subs = [
    await producedSubtask(m, 'Transcode', 100030, ['out.mp4'], t, transcodeOutput(100030, 'a')),
    await producedSubtask(
      m,
      'Transcode',
      100210,
      ['index.m3u8', 'seg_00000.ts', 'seg_00001.ts'],
      t,
      transcodeOutput(100210, 'b'),
    ),
    await producedSubtask(m, 'CoverBySnapshot', 10, ['cover.jpg'], t, (url) => ({
      CoverUrl: url('cover.jpg'),
    })),
    await producedSubtask(m, 'AdaptiveDynamicStreaming', 10, ['master.m3u8', '0/index.m3u8'], t, (url) => ({
      Definition: 10,
      Package: 'HLS',
      DrmType: '',
      Url: url('master.m3u8'),
      Size: 2,
      SubStreamSet: [],
    })),
  ];
  await recordFlowOutputs(deps, task(m, 'parts'), subs);
  const base = `${APP}/${m.fileId}`;

  // Another app: not found, nothing removed.
  expect(await refusal(call('DeleteMedia', OTHER, { FileId: m.fileId }))).toMatchObject({
    code: 'ResourceNotFound.FileNotExist',
  });
  expect(
    await refusal(call('DeleteMedia', APP, { FileId: m.fileId, DeleteParts: [{ Type: 'CoverFiles' }] })),
  ).toMatchObject({
    code: 'InvalidParameterValue.Type',
  });

  expect(
    await call('DeleteMedia', APP, {
      FileId: m.fileId,
      DeleteParts: [{ Type: 'TranscodeFiles', Definition: 100030 }],
    }),
  ).toEqual({});
  expect(await keysUnder(`${base}/transcode/100030/`)).toEqual([]);
  expect(await keysUnder(`${base}/transcode/100210/`)).toHaveLength(3);
  let info = (await call('DescribeMediaInfos', APP, { FileIds: [m.fileId] })).MediaInfoSet[0];
  expect(info.TranscodeInfo.TranscodeSet.map((x: { Definition: number }) => x.Definition)).toEqual([
    0, 100210,
  ]);
  expect(info.BasicInfo.CoverUrl).not.toBe('');

  await call('DeleteMedia', APP, {
    FileId: m.fileId,
    DeleteParts: [
      { Type: 'TranscodeFiles', Definition: 0 },
      { Type: 'AdaptiveDynamicStreamingFiles' },
      { Type: 'WechatPublishFiles' },
    ],
  });
  expect(await keysUnder(`${base}/transcode/`)).toEqual([]);
  expect(await keysUnder(`${base}/cover/`)).toEqual([]);
  expect(await keysUnder(`${base}/adaptiveDynamicStreaming/`)).toEqual([]);
  info = (await call('DescribeMediaInfos', APP, { FileIds: [m.fileId] })).MediaInfoSet[0];
  expect(info.TranscodeInfo.TranscodeSet.map((x: { Definition: number }) => x.Definition)).toEqual([0]);
  expect(info.AdaptiveDynamicStreamingInfo).toBeNull();
  expect(info.BasicInfo.CoverUrl).toBe('');
  expect(await exists(m.key)).toBe(true);

  // The original file: removed, MediaUrl empty, and the media can no longer be processed.
  await call('DeleteMedia', APP, { FileId: m.fileId, DeleteParts: [{ Type: 'OriginalFiles' }] });
  expect(await exists(m.key)).toBe(false);
  info = (await call('DescribeMediaInfos', APP, { FileIds: [m.fileId] })).MediaInfoSet[0];
  expect(info.BasicInfo.MediaUrl).toBe('');
  expect(info.TranscodeInfo).toBeNull();
  expect(info.MetaData).toMatchObject({ Width: 320 });
  await expect(usableMedia(deps.media, m.fileId, APP)).rejects.toMatchObject({
    code: 'InvalidParameterValue.FileId',
  });
});

test('DeleteMedia is refused while a task of the media is waiting or running, then removes everything', async () => {
  const m = await newMedia();
  await recordFlowOutputs(deps, task(m, 'done'), [
    await producedSubtask(
      m,
      'Transcode',
      100030,
      ['out.mp4'],
      '2026-01-01T00:00:01.000Z',
      transcodeOutput(100030, 'x'),
    ),
    await producedSubtask(m, 'SampleSnapshot', 10, ['1.jpg', '2.jpg'], '2026-01-01T00:00:01.000Z', (url) => ({
      Definition: 10,
      SampleType: 'Percent',
      Interval: 50,
      ImageUrlSet: ['1.jpg', '2.jpg'].map(url),
      WaterMarkDefinition: [],
    })),
  ]);
  const taskId = `${APP}-procedurev2-running`;
  await doc.send(
    new PutCommand({
      TableName: 'tasks',
      Item: {
        pk: `TASK#${taskId}`,
        sk: '#TASK',
        taskId,
        subAppId: APP,
        fileId: m.fileId,
        status: 'PROCESSING',
        createTime: new Date().toISOString(),
      },
    }),
  );
  const refused = await refusal(call('DeleteMedia', APP, { FileId: m.fileId }));
  expect(refused.code).toBe('FailedOperation');
  expect(refused.message).toContain(taskId);
  expect(await keysUnder(`${APP}/${m.fileId}/`)).toHaveLength(4);

  await doc.send(
    new UpdateCommand({
      TableName: 'tasks',
      Key: { pk: `TASK#${taskId}`, sk: '#TASK' },
      UpdateExpression: 'SET #s = :f',
      ExpressionAttributeNames: { '#s': 'status' },
      ExpressionAttributeValues: { ':f': 'FINISH' },
    }),
  );
  expect(await call('DeleteMedia', APP, { FileId: m.fileId })).toEqual({});
  expect(await keysUnder(`${APP}/${m.fileId}/`)).toEqual([]);
  expect(await deps.media.get(m.fileId, APP)).toBeUndefined();
  const left = await doc.send(
    new GetCommand({ TableName: 'media', Key: { pk: `OUTPUT#${m.fileId}#Transcode#100030` } }),
  );
  expect(left.Item).toBeUndefined();
  expect((await call('DescribeMediaInfos', APP, { FileIds: [m.fileId] })).NotExistFileIdSet).toEqual([
    m.fileId,
  ]);
  expect(await refusal(call('DeleteMedia', APP, { FileId: m.fileId }))).toMatchObject({
    code: 'ResourceNotFound.FileNotExist',
  });
  await expect(usableMedia(deps.media, m.fileId, APP)).rejects.toMatchObject({
    code: 'InvalidParameterValue.FileId',
  });

  // A flow that ends after its media was deleted leaves nothing behind.
  const late = await producedSubtask(
    m,
    'Transcode',
    100020,
    ['out.mp4'],
    '2026-01-01T00:00:05.000Z',
    transcodeOutput(100020, 'y'),
  );
  expect(await keysUnder(`${APP}/${m.fileId}/`)).toHaveLength(1);
  expect(await recordFlowOutputs(deps, task(m, 'late'), [late])).toEqual({
    recorded: 0,
    superseded: 0,
    orphaned: 1,
    failed: 0,
  });
  expect(await keysUnder(`${APP}/${m.fileId}/`)).toEqual([]);
  const orphan = await doc.send(
    new GetCommand({ TableName: 'media', Key: { pk: `OUTPUT#${m.fileId}#Transcode#100020` } }),
  );
  expect(orphan.Item).toBeUndefined();
});

test('SearchMedia: by names, prefixes, file ids and creation time, in order, paged, only the app’s own media', async () => {
  const app = 1500000199;
  const at = (s: number) => new Date(Date.UTC(2026, 2, 1, 0, 0, s)).toISOString();
  const a = await newMedia(app, 'Cat video', at(1));
  const b = await newMedia(app, 'cat', at(2));
  const c = await newMedia(app, 'Dog video', at(3));
  const d = await newMedia(app, 'my cats', at(4));
  await newMedia(OTHER, 'cat', at(5));

  const all = await call('SearchMedia', app, {});
  expect(all.TotalCount).toBe(4);
  expect(all.MediaInfoSet.map((x: { FileId: string }) => x.FileId)).toEqual(
    [d, c, b, a].map((m) => m.fileId),
  );

  const asc = await call('SearchMedia', app, {
    Sort: { Field: 'CreateTime', Order: 'Asc' },
    Offset: 1,
    Limit: 2,
    Filters: ['basicInfo'],
  });
  expect(asc.TotalCount).toBe(4);
  expect(asc.MediaInfoSet.map((x: { BasicInfo: { Name: string } }) => x.BasicInfo.Name)).toEqual([
    'cat',
    'Dog video',
  ]);
  expect(asc.MediaInfoSet[0].MetaData).toBeNull();

  // Fuzzy names: case-insensitive; the best match first (equal, then prefix, then contains).
  const cats = await call('SearchMedia', app, { Names: ['cat'] });
  expect(cats.MediaInfoSet.map((x: { FileId: string }) => x.FileId)).toEqual([b, a, d].map((m) => m.fileId));
  expect((await call('SearchMedia', app, { NamePrefixes: ['Dog', 'my'] })).TotalCount).toBe(2);
  expect((await call('SearchMedia', app, { FileIds: [a.fileId, c.fileId] })).TotalCount).toBe(2);
  const range = await call('SearchMedia', app, { CreateTime: { After: at(2), Before: at(4) } });
  expect(range.MediaInfoSet.map((x: { FileId: string }) => x.FileId)).toEqual([c, b].map((m) => m.fileId));
  expect((await call('SearchMedia', app, { SourceTypes: ['Record'] })).TotalCount).toBe(0);
  expect(
    (await call('SearchMedia', app, { SourceTypes: ['Upload'], Categories: ['Video'], MediaTypes: ['MP4'] }))
      .TotalCount,
  ).toBe(4);

  expect(await refusal(call('SearchMedia', app, { Tags: ['x'] }))).toMatchObject({
    code: 'InvalidParameterValue.Tags',
  });
  expect(await refusal(call('SearchMedia', app, { Sort: { Field: 'Size', Order: 'Asc' } }))).toMatchObject({
    code: 'InvalidParameterValue.Sort',
  });
  expect(await refusal(call('SearchMedia', app, { Offset: 4990, Limit: 20 }))).toMatchObject({
    code: 'InvalidParameterValue.Limit',
  });
});

test('an output that cannot be stored does not keep the flow from finishing; the others are recorded', async () => {
  const m = await newMedia();
  const ok = await producedSubtask(
    m,
    'Transcode',
    100030,
    ['out.mp4'],
    '2026-01-01T00:00:01.000Z',
    transcodeOutput(100030, 'ok'),
  );
  const huge = await producedSubtask(
    m,
    'Transcode',
    100040,
    ['out.mp4'],
    '2026-01-01T00:00:01.000Z',
    (url) => ({
      ...transcodeOutput(100040, 'huge')(url),
      Note: 'x'.repeat(500_000), // over DynamoDB's 400 KB item limit
    }),
  );
  expect(await recordFlowOutputs(deps, task(m, 'mixed'), [huge, ok])).toEqual({
    recorded: 1,
    superseded: 0,
    orphaned: 0,
    failed: 1,
  });
  const set = (await call('DescribeMediaInfos', APP, { FileIds: [m.fileId], Filters: ['transcodeInfo'] }))
    .MediaInfoSet[0].TranscodeInfo.TranscodeSet as Array<{ Definition: number }>;
  expect(set.map((t) => t.Definition)).toEqual([0, 100030]);
});

// ---------------------------------------------------------------------------------------------------------
// DeleteMedia against the flows it protects, the upload trigger and S3's rewritten keys.

const taskStore = () => new DynamoTaskStore(doc, 'tasks');
/** Stores a WAITING task of a media as ProcessMedia / ProcessMediaByProcedure / the upload trigger do. */
function startTask(media: Media) {
  return storeTask(
    { tasks: taskStore(), media: deps.media, intake: { kick: async () => undefined }, clock: Date.now },
    media.subAppId,
    {
      taskId: newTaskId(media.subAppId),
      subtasks: [],
      fileId: media.fileId,
      sessionWindowSeconds: 60,
    },
  );
}

test('DeleteMedia and a task start racing: a task never starts on a deleted media (tombstone first, then the task check)', async () => {
  // A task stored between DeleteMedia's unfinished-task check and its deletion (the window of a check-then-
  // delete): with the tombstone set before the check, the task store refuses it.
  const m = await newMedia();
  let stored: unknown;
  const racing: MediaLibraryDeps = {
    ...deps,
    fileTasks: {
      async unfinished(fileId, subAppId) {
        const found = await deps.fileTasks.unfinished(fileId, subAppId);
        stored = await startTask(m).catch((e: unknown) => e);
        return found;
      },
    },
  };
  expect(await deleteMedia(racing, APP, { FileId: m.fileId })).toEqual({});
  expect(stored).toBeInstanceOf(ApiError);
  expect(stored).toMatchObject({ code: 'InvalidParameterValue.FileId' });
  expect(await deps.fileTasks.unfinished(m.fileId, APP)).toEqual([]);
  expect(await exists(m.key)).toBe(false);

  // Concurrently, many times over: either the task stored first (DeleteMedia refused, the media and its
  // source stay) or DeleteMedia won (no task) — never both.
  for (let i = 0; i < 8; i++) {
    const x = await newMedia();
    const [del, start] = await Promise.allSettled([
      deleteMedia(deps, APP, { FileId: x.fileId }),
      startTask(x),
    ]);
    if (start.status === 'fulfilled') {
      expect(del.status).toBe('rejected');
      expect((del as PromiseRejectedResult).reason).toMatchObject({ code: 'FailedOperation' });
      expect(await deps.media.get(x.fileId, APP)).toBeDefined();
      expect(await exists(x.key)).toBe(true);
    } else {
      expect(start.reason).toMatchObject({ code: 'InvalidParameterValue.FileId' });
      expect(del.status).toBe('fulfilled');
      expect(await exists(x.key)).toBe(false);
    }
  }

  // A refused DeleteMedia takes its tombstone back: the media stays usable.
  const y = await newMedia();
  await startTask(y);
  expect(await refusal(deleteMedia(deps, APP, { FileId: y.fileId }))).toMatchObject({
    code: 'FailedOperation',
  });
  expect(await usableMedia(deps.media, y.fileId, APP)).toMatchObject({ fileId: y.fileId });
  expect(await startTask(y)).toMatchObject({ TaskId: expect.any(String) });

  // DeleteParts OriginalFiles marks the source deleted first: no task can start on it either.
  const z = await newMedia();
  expect(
    await deleteMedia(deps, APP, { FileId: z.fileId, DeleteParts: [{ Type: 'OriginalFiles' }] }),
  ).toEqual({});
  expect(await refusal(startTask(z))).toMatchObject({ code: 'InvalidParameterValue.FileId' });
  expect(await exists(z.key)).toBe(false);
}, 60_000);

test('after DeleteMedia the trigger writes nothing: no ghost item, the tombstone (with TTL) refuses a redelivery', async () => {
  const repo = deps.media;
  // Updates of a media that never existed create nothing.
  const ghost = '5999999999999999999';
  expect(await repo.markReady(ghost, probe, new Date().toISOString())).toBe(false);
  expect(await repo.markFailed(ghost, 'x', new Date().toISOString())).toBe(false);
  expect(await repo.setProcedureResult(ghost, { procedureTaskId: 't' }, new Date().toISOString())).toBe(
    false,
  );
  expect(
    (await doc.send(new GetCommand({ TableName: 'media', Key: { pk: `MEDIA#${ghost}` } }))).Item,
  ).toBeUndefined();

  // An upload deleted while ffprobe reads it, then delivered again.
  const key = `uploads/${APP}/trigger/late.mp4`;
  await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: readFileSync(REAL) }));
  const obj = { bucket: BUCKET, key, size: 1, sequencer: '00AA' };
  const fileId = uploadFileId(obj);
  const events: unknown[] = [];
  const flows: unknown[] = [];
  const reg: RegistrationDeps = {
    media: repo,
    storage: {
      presignGet: async () => {
        expect(await deleteMedia(deps, APP, { FileId: fileId })).toEqual({});
        return REAL;
      },
      publicUrl: (k) => storage.publicUrl(k),
    },
    ffprobe: resolveFfmpeg(process.env).ffprobe,
    clock: Date.now,
    logger: new Logger({ logLevel: 'SILENT' }),
    startProcedure: async (_a, req) => {
      flows.push(req);
      return { taskId: 't' };
    },
    publishNewFileUpload: async (e) => {
      events.push(e);
    },
  };
  expect(await registerUpload(reg, obj, { procedure: 'hd', source: 'tags' })).toEqual({
    fileId,
    status: 'ignored',
  });
  const stone = (await doc.send(new GetCommand({ TableName: 'media', Key: { pk: `MEDIA#${fileId}` } })))
    .Item!;
  expect(stone.deleteTime).toEqual(expect.any(String));
  expect(stone.status).toBe('PENDING');
  expect(stone.expiresAt).toBeGreaterThan(Date.now() / 1000 + 6 * 24 * 3600);
  expect(await exists(key)).toBe(false);
  // S3 delivers the event again later: the put is refused by the tombstone, nothing comes back.
  reg.storage = { presignGet: async () => REAL, publicUrl: (k) => storage.publicUrl(k) };
  expect(await registerUpload(reg, obj, { procedure: 'hd', source: 'tags' })).toEqual({
    fileId,
    status: 'ignored',
  });
  expect(await repo.get(fileId, APP)).toBeUndefined();
  expect(events).toEqual([]);
  expect(flows).toEqual([]);
  expect(await refusal(call('DeleteMedia', APP, { FileId: fileId }))).toMatchObject({
    code: 'ResourceNotFound.FileNotExist',
  });
  const ttl = serviceModel().tables.find((t) => t.logicalId === 'MediaTable')!.properties as Record<
    string,
    unknown
  >;
  expect(ttl.TimeToLiveSpecification).toEqual({ AttributeName: 'expiresAt', Enabled: true });
}, 60_000);

test('two uploads to one key are two media: deleting the older keeps the newer one’s original file', async () => {
  const key = `uploads/${APP}/same/clip.mp4`;
  const put = async (fileId: string, createTime: string) => {
    const m: Media = {
      fileId,
      subAppId: APP,
      status: 'READY',
      name: 'clip',
      bucket: BUCKET,
      key,
      metaData: probe,
      createTime,
      updateTime: createTime,
    };
    await deps.media.put(m);
    return m;
  };
  await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: 'first' }));
  const older = await put('5285485487985279001', '2026-01-01T00:00:00.000Z');
  await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: 'second' }));
  const newer = await put('5285485487985279002', '2026-01-01T00:00:01.000Z');

  expect(await call('DeleteMedia', APP, { FileId: older.fileId })).toEqual({});
  expect(await exists(key)).toBe(true);
  expect(await deps.media.getByStoragePath(`/${key}`, APP)).toMatchObject({ fileId: newer.fileId });
  expect(await usableMedia(deps.media, newer.fileId, APP)).toMatchObject({ fileId: newer.fileId });

  // The last media of the key takes the object with it.
  expect(await call('DeleteMedia', APP, { FileId: newer.fileId })).toEqual({});
  expect(await exists(key)).toBe(false);
  expect(await deps.media.getByStoragePath(`/${key}`, APP)).toBeUndefined();
});

test('local S3: creation tags reach keys with a space and a +, and an untagged PUT over a tagged key clears them', async () => {
  const events: S3EventRecord[] = [];
  const port = await freePort();
  const local = await startS3({
    port,
    dataDir: mkdtempSync(path.join(dir, 's3-tags-')),
    onObjectCreated: (r) => events.push(r),
  });
  try {
    const c = new S3Client({ ...localS3ClientOptions, endpoint: local.endpoint });
    await c.send(new CreateBucketCommand({ Bucket: 'tags' }));
    const tagsOf = async (Key: string) =>
      ((await c.send(new GetObjectTaggingCommand({ Bucket: 'tags', Key }))).TagSet ?? []).map(
        (t) => `${t.Key}=${t.Value}`,
      );
    const settle = async (n: number) => {
      for (let i = 0; i < 100 && events.length < n; i++) await new Promise((r) => setTimeout(r, 20));
      expect(events).toHaveLength(n);
    };

    const key = 'uploads/1/a b+c.mp4';
    const created = await c.send(
      new CreateMultipartUploadCommand({ Bucket: 'tags', Key: key, Tagging: 'procedure=hd' }),
    );
    const part = await c.send(
      new UploadPartCommand({
        Bucket: 'tags',
        Key: key,
        UploadId: created.UploadId,
        PartNumber: 1,
        Body: Buffer.alloc(1024, 1),
      }),
    );
    await c.send(
      new CompleteMultipartUploadCommand({
        Bucket: 'tags',
        Key: key,
        UploadId: created.UploadId,
        MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] },
      }),
    );
    await settle(1);
    expect(decodeS3Key(events[0].s3.object.key)).toBe(key);
    expect(await tagsOf(key)).toEqual(['procedure=hd']);

    await c.send(new PutObjectCommand({ Bucket: 'tags', Key: key, Body: 'untagged' }));
    await settle(2);
    expect(await tagsOf(key)).toEqual([]);

    const other = 'uploads/1/x y+z.mp4';
    await c.send(
      new PutObjectCommand({ Bucket: 'tags', Key: other, Body: 'tagged', Tagging: 'procedure=sd' }),
    );
    await settle(3);
    expect(await tagsOf(other)).toEqual(['procedure=sd']);
  } finally {
    await local.stop();
  }
}, 60_000);
