/**
 * The media library end to end, through the official Tencent SDK client against `npm start`: a flow's outputs
 * (Transcode, SampleSnapshot, CoverBySnapshot, AdaptiveDynamicStreaming) show in DescribeMediaInfos and
 * SearchMedia, downloadable and as described; DeleteMedia of the transcode part removes its objects and entry,
 * a whole DeleteMedia removes everything and the FileId can no longer be processed; DeleteMedia is refused while
 * a task of the media runs; another app sees none of it and cannot delete it.
 */
import { mkdtempSync, rmSync, createReadStream, statSync } from 'node:fs';
import * as http from 'node:http';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { freePortRange } from '../helpers/ports';
import {
  readCredentials,
  runCli,
  shutdownSystem,
  startInFreshDir,
  startSystem,
  type RunningSystem,
} from '../helpers/local-system';
import {
  apiError,
  download as downloadTo,
  localDoc,
  probe,
  testClip,
  vodClient,
  type VodClient as Client,
  waitFinish as finished,
} from '../helpers/sdk';

let sys: RunningSystem | undefined;
let dataDir: string;
let mediaDir: string;
let mediaServer: http.Server;
let mediaBase: string;
let port: number;
let client: Client;
let other: Client;

const makeClient = (secretId: string, secretKey: string): Client => vodClient(port, secretId, secretKey);

async function download(url: string, name: string): Promise<{ file: string; size: number }> {
  const file = await downloadTo(url, path.join(mediaDir, name));
  return { file, size: statSync(file).size };
}

const status = async (url: string) => (await fetch(url, { method: 'HEAD' })).status;

const waitFinish = (taskId: string) => finished(client, taskId, 180_000);

