/**
 * Task flows end to end, through the official Tencent SDK client against `npm start` (tsx local/main.ts):
 * submission by Url and by FileId, every subtask kind on real ffmpeg, outputs downloaded and probed,
 * failure paths, SessionId dedupe under concurrency, priority order under the per-app cap, and the
 * Fargate branch (inputs longer than OPENVOD_FARGATE_MIN_DURATION_S run as a child "container").
 */
import {
  mkdtempSync,
  rmSync,
  writeFileSync,
  readFileSync,
  copyFileSync,
  createReadStream,
  statSync,
} from 'node:fs';
import * as http from 'node:http';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { DynamoDBDocumentClient, QueryCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import {
  readCredentials,
  runCli,
  shutdownSystem,
  startInFreshDir,
  type RunningSystem,
} from '../helpers/local-system';
import {
  apiError,
  download,
  ffmpeg,
  localDoc,
  probe,
  results,
  type TaskDetail as Detail,
  testClip,
  vodClient,
  type VodClient as Client,
} from '../helpers/sdk';

const REAL = path.resolve(__dirname, '../../../shared/media/real-footage-320x192-5994.mp4');

let sys: RunningSystem | undefined;
let dataDir: string;
let mediaDir: string;
let mediaServer: http.Server;
let mediaBase: string;
let port: number;
let client: Client;
let ddb: DynamoDBDocumentClient;
const hanging: http.ServerResponse[] = [];

const makeClient = (secretId: string, secretKey: string): Client => vodClient(port, secretId, secretKey);

async function waitFinish(
  c: Client,
  taskId: string,
  timeoutMs = 240_000,
): Promise<{ detail: Detail; seen: string[]; progress: number[] }> {
  const started = Date.now();
  const seen: string[] = [];
  const progress: number[] = [];
  for (;;) {
    const d = await c.DescribeTaskDetail({ TaskId: taskId });
    if (seen[seen.length - 1] !== d.Status) seen.push(String(d.Status));
    for (const r of d.ProcedureTask?.MediaProcessResultSet ?? []) {
      const sub = Object.values(r).find((v) => v && typeof v === 'object') as
        { Progress?: number } | undefined;
      if (sub?.Progress !== undefined) progress.push(sub.Progress);
    }
    if (d.Status === 'FINISH') return { detail: d, seen, progress };
    if (Date.now() - started > timeoutMs)
      throw new Error(`task ${taskId} not finished after ${timeoutMs} ms: ${JSON.stringify(d)}`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

beforeAll(async () => {
  mediaDir = mkdtempSync(path.join(tmpdir(), 'openvod-media-'));
  // Test media: the real clip plus generated patterns.
  copyFileSync(REAL, path.join(mediaDir, 'real.mp4'));
  await testClip(path.join(mediaDir, 'short.mp4'), { size: '320x180', rate: 30, seconds: 4, toneHz: 440 });
  await ffmpeg([
    '-f',
    'lavfi',
    '-i',
    'sine=frequency=440:sample_rate=44100',
    '-t',
    '3',
    '-c:a',
    'aac',
    path.join(mediaDir, 'audio.m4a'),
  ]);
  await testClip(path.join(mediaDir, 'long720.mp4'), {
    size: '1280x720',
    rate: 30,
    seconds: 15,
    toneHz: 220,
    ultrafast: true,
  });
  writeFileSync(path.join(mediaDir, 'notes.txt'), 'this is not a video\n'.repeat(100));
  const real = readFileSync(REAL);
  writeFileSync(path.join(mediaDir, 'truncated.mp4'), real.subarray(0, Math.floor(real.length * 0.3)));
  mediaServer = http.createServer((req, res) => {
    const name = decodeURIComponent((req.url ?? '/').slice(1));
    if (name === 'hang') {
      hanging.push(res);
      return;
    }
    try {
      const file = path.join(mediaDir, path.basename(name));
      const size = statSync(file).size;
      res.writeHead(200, { 'content-length': size, 'content-type': 'application/octet-stream' });
      createReadStream(file).pipe(res);
    } catch {
      res.writeHead(404).end('not found');
    }
  });
  await new Promise<void>((r) => mediaServer.listen(0, '127.0.0.1', () => r()));
  mediaBase = `http://127.0.0.1:${(mediaServer.address() as { port: number }).port}`;

  process.env.OPENVOD_FARGATE_MIN_DURATION_S = '20'; // the 24.5 s real clip runs on "Fargate"
  process.env.OPENVOD_MAX_CONCURRENT_FLOWS_PER_APP = '1';
  process.env.OPENVOD_FETCH_TIMEOUT_MS = '2000';
  process.env.OPENVOD_PROGRESS_INTERVAL_MS = '200';
  const started = await startInFreshDir('openvod-flow-');
  ({ sys, dataDir, port } = started);
  client = makeClient(started.creds.SecretId, started.creds.SecretKey);
  ddb = localDoc(started.creds.DynamoDBEndpoint);
}, 150_000);

afterAll(async () => {
  for (const r of hanging) r.destroy();
  await shutdownSystem(sys);
  await new Promise<void>((r) => mediaServer?.close(() => r()));
  ddb?.destroy();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  rmSync(mediaDir, { recursive: true, force: true });
});

let realFileId = '';

test('ProcessMedia by Url: TaskId at once, then FINISH with every output downloadable and as its template says', async () => {
  const t0 = Date.now();
  const { TaskId } = await client.ProcessMedia({
    Url: `${mediaBase}/real.mp4`,
    MediaProcessTask: {
      TranscodeTaskSet: [{ Definition: 100010 }, { Definition: 100210 }],
      SampleSnapshotTaskSet: [{ Definition: 10 }],
      ImageSpriteTaskSet: [{ Definition: 10 }],
    },
    SessionContext: 'order-42',
  });
  const answeredMs = Date.now() - t0;
  expect(TaskId).toMatch(/procedurev2/);
  const first = await client.DescribeTaskDetail({ TaskId: TaskId! });
  expect(['WAITING', 'PROCESSING']).toContain(first.Status);
  expect(answeredMs).toBeLessThan(10_000);

  const { detail, seen, progress } = await waitFinish(client, TaskId!);
  expect(seen[seen.length - 1]).toBe('FINISH');
  expect(detail.ProcedureTask?.SessionContext).toBe('order-42');
  expect(detail.BeginProcessTime).not.toBe('');
  expect(Date.parse(detail.FinishTime!)).toBeGreaterThanOrEqual(Date.parse(detail.BeginProcessTime!));
  expect(progress.every((p) => p >= 0 && p <= 100)).toBe(true);
  realFileId = String(detail.ProcedureTask?.FileId);
  expect(realFileId).toMatch(/^\d+$/);
  expect(detail.ProcedureTask?.MetaData?.Width).toBe(320);

  const r = results(detail);
  expect(r.map((x) => [x.type, x.Status, x.ErrCode])).toEqual([
    ['Transcode', 'SUCCESS', 0],
    ['Transcode', 'SUCCESS', 0],
    ['SampleSnapshot', 'SUCCESS', 0],
    ['ImageSprites', 'SUCCESS', 0],
  ]);
  const work = mkdtempSync(path.join(tmpdir(), 'openvod-out-'));
  try {
    // 100010: MP4, H.264 + AAC, 25 fps; the 320×192 source is not upscaled.
    const mp4 = await probe(await download(r[0].Output.Url!, path.join(work, 'a.mp4')));
    const v = mp4.streams.find((s) => s.codec_type === 'video')!;
    const a = mp4.streams.find((s) => s.codec_type === 'audio')!;
    expect(mp4.format.format_name).toContain('mp4');
    expect([v.codec_name, v.width, v.height, v.r_frame_rate]).toEqual(['h264', 320, 192, '25/1']);
    expect([a.codec_name, a.sample_rate]).toEqual(['aac', '44100']);
    expect(Math.abs(Number(mp4.format.duration) - 24.5)).toBeLessThan(1);
    expect(r[0].Output.Container).toBe('mp4');
    expect(r[0].Output.Md5).toMatch(/^[0-9a-f]{32}$/);
    expect(Number(r[0].Output.Size)).toBe(statSync(path.join(work, 'a.mp4')).size);
    // 100210: HLS playlist with downloadable segments.
    const playlist = await (await fetch(r[1].Output.Url!)).text();
    expect(playlist).toContain('#EXTM3U');
    const hls = await probe(r[1].Output.Url!);
    expect(hls.streams.find((s) => s.codec_type === 'video')?.codec_name).toBe('h264');
    // Sample snapshot 10: every 10 % → 10 JPEGs.
    const images = r[2].Output.ImageUrlSet as string[];
    expect(images).toHaveLength(10);
    const jpg = await probe(await download(images[3], path.join(work, 's.jpg')));
    expect(jpg.streams[0].codec_name).toBe('mjpeg');
    // Image sprite 10: 142×80 tiles every 10 s → 3 tiles in one sprite image, with a WebVTT index.
    expect(r[3].Output.Width).toBe(142);
    expect(r[3].Output.Height).toBe(80);
    const vtt = await (await fetch(String(r[3].Output.WebVttUrl))).text();
    expect(vtt.startsWith('WEBVTT')).toBe(true);
    expect(vtt.match(/-->/g)?.length).toBe(Number(r[3].Output.TotalCount));
    expect(Number(r[3].Output.TotalCount)).toBe(3);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }

  // The 24.5 s input is over the Fargate threshold (20 s): every subtask ran on the container engine.
  const items = await ddb.send(
    new QueryCommand({
      TableName: 'openvod-dev-tasks',
      KeyConditionExpression: 'pk = :p',
      ExpressionAttributeValues: { ':p': `TASK#${TaskId}` },
    }),
  );
  const engines = (items.Items ?? []).filter((i) => String(i.sk).startsWith('SUB#')).map((i) => i.engine);
  expect(engines).toEqual(['fargate', 'fargate', 'fargate', 'fargate']);
}, 300_000);

test('ProcessMedia by FileId runs the other subtask kinds on the Lambda engine', async () => {
  const { TaskId: shortTask } = await client.ProcessMedia({
    Url: `${mediaBase}/short.mp4`,
    MediaProcessTask: { TranscodeTaskSet: [{ Definition: 875 }] },
  });
  const short = await waitFinish(client, shortTask!);
  expect(results(short.detail)[0].Status).toBe('SUCCESS');
  const fileId = String(short.detail.ProcedureTask?.FileId);

  const { TaskId } = await client.ProcessMedia({
    FileId: fileId,
    MediaProcessTask: {
      SnapshotByTimeOffsetTaskSet: [{ Definition: 10, ExtTimeOffsetSet: ['1s', '50%'] }],
      CoverBySnapshotTaskSet: [{ Definition: 10, PositionType: 'Time', PositionValue: 2 }],
      AnimatedGraphicTaskSet: [{ Definition: 20000, StartTimeOffset: 0, EndTimeOffset: 2 }],
      AdaptiveDynamicStreamingTaskSet: [{ Definition: 10 }],
    },
  });
  const { detail } = await waitFinish(client, TaskId!);
  const r = results(detail);
  expect(r.map((x) => [x.type, x.Status])).toEqual([
    ['SnapshotByTimeOffset', 'SUCCESS'],
    ['CoverBySnapshot', 'SUCCESS'],
    ['AdaptiveDynamicStreaming', 'SUCCESS'],
    ['AnimatedGraphics', 'SUCCESS'],
  ]);
  const pics = r[0].Output.PicInfoSet as Array<{ TimeOffset: number; Url: string }>;
  expect(pics.map((p) => p.TimeOffset)).toEqual([1000, 2000]);
  expect((await probe(pics[1].Url)).streams[0].codec_name).toBe('mjpeg');
  expect((await probe(String(r[1].Output.CoverUrl))).streams[0].codec_type).toBe('video');
  const master = await (await fetch(String(r[2].Output.Url))).text();
  expect(master).toContain('#EXT-X-STREAM-INF');
  const gif = await probe(String(r[3].Output.Url));
  expect(gif.streams[0].codec_name).toBe('gif');
  expect(r[3].Output.Container).toBe('gif');

  const items = await ddb.send(
    new QueryCommand({
      TableName: 'openvod-dev-tasks',
      KeyConditionExpression: 'pk = :p',
      ExpressionAttributeValues: { ':p': `TASK#${TaskId}` },
    }),
  );
  expect(
    new Set((items.Items ?? []).filter((i) => String(i.sk).startsWith('SUB#')).map((i) => i.engine)),
  ).toEqual(new Set(['lambda']));
}, 300_000);

test.each([
  ['a URL that answers 404', 'missing.mp4', /404/],
  ['a non-media file', 'notes.txt', /not|invalid|media/i],
  ['a truncated file', 'truncated.mp4', /./],
  ['a URL that never answers', 'hang', /answer|data|within/i],
])(
  '%s ends every subtask FAIL with ErrCode 60000 and a clear message',
  async (_what, name, message) => {
    const started = Date.now();
    const { TaskId } = await client.ProcessMedia({
      Url: `${mediaBase}/${name}`,
      MediaProcessTask: {
        TranscodeTaskSet: [{ Definition: 100010 }],
        SampleSnapshotTaskSet: [{ Definition: 10 }],
      },
    });
    const { detail } = await waitFinish(client, TaskId!, 90_000);
    for (const r of results(detail)) {
      expect(r.Status).toBe('FAIL');
      expect(r.ErrCode).toBe(60000);
      expect(r.Message).toMatch(message);
    }
    expect(Date.now() - started).toBeLessThan(90_000);
  },
  120_000,
);

test('an audio-only source: snapshots FAIL 60000 (no video), an audio preset succeeds', async () => {
  const { TaskId } = await client.ProcessMedia({
    Url: `${mediaBase}/audio.m4a`,
    MediaProcessTask: {
      TranscodeTaskSet: [{ Definition: 1010 }],
      SampleSnapshotTaskSet: [{ Definition: 10 }],
    },
  });
  const { detail } = await waitFinish(client, TaskId!, 90_000);
  const r = results(detail);
  expect([r[0].Status, r[1].Status, r[1].ErrCode]).toEqual(['SUCCESS', 'FAIL', 60000]);
  expect(r[1].Message).toMatch(/video/i);
  const mp3 = await probe(String(r[0].Output.Url));
  expect(mp3.streams.map((s) => s.codec_name)).toEqual(['mp3']);
}, 120_000);

test('bad submissions are refused at once with InvalidParameterValue naming the field', async () => {
  const bad = (extra: Record<string, unknown>) =>
    apiError(
      client.ProcessMedia({
        Url: `${mediaBase}/short.mp4`,
        MediaProcessTask: { TranscodeTaskSet: [{ Definition: 100010 }] },
        ...extra,
      } as never),
    );
  expect((await bad({ MediaProcessTask: { TranscodeTaskSet: [{ Definition: 99999999 }] } })).code).toBe(
    'InvalidParameterValue.Definition',
  );
  expect((await bad({ TasksPriority: 11 })).code).toBe('InvalidParameterValue.TasksPriority');
  expect((await bad({ SessionContext: 'x'.repeat(1001) })).code).toBe('InvalidParameterValue.SessionContext');
  expect((await bad({ Url: 'ftp://example.com/a.mp4' })).code).toBe('InvalidParameterValue.Url');
  expect((await bad({ Url: 'http://10.1.2.3/a.mp4' })).code).toBe('InvalidParameterValue.Url');
  expect((await bad({ Url: 'http://169.254.169.254/latest/meta-data' })).code).toBe(
    'InvalidParameterValue.Url',
  );
  expect(
    (await bad({ MediaProcessTask: { TranscodeTaskSet: [{ Definition: 100010, WatermarkSet: [] }] } }))
      .message,
  ).toMatch(/not supported/);
  expect((await bad({ MediaProcessTask: {} })).code).toBe('InvalidParameter');
  expect((await bad({ TasksNotifyMode: 'Sometimes' })).code).toBe('InvalidParameterValue.TasksNotifyMode');
  // Another app's FileId does not exist for this app.
  const other = JSON.parse(await runCli(dataDir, ['app', 'create', '--name', 'other', '--json'])) as {
    SecretId: string;
    SecretKey: string;
  };
  const e = await apiError(
    makeClient(other.SecretId, other.SecretKey).ProcessMedia({
      FileId: realFileId,
      MediaProcessTask: { TranscodeTaskSet: [{ Definition: 875 }] },
    }),
  );
  expect(e.code).toBe('InvalidParameterValue.FileId');
  const t = await apiError(
    makeClient(other.SecretId, other.SecretKey).DescribeTaskDetail({ TaskId: 'nope' }),
  );
  expect(t.code).toBe('InvalidParameterValue.TaskId');
}, 60_000);

test('SessionId: of concurrent requests with the same SessionId exactly one passes; the others name its TaskId', async () => {
  const sessionId = `s-${Date.now()}`;
  const attempts = await Promise.allSettled(
    Array.from({ length: 6 }, () =>
      client.ProcessMedia({
        FileId: realFileId,
        SessionId: sessionId,
        MediaProcessTask: { TranscodeTaskSet: [{ Definition: 875 }] },
      }),
    ),
  );
  const ok = attempts.filter((a) => a.status === 'fulfilled') as Array<
    PromiseFulfilledResult<{ TaskId?: string }>
  >;
  const refused = attempts.filter((a) => a.status === 'rejected') as PromiseRejectedResult[];
  expect(ok).toHaveLength(1);
  expect(refused).toHaveLength(5);
  for (const r of refused) {
    expect((r.reason as { code: string }).code).toBe('InvalidParameterValue.SessionId');
    expect(String((r.reason as Error).message)).toContain(String(ok[0].value.TaskId));
  }
  await waitFinish(client, ok[0].value.TaskId!);
}, 120_000);

test('with one flow at a time per app, waiting flows start highest TasksPriority first, then oldest', async () => {
  const app = JSON.parse(await runCli(dataDir, ['app', 'create', '--name', 'prio', '--json'])) as {
    SecretId: string;
    SecretKey: string;
  };
  const c = makeClient(app.SecretId, app.SecretKey);
  // A long first flow (the 24.5 s clip) holds the app's only slot while the others are submitted.
  const { TaskId: first } = await c.ProcessMedia({
    Url: `${mediaBase}/real.mp4`,
    MediaProcessTask: { TranscodeTaskSet: [{ Definition: 100010 }] },
  });
  // Let it take the slot before the others arrive.
  for (let i = 0; i < 100 && (await c.DescribeTaskDetail({ TaskId: first! })).Status === 'WAITING'; i++) {
    await new Promise((r) => setTimeout(r, 50));
  }
  const submit = async (priority: number) =>
    (
      await c.ProcessMedia({
        Url: `${mediaBase}/short.mp4`,
        TasksPriority: priority,
        MediaProcessTask: { TranscodeTaskSet: [{ Definition: 875 }] },
      })
    ).TaskId!;
  const low = await submit(-5);
  const mid1 = await submit(0);
  const high = await submit(8);
  const mid2 = await submit(0);
  const waiting = await c.DescribeTaskDetail({ TaskId: mid2 });
  expect(waiting.Status).toBe('WAITING');
  const begin: Array<[string, number]> = [];
  for (const id of [first, low, mid1, high, mid2]) {
    const { detail } = await waitFinish(c, id!);
    begin.push([id!, Date.parse(String(detail.BeginProcessTime))]);
  }
  const order = [...begin].sort((a, b) => a[1] - b[1]).map(([id]) => id);
  expect(order).toEqual([first, high, mid1, mid2, low]);
  // The cap held: no two flows of the app overlapped.
  const listed = await c.DescribeTasks({ Limit: 100 });
  const spans = (listed.TaskSet ?? [])
    .map((t) => [Date.parse(String(t.BeginProcessTime)), Date.parse(String(t.FinishTime))])
    .sort((a, b) => a[0] - b[0]);
  for (let i = 1; i < spans.length; i++) expect(spans[i][0]).toBeGreaterThanOrEqual(spans[i - 1][1]);
}, 300_000);

test('an object uploaded under uploads/<SubAppId>/ by a plain S3 client is registered as a media', async () => {
  const c = readCredentials(dataDir);
  const s3 = new S3Client({
    region: 'us-east-1',
    endpoint: c.S3Endpoint,
    forcePathStyle: true,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    requestChecksumCalculation: 'WHEN_REQUIRED',
  });
  const key = `uploads/${c.SubAppId}/holiday clip é.MP4`;
  await s3.send(
    new PutObjectCommand({
      Bucket: c.MediaBucket,
      Key: key,
      Body: readFileSync(path.join(mediaDir, 'short.mp4')),
    }),
  );
  await s3.send(
    new PutObjectCommand({
      Bucket: c.MediaBucket,
      Key: `uploads/${c.SubAppId}/notes.txt`,
      Body: 'not a video',
    }),
  );
  const find = async (k: string) =>
    (
      await ddb.send(
        new ScanCommand({
          TableName: 'openvod-dev-media',
          FilterExpression: '#k = :k',
          ExpressionAttributeNames: { '#k': 'key' },
          ExpressionAttributeValues: { ':k': k },
        }),
      )
    ).Items ?? [];
  let media: Record<string, unknown>[] = [];
  let text: Record<string, unknown>[] = [];
  for (let i = 0; i < 100; i++) {
    media = await find(key);
    text = await find(`uploads/${c.SubAppId}/notes.txt`);
    if (media[0]?.status === 'READY' && text[0]?.status === 'FAILED') break;
    await new Promise((r) => setTimeout(r, 200));
  }
  expect(media).toHaveLength(1);
  expect(media[0]).toMatchObject({ status: 'READY', name: 'holiday clip é', subAppId: c.SubAppId });
  expect((media[0].metaData as { video?: { width: number } }).video?.width).toBe(320);
  expect(text[0]).toMatchObject({ status: 'FAILED' });
  // The registered media is processable by its FileId.
  const { TaskId } = await client.ProcessMedia({
    FileId: String(media[0].fileId),
    MediaProcessTask: { TranscodeTaskSet: [{ Definition: 875 }] },
  });
  const { detail } = await waitFinish(client, TaskId!);
  expect(results(detail)[0].Status).toBe('SUCCESS');
  s3.destroy();
}, 120_000);

test('Progress rises while a subtask runs: PROCESSING with 0 < Progress < 100, never going back, then SUCCESS at 100', async () => {
  const { TaskId } = await client.ProcessMedia({
    Url: `${mediaBase}/long720.mp4`,
    MediaProcessTask: { TranscodeTaskSet: [{ Definition: 100030 }] },
  });
  const seen: Array<[string, number]> = [];
  for (let i = 0; i < 600; i++) {
    const d = await client.DescribeTaskDetail({ TaskId: TaskId! });
    const t = d.ProcedureTask?.MediaProcessResultSet?.[0]?.TranscodeTask;
    if (t) seen.push([String(t.Status), Number(t.Progress)]);
    if (d.Status === 'FINISH') break;
    await new Promise((r) => setTimeout(r, 150));
  }
  const progress = seen.map(([, p]) => p);
  expect(seen[seen.length - 1]).toEqual(['SUCCESS', 100]);
  expect(seen.some(([status, p]) => status === 'PROCESSING' && p > 0 && p < 100)).toBe(true);
  for (let i = 1; i < progress.length; i++) expect(progress[i]).toBeGreaterThanOrEqual(progress[i - 1]);
}, 180_000);
