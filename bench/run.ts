/**
 * `npm run bench`: a report, not a test. Starts the local system (as `npm start` does) and measures:
 *  (a) a 60 s 720p input transcoded to preset 100030 through the whole flow vs the same ffmpeg arguments
 *      run directly on the same machine, in the same run (target ratio ≤ 1.10);
 *  (b) one flow of 4 subtasks vs the sum and the max of the same subtasks run alone;
 *  (c) ProcessMedia submission latency at 50 concurrent calls (target p99 < 100 ms locally);
 *  (d) a 1 GiB upload by multipart: the upload trigger's peak RSS vs a 10 MiB upload (bench/upload.ts).
 *  (e) notification latency: a subtask's final write → its event at a local receiver / from PullEvents (bench/notifications.ts).
 * Prints the figures and the machine. BENCH_QUICK=1 shortens the input (for a smoke run).
 */
import '../local/polyfills';
import { execFile } from 'node:child_process';
import { cpus, totalmem, tmpdir } from 'node:os';
import { mkdtempSync, rmSync, createReadStream, statSync } from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { startLocal } from '../local/runtime';
import { resolveFfmpeg } from '../src/media/ffmpeg-path';
import { probeMedia } from '../src/media/probe';
import { planTranscode } from '../src/media/plans';
import { runFfmpeg } from '../src/media/run';
import { PresetCatalog, type TranscodeTemplate } from '../src/media/templates';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { localS3ClientOptions } from '../local/emulators/s3';
import { benchUpload } from './upload';
import { benchNotifications } from './notifications';
import { ffmpegQuiet, pct, vodClient, type Client } from './lib';

const run = promisify(execFile);
const quick = process.env.BENCH_QUICK === '1';
const SECONDS = quick ? 10 : 60;

async function waitFinish(
  c: Client,
  taskId: string,
  pollMs = 100,
): Promise<{ ok: boolean; breakdown: string; serverMs: number }> {
  for (;;) {
    const d = await c.DescribeTaskDetail({ TaskId: taskId });
    if (d.Status === 'FINISH') {
      const subs = (d.ProcedureTask?.MediaProcessResultSet ?? []).map(
        (r) =>
          Object.values(r).find((v) => v && typeof v === 'object') as {
            Status?: string;
            BeginProcessTime?: string;
            FinishTime?: string;
          },
      );
      const ok = subs.every((s) => s.Status === 'SUCCESS');
      const t = (x?: string) => Date.parse(String(x));
      const created = t(d.CreateTime);
      const firstSub = Math.min(...subs.map((s) => t(s.BeginProcessTime)));
      const lastSub = Math.max(...subs.map((s) => t(s.FinishTime)));
      const breakdown = `created→PROCESSING ${t(d.BeginProcessTime) - created} ms, →first subtask start ${firstSub - created} ms, subtasks ${lastSub - firstSub} ms, last subtask→FINISH ${t(d.FinishTime) - lastSub} ms`;
      return { ok, breakdown, serverMs: t(d.FinishTime) - created };
    }
    await new Promise((r) => setTimeout(r, pollMs));
  }
}

