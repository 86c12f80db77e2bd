/**
 * Custom templates and task-flow templates end to end, through the official Tencent SDK client against
 * `npm start`: a custom transcode template (480p HEVC MP4, 15 fps, 600 kbps, mono) and a custom sample-snapshot
 * template (PNG every 2 s) in a task-flow template with a preset; ProcessMediaByProcedure on an uploaded media;
 * outputs downloaded and probed; template changes after submission leave the running flow alone; in-use
 * refusals; MediaStoragePath.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import {
  shutdownSystem,
  startInFreshDir,
  type Credentials,
  type RunningSystem,
} from '../helpers/local-system';
import {
  apiError,
  download,
  ffmpeg,
  localDoc,
  localS3,
  probe,
  results,
  vodClient,
  waitFinish as finished,
  type VodClient as Client,
} from '../helpers/sdk';

const run = promisify(execFile);

let sys: RunningSystem | undefined;
let dataDir: string;
let work: string;
let client: Client;
let ddb: DynamoDBDocumentClient;
let s3: S3Client;
let creds: Credentials;

const CLIP_SECONDS = 7;
/** The source's luma rises linearly with time (20 + 25·t), so a still's brightness tells when it was taken. */
const lumaAt = (t: number) => 20 + 25 * t;

const waitFinish = (taskId: string) => finished(client, taskId);

/** Mean luma (0–255) of an image, by ffmpeg's signalstats. */
async function meanLuma(file: string): Promise<number> {
  const { stdout } = await run('ffprobe', [
    '-v',
    'error',
    '-f',
    'lavfi',
    `movie=${file},format=yuv444p,signalstats`,
    '-show_entries',
    'frame_tags=lavfi.signalstats.YAVG',
    '-of',
    'csv=p=0',
  ]);
  return Number(stdout.trim().split('\n')[0]);
}

const rate = (r: string) => {
  const [n, d] = r.split('/').map(Number);
  return n / (d || 1);
};