beforeAll(async () => {
  mediaDir = mkdtempSync(path.join(tmpdir(), 'openvod-library-media-'));
  await testClip(path.join(mediaDir, 'library-clip.mp4'), {
    size: '320x180',
    rate: 25,
    seconds: 3,
    toneHz: 440,
    ultrafast: true,
  });
  mediaServer = http.createServer((req, res) => {
    try {
      const file = path.join(mediaDir, path.basename(decodeURIComponent((req.url ?? '/').slice(1))));
      res.writeHead(200, { 'content-length': statSync(file).size, 'content-type': 'video/mp4' });
      createReadStream(file).pipe(res);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((r) => mediaServer.listen(0, '127.0.0.1', () => r()));
  mediaBase = `http://127.0.0.1:${(mediaServer.address() as { port: number }).port}`;
  const started = await startInFreshDir('openvod-library-e2e-');
  ({ sys, dataDir, port } = started);
  const c = started.creds;
  client = makeClient(c.SecretId, c.SecretKey);
  const b = JSON.parse(await runCli(dataDir, ['app', 'create', '--name', 'library-b', '--json'])) as {
    SecretId: string;
    SecretKey: string;
  };
  other = makeClient(b.SecretId, b.SecretKey);
}, 150_000);

afterAll(async () => {
  await shutdownSystem(sys);
  await new Promise<void>((r) => mediaServer?.close(() => r()));
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  rmSync(mediaDir, { recursive: true, force: true });
});

test('a flow’s outputs are kept on the media: described, searchable, deletable by part and whole, app by app', async () => {
  const { TaskId } = await client.ProcessMedia({
    Url: `${mediaBase}/library-clip.mp4`,
    MediaProcessTask: {
      TranscodeTaskSet: [{ Definition: 100010 }],
      SampleSnapshotTaskSet: [{ Definition: 10 }],
      CoverBySnapshotTaskSet: [{ Definition: 10, PositionType: 'Time', PositionValue: 1 }],
      AdaptiveDynamicStreamingTaskSet: [{ Definition: 10 }],
    },
  });
  const detail = await waitFinish(TaskId!);
  const statuses = (detail.ProcedureTask?.MediaProcessResultSet ?? []).map((r) => {
    const sub = Object.values(r).find((v) => v && typeof v === 'object') as {
      Status?: string;
      Message?: string;
    };
    return `${r.Type}:${sub.Status}`;
  });
  expect(statuses.sort()).toEqual(
    [
      'AdaptiveDynamicStreaming:SUCCESS',
      'CoverBySnapshot:SUCCESS',
      'SampleSnapshot:SUCCESS',
      'Transcode:SUCCESS',
    ].sort(),
  );
  const fileId = detail.ProcedureTask!.FileId!;

  // DescribeMediaInfos: every output, downloadable and as described.
  const { MediaInfoSet, NotExistFileIdSet } = await client.DescribeMediaInfos({
    FileIds: [fileId, '5000000000000000001'],
  });
  expect(NotExistFileIdSet).toEqual(['5000000000000000001']);
  const info = MediaInfoSet![0];
  expect(info.FileId).toBe(fileId);
  expect(info.BasicInfo).toMatchObject({
    Name: 'library-clip',
    Type: 'mp4',
    Status: 'Normal',
    Category: 'Video',
  });
  const source = await download(info.BasicInfo!.MediaUrl!, 'source.mp4');
  expect(source.size).toBe(statSync(path.join(mediaDir, 'library-clip.mp4')).size);
  expect(info.MetaData).toMatchObject({ Width: 320, Height: 180, Size: source.size });

  const transcodes = info.TranscodeInfo!.TranscodeSet;
  expect(transcodes.map((t) => t.Definition)).toEqual([0, 100010]);
  const t100010 = transcodes[1];
  const got = await download(t100010.Url!, 't100010.mp4');
  expect(got.size).toBe(t100010.Size);
  const video = (await probe(got.file)).streams.find((s) => s.codec_type === 'video')!;
  expect([video.width, video.height]).toEqual([t100010.Width, t100010.Height]);

  const snaps = info.SampleSnapshotInfo!.SampleSnapshotSet;
  expect(snaps).toHaveLength(1);
  expect(snaps[0]).toMatchObject({ Definition: 10, SampleType: 'Percent', Interval: 10 });
  expect(snaps[0].ImageUrlSet!.length).toBeGreaterThan(1);
  const firstSnap = await download(snaps[0].ImageUrlSet![0], 'snap.jpg');
  expect((await probe(firstSnap.file)).streams[0].codec_name).toBe('mjpeg');

  const coverUrl = info.BasicInfo!.CoverUrl!;
  expect(coverUrl).toMatch(/\/cover\/10\//);
  expect((await probe((await download(coverUrl, 'cover.jpg')).file)).streams[0].codec_name).toBe('mjpeg');

  const ads = info.AdaptiveDynamicStreamingInfo!.AdaptiveDynamicStreamingSet;
  expect(ads).toHaveLength(1);
  expect(ads[0]).toMatchObject({ Definition: 10, Package: 'HLS' });
  const master = await (await fetch(ads[0].Url!)).text();
  expect(master).toContain('#EXTM3U');
  const variant = new URL(
    master.split('\n').find((l) => l.endsWith('.m3u8'))!,
    ads[0].Url!,
  ).toString();
  expect(await status(variant)).toBe(200);

  // SearchMedia finds it by name; the other app sees nothing of it.
  const found = await client.SearchMedia({ Names: ['library'], Filters: ['basicInfo'] });
  expect(found.TotalCount).toBe(1);
  expect(found.MediaInfoSet![0].FileId).toBe(fileId);
  expect((await other.DescribeMediaInfos({ FileIds: [fileId] })).NotExistFileIdSet).toEqual([fileId]);
  expect((await other.SearchMedia({})).TotalCount).toBe(0);
  expect((await apiError(other.DeleteMedia({ FileId: fileId }))).code).toBe('ResourceNotFound.FileNotExist');
  expect(await status(t100010.Url!)).toBe(200);

  // While a task of the media waits or runs, DeleteMedia is refused.
  const second = await client.ProcessMedia({
    FileId: fileId,
    MediaProcessTask: { TranscodeTaskSet: [{ Definition: 100010 }] },
  });
  const busy = await apiError(client.DeleteMedia({ FileId: fileId }));
  expect(busy.code).toBe('FailedOperation');
  expect(busy.message).toContain(second.TaskId);
  await waitFinish(second.TaskId!);
  // The re-transcode replaced the 100010 entry: still one.
  const again = await client.DescribeMediaInfos({ FileIds: [fileId], Filters: ['transcodeInfo'] });
  expect(again.MediaInfoSet![0].TranscodeInfo!.TranscodeSet.map((t) => t.Definition)).toEqual([0, 100010]);

  // The transcode part: its objects and entry go, the rest stays.
  await client.DeleteMedia({ FileId: fileId, DeleteParts: [{ Type: 'TranscodeFiles', Definition: 100010 }] });
  expect(await status(t100010.Url!)).toBe(404);
  const partly = (await client.DescribeMediaInfos({ FileIds: [fileId] })).MediaInfoSet![0];
  expect(partly.TranscodeInfo!.TranscodeSet.map((t) => t.Definition)).toEqual([0]);
  expect(partly.SampleSnapshotInfo!.SampleSnapshotSet).toHaveLength(1);
  expect(await status(snaps[0].ImageUrlSet![0])).toBe(200);
  expect(await status(ads[0].Url!)).toBe(200);

  // The whole media: every object goes, the FileId no longer exists and cannot be processed.
  await client.DeleteMedia({ FileId: fileId });
  for (const url of [info.BasicInfo!.MediaUrl!, snaps[0].ImageUrlSet![0], coverUrl, ads[0].Url!, variant]) {
    expect(`${url} ${await status(url)}`).toBe(`${url} 404`);
  }
  expect((await client.DescribeMediaInfos({ FileIds: [fileId] })).NotExistFileIdSet).toEqual([fileId]);
  expect((await client.SearchMedia({ Names: ['library'] })).TotalCount).toBe(0);
  const refused = await apiError(
    client.ProcessMedia({ FileId: fileId, MediaProcessTask: { TranscodeTaskSet: [{ Definition: 100010 }] } }),
  );
  expect(refused.code).toBe('InvalidParameterValue.FileId');
  expect((await apiError(client.DeleteMedia({ FileId: fileId }))).code).toBe('ResourceNotFound.FileNotExist');
}, 300_000);

test('a data directory from before the media library gets its indexes on start, and its media are searchable', async () => {
  const oldDir = mkdtempSync(path.join(tmpdir(), 'openvod-library-old-'));
  let old: RunningSystem | undefined;
  try {
    // The media and tasks tables as an earlier version created them: no byApp / byFileId index.
    const { startDynamoDb } = await import('../../local/emulators/dynamodb');
    const { DynamoDBClient, CreateTableCommand } = await import('@aws-sdk/client-dynamodb');
    const { PutCommand } = await import('@aws-sdk/lib-dynamodb');
    const db = await startDynamoDb({ port: await freePortRange(1), dataDir: oldDir });
    const ddb = new DynamoDBClient({
      region: 'us-east-1',
      endpoint: db.endpoint,
      credentials: { accessKeyId: 'l', secretAccessKey: 'l' },
    });
    await ddb.send(
      new CreateTableCommand({
        TableName: 'openvod-dev-media',
        AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
    const oldPort = await freePortRange(5);
    ddb.destroy();
    await db.stop();

    old = await startSystem(oldPort, oldDir, 90_000);
    const c = readCredentials(oldDir);
    const doc = localDoc(c.DynamoDBEndpoint);
    const now = new Date().toISOString();
    await doc.send(
      new PutCommand({
        TableName: 'openvod-dev-media',
        Item: {
          pk: 'MEDIA#5000000000000000042',
          fileId: '5000000000000000042',
          subAppId: c.SubAppId,
          status: 'READY',
          name: 'kept',
          bucket: c.MediaBucket,
          key: 'k.mp4',
          createTime: now,
          updateTime: now,
        },
      }),
    );
    doc.destroy();
    const oldClient = vodClient(oldPort, c.SecretId, c.SecretKey);
    const found = await oldClient.SearchMedia({ Names: ['kept'] });
    expect(found.MediaInfoSet!.map((m) => m.FileId)).toEqual(['5000000000000000042']);
  } finally {
    await shutdownSystem(old);
    rmSync(oldDir, { recursive: true, force: true });
  }
}, 150_000);