async function main(): Promise<void> {
  const work = mkdtempSync(path.join(tmpdir(), 'openvod-bench-'));
  const bins = resolveFfmpeg(process.env);
  process.env.OPENVOD_LOG_LEVEL = 'SILENT';
  const { stdout: ver } = await run(bins.ffmpeg, ['-hide_banner', '-version']);
  console.log(`# OpenVOD benchmark — ${new Date().toISOString()}`);
  console.log(
    `machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}`,
  );
  console.log(`ffmpeg: ${ver.split('\n')[0]} (${bins.source})`);

  const input = path.join(work, 'in720.mp4');
  await ffmpegQuiet(bins.ffmpeg, [
    '-f',
    'lavfi',
    '-i',
    `testsrc2=size=1280x720:rate=30:duration=${SECONDS}`,
    '-f',
    'lavfi',
    '-i',
    `sine=frequency=440:sample_rate=48000:duration=${SECONDS}`,
    '-c:v',
    'libx264',
    '-preset',
    'veryfast',
    '-b:v',
    '3000k',
    '-pix_fmt',
    'yuv420p',
    '-c:a',
    'aac',
    '-shortest',
    input,
  ]);
  const server = http.createServer((req, res) => {
    const file = path.join(work, path.basename(req.url ?? ''));
    try {
      res.writeHead(200, { 'content-length': statSync(file).size });
      createReadStream(file).pipe(res);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;

  const port = 3900 + Math.floor(Math.random() * 50) * 5;
  const sys = await startLocal({ port, dataDir: path.join(work, 'data') });
  const c = sys.credentials;
  const client = vodClient(c);
  try {
    // (a) full flow vs direct ffmpeg, same arguments, same machine, same run.
    const template = (await new PresetCatalog().get('Transcode', 100030, c.SubAppId)) as TranscodeTemplate;
    const src = await probeMedia(bins.ffprobe, input);
    const outDir = mkdtempSync(path.join(work, 'direct-'));
    const plan = planTranscode(template, src, { input, outDir });
    const t = Date.now();
    for (const args of plan.runs)
      await runFfmpeg(bins.ffmpeg, args, { durationSeconds: SECONDS, cwd: outDir });
    const direct = Date.now() - t;
    // Register the input first (by Url), so (a) measures processing, not the pull.
    const reg = await client.ProcessMedia({
      Url: `${base}/in720.mp4`,
      MediaProcessTask: { TranscodeTaskSet: [{ Definition: 875 }] },
    });
    const regDetail = await client.DescribeTaskDetail({ TaskId: reg.TaskId! });
    await waitFinish(client, reg.TaskId!);
    const fileId = String(regDetail.ProcedureTask?.FileId);
    // Timed by the task's own CreateTime → FinishTime, polled once a second so the poll does not load the machine.
    const a = await client.ProcessMedia({
      FileId: fileId,
      MediaProcessTask: { TranscodeTaskSet: [{ Definition: 100030 }] },
    });
    const af = await waitFinish(client, a.TaskId!, 1000);
    const flow = af.serverMs;
    console.log(
      `\n(a) ${SECONDS} s 720p → 100030: direct ffmpeg ${(direct / 1000).toFixed(2)} s, full flow (CreateTime → FinishTime) ${(flow / 1000).toFixed(2)} s, ratio ${(flow / direct).toFixed(3)} (target ≤ 1.10)${af.ok ? '' : ' — FLOW FAILED'}`,
    );
    console.log(`    flow breakdown: ${af.breakdown}`);
    // The same ffmpeg arguments reading the input as the worker does: a presigned URL of the (local) S3.
    const s3 = new S3Client({ ...localS3ClientOptions, endpoint: c.S3Endpoint });
    const url = await getSignedUrl(
      s3,
      new GetObjectCommand({ Bucket: c.MediaBucket, Key: `${c.SubAppId}/${fileId}/source.mp4` }),
      { expiresIn: 3600 },
    );
    const outDir2 = mkdtempSync(path.join(work, 'direct-url-'));
    const plan2 = planTranscode(template, src, { input: url, outDir: outDir2 });
    const t2 = Date.now();
    for (const args of plan2.runs)
      await runFfmpeg(bins.ffmpeg, args, { durationSeconds: SECONDS, cwd: outDir2 });
    const directUrl = Date.now() - t2;
    console.log(
      `    direct ffmpeg reading the presigned S3 URL: ${(directUrl / 1000).toFixed(2)} s; full flow vs that ${(flow / directUrl).toFixed(3)}`,
    );

    // (b) a flow of 4 subtasks vs each alone.
    const kinds: Array<[string, Record<string, unknown>]> = [
      ['100010', { TranscodeTaskSet: [{ Definition: 100010 }] }],
      ['100210', { TranscodeTaskSet: [{ Definition: 100210 }] }],
      ['snapshot 10', { SampleSnapshotTaskSet: [{ Definition: 10 }] }],
      ['sprite 10', { ImageSpriteTaskSet: [{ Definition: 10 }] }],
    ];
    const alone: number[] = [];
    for (const [name, task] of kinds) {
      const s = Date.now();
      const r = await client.ProcessMedia({ FileId: fileId, MediaProcessTask: task });
      await waitFinish(client, r.TaskId!);
      alone.push(Date.now() - s);
      console.log(`    alone: ${name.padEnd(12)} ${(alone[alone.length - 1] / 1000).toFixed(2)} s`);
    }
    const s = Date.now();
    const all = await client.ProcessMedia({
      FileId: fileId,
      MediaProcessTask: Object.assign({}, ...kinds.map(([, k]) => k)),
    });
    await waitFinish(client, all.TaskId!);
    const together = Date.now() - s;
    const sum = alone.reduce((x, y) => x + y, 0);
    console.log(
      `(b) 4 subtasks in one flow: ${(together / 1000).toFixed(2)} s; sum alone ${(sum / 1000).toFixed(2)} s (ratio ${(together / sum).toFixed(3)}), max alone ${(Math.max(...alone) / 1000).toFixed(2)} s (ratio ${(together / Math.max(...alone)).toFixed(3)}) on ${cpus().length} cores`,
    );

    // (c) submission latency at 50 concurrent calls (warm: one call first).
    await client.ProcessMedia({
      FileId: fileId,
      MediaProcessTask: { TranscodeTaskSet: [{ Definition: 875 }] },
    });
    const lat: number[] = [];
    await Promise.all(
      Array.from({ length: 50 }, async () => {
        const t0 = performance.now();
        await client.ProcessMedia({
          FileId: fileId,
          MediaProcessTask: { TranscodeTaskSet: [{ Definition: 875 }] },
        });
        lat.push(performance.now() - t0);
      }),
    );
    console.log(
      `(c) ProcessMedia × 50 concurrent: p50 ${pct(lat, 50).toFixed(1)} ms, p99 ${pct(lat, 99).toFixed(1)} ms, max ${Math.max(...lat).toFixed(1)} ms (target p99 < 100 ms)`,
    );

    // (d) a 1 GiB multipart upload: the upload trigger's memory stays flat (BENCH_UPLOAD=0 skips it).
    if (process.env.BENCH_UPLOAD !== '0')
      await benchUpload({ work, ffmpeg: bins.ffmpeg, credentials: c, quick });

    // (e) notification latency: a subtask's final write → callback / PullEvents (BENCH_NOTIFY=0 skips it).
    if (process.env.BENCH_NOTIFY !== '0') {
      await benchNotifications({ credentials: c, tasksTable: sys.model.physicalNames.TasksTable, quick });
    }
  } finally {
    await sys.stop();
    server.close();
    rmSync(work, { recursive: true, force: true });
  }
  process.exit(0);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