/** Uploads a file under uploads/<SubAppId>/ with a plain S3 client and waits for its registration (READY). */
async function upload(file: string, name: string): Promise<{ fileId: string; key: string }> {
  const key = `uploads/${creds.SubAppId}/${name}`;
  await s3.send(new PutObjectCommand({ Bucket: creds.MediaBucket, Key: key, Body: readFileSync(file) }));
  for (let i = 0; i < 300; i++) {
    const out = await ddb.send(
      new ScanCommand({
        TableName: 'openvod-dev-media',
        FilterExpression: '#k = :k',
        ExpressionAttributeNames: { '#k': 'key' },
        ExpressionAttributeValues: { ':k': key },
      }),
    );
    const m = out.Items?.[0];
    if (m?.status === 'READY') return { fileId: String(m.fileId), key };
    if (m?.status === 'FAILED') throw new Error(`upload ${key} failed to register: ${String(m.failReason)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`upload ${key} was not registered`);
}

beforeAll(async () => {
  work = mkdtempSync(path.join(tmpdir(), 'openvod-proc-work-'));
  // 960×540 30 fps, luma 20 + 25·t with grain (so a bitrate target is reached), stereo 48 kHz audio.
  await ffmpeg([
    '-f',
    'lavfi',
    '-i',
    `nullsrc=s=960x540:r=30:d=${CLIP_SECONDS},geq=lum='20+25*T':cb=128:cr=128,noise=alls=12:allf=t,format=yuv420p`,
    '-f',
    'lavfi',
    '-i',
    `sine=frequency=440:sample_rate=48000:d=${CLIP_SECONDS}`,
    '-filter_complex',
    '[1:a]pan=stereo|c0=c0|c1=0.5*c0[a]',
    '-map',
    '0:v',
    '-map',
    '[a]',
    '-c:v',
    'libx264',
    '-preset',
    'ultrafast',
    '-crf',
    '32',
    '-c:a',
    'aac',
    '-shortest',
    path.join(work, 'clip.mp4'),
  ]);
  let port: number;
  ({ sys, dataDir, port, creds } = await startInFreshDir('openvod-proc-'));
  client = vodClient(port, creds.SecretId, creds.SecretKey);
  ddb = localDoc(creds.DynamoDBEndpoint);
  s3 = localS3(creds.S3Endpoint);
}, 150_000);

afterAll(async () => {
  await shutdownSystem(sys);
  ddb?.destroy();
  s3?.destroy();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  rmSync(work, { recursive: true, force: true });
});

test('a task-flow template with custom templates and a preset runs by name; outputs probe as the templates say', async () => {
  const { fileId, key } = await upload(path.join(work, 'clip.mp4'), 'clip.mp4');

  const { Definition: transcode } = await client.CreateTranscodeTemplate({
    Name: '480p-hevc-mono',
    Container: 'mp4',
    VideoTemplate: {
      Codec: 'libx265',
      Fps: 15,
      Bitrate: 600,
      ResolutionAdaptive: 'open',
      Width: 0,
      Height: 480,
    },
    AudioTemplate: { Codec: 'libfdk_aac', Bitrate: 64, SampleRate: 44100, AudioChannel: 1 },
  });
  const { Definition: snapshots } = await client.CreateSampleSnapshotTemplate({
    Name: 'png-every-2s',
    SampleType: 'Time',
    SampleInterval: 2,
    Format: 'png',
  });
  expect(Number(transcode)).toBeGreaterThanOrEqual(1_000_000);
  expect(Number(snapshots)).toBeGreaterThanOrEqual(1_000_000);
  const described = await client.DescribeTranscodeTemplates({ Definitions: [Number(transcode)] });
  expect(described.TotalCount).toBe(1);
  expect(described.TranscodeTemplateSet?.[0]).toMatchObject({
    Definition: String(transcode),
    Type: 'Custom',
    Name: '480p-hevc-mono',
    Container: 'mp4',
    VideoTemplate: { Codec: 'libx265', Fps: 15, Bitrate: 600, Height: 480 },
    AudioTemplate: { AudioChannel: 1 },
  });

  await client.CreateProcedureTemplate({
    Name: 'hevc-and-stills',
    Comment: 'custom transcode + custom snapshots + preset sprite',
    MediaProcessTask: {
      TranscodeTaskSet: [{ Definition: Number(transcode) }],
      SampleSnapshotTaskSet: [{ Definition: Number(snapshots) }],
      ImageSpriteTaskSet: [{ Definition: 10 }],
    },
  });
  const procs = await client.DescribeProcedureTemplates({ Names: ['hevc-and-stills'] });
  expect(procs.TotalCount).toBe(1);
  expect(procs.ProcedureTemplateSet?.[0]).toMatchObject({
    Name: 'hevc-and-stills',
    Type: 'Custom',
    MediaProcessTask: { TranscodeTaskSet: [{ Definition: Number(transcode) }] },
  });

  // In use: refused, naming the task-flow template.
  const inUse = await apiError(client.DeleteTranscodeTemplate({ Definition: Number(transcode) }));
  expect(inUse.code).toBe('FailedOperation');
  expect(inUse.message).toContain('hevc-and-stills');
  // Presets are immutable.
  expect((await apiError(client.DeleteTranscodeTemplate({ Definition: 100010 }))).code).toBe(
    'InvalidParameterValue.Definition',
  );
  expect((await apiError(client.ModifySampleSnapshotTemplate({ Definition: 10, Name: 'mine' }))).code).toBe(
    'InvalidParameterValue.Definition',
  );

  const { TaskId } = await client.ProcessMediaByProcedure({
    ProcedureName: 'hevc-and-stills',
    FileId: fileId,
    SessionContext: 'e2e',
  });
  expect(TaskId).toMatch(/procedurev2/);

  // Right after submission: change the template, then delete the task flow and both custom templates.
  await client.ModifyTranscodeTemplate({
    Definition: Number(transcode),
    VideoTemplate: { Fps: 25, Bitrate: 1500 },
    AudioTemplate: { AudioChannel: 2 },
  });
  await client.DeleteProcedureTemplate({ Name: 'hevc-and-stills' });
  await client.DeleteTranscodeTemplate({ Definition: Number(transcode) });
  await client.DeleteSampleSnapshotTemplate({ Definition: Number(snapshots) });
  expect((await client.DescribeTranscodeTemplates({ Type: 'Custom' })).TotalCount).toBe(0);
  expect(
    (await apiError(client.ProcessMediaByProcedure({ ProcedureName: 'hevc-and-stills', FileId: fileId })))
      .code,
  ).toBe('InvalidParameterValue.ProcedureName');

  // The running flow is unaffected: it runs from the templates as they were at submission.
  const detail = await waitFinish(TaskId!);
  expect(detail.ProcedureTask?.SessionContext).toBe('e2e');
  const r = results(detail);
  expect(r.map((x) => [x.type, x.Status, x.ErrCode, x.Message])).toEqual([
    ['Transcode', 'SUCCESS', 0, 'SUCCESS'],
    ['SampleSnapshot', 'SUCCESS', 0, 'SUCCESS'],
    ['ImageSprites', 'SUCCESS', 0, 'SUCCESS'],
  ]);
  expect(r[0].Input.Definition).toBe(Number(transcode));

  const mp4 = await probe(await download(r[0].Output.Url!, path.join(work, 'out.mp4')));
  const v = mp4.streams.find((s) => s.codec_type === 'video')!;
  const a = mp4.streams.find((s) => s.codec_type === 'audio')!;
  expect(mp4.format.format_name).toContain('mp4');
  expect([v.codec_name, v.height]).toEqual(['hevc', 480]);
  expect(Math.abs(v.width! - (960 * 480) / 540)).toBeLessThanOrEqual(2);
  expect(rate(v.avg_frame_rate!)).toBeCloseTo(15, 0);
  expect(Math.abs(Number(v.nb_frames) - 15 * CLIP_SECONDS)).toBeLessThanOrEqual(2);
  // 600 kbps within 25 %.
  expect(Number(v.bit_rate) / 1000).toBeGreaterThan(450);
  expect(Number(v.bit_rate) / 1000).toBeLessThan(750);
  expect([a.codec_name, a.channels]).toEqual(['aac', 1]);
  expect(Math.abs(Number(mp4.format.duration) - CLIP_SECONDS)).toBeLessThan(0.5);

  // PNG every 2 s over 7 s: at 0, 2, 4 and 6 s (their brightness tells the time they were taken at).
  const images = r[1].Output.ImageUrlSet as string[];
  expect(images).toHaveLength(Math.ceil(CLIP_SECONDS / 2));
  for (const [i, url] of images.entries()) {
    const file = await download(url, path.join(work, `still-${i}.png`));
    const p = await probe(file);
    expect([p.streams[0].codec_name, p.streams[0].width, p.streams[0].height]).toEqual(['png', 960, 540]);
    // Reference: the source's own frame at that time, measured the same way.
    const ref = path.join(work, `ref-${i}.png`);
    await ffmpeg(['-ss', String(i * 2), '-i', path.join(work, 'clip.mp4'), '-frames:v', '1', ref]);
    const y = await meanLuma(file);
    expect(Math.abs(y - (await meanLuma(ref)))).toBeLessThan(4);
    expect(Math.abs(y - lumaAt(i * 2))).toBeLessThan(12);
  }
  // The preset sprite ran alongside.
  expect(Number(r[2].Output.TotalCount)).toBeGreaterThanOrEqual(1);

  // MediaStoragePath (`/<key>`) names the same media.
  await client.CreateProcedureTemplate({
    Name: 'sprite-only',
    MediaProcessTask: { ImageSpriteTaskSet: [{ Definition: 10 }] },
  });
  const byPath = await client.ProcessMediaByProcedure({
    ProcedureName: 'sprite-only',
    MediaStoragePath: `/${key}`,
  });
  const pathDetail = await waitFinish(byPath.TaskId!);
  expect(pathDetail.ProcedureTask?.FileId).toBe(fileId);
  expect(results(pathDetail).map((x) => x.Status)).toEqual(['SUCCESS']);
  expect(
    (
      await apiError(
        client.ProcessMediaByProcedure({
          ProcedureName: 'sprite-only',
          MediaStoragePath: '/uploads/none.mp4',
        }),
      )
    ).code,
  ).toBe('InvalidParameterValue.MediaStoragePath');
  await client.DeleteProcedureTemplate({ Name: 'sprite-only' });
  expect((await client.DescribeProcedureTemplates({})).TotalCount).toBe(0);
}, 400_000);
