import { createHash, randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, readdir, rm, stat, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { Logger } from '@aws-lambda-powertools/logger';
import { ErrCode, PermanentError, asTransient, classify } from '../domain/errors';
import { OUTPUT_DIRS, type Media } from '../domain/media';
import type { Subtask, SubtaskKind } from '../domain/task';
import type { DynamoTaskStore } from '../adapters/task-store';
import type { DynamoMediaRepository } from '../adapters/media-repo';
import { openSafeStream, type UrlPolicy } from '../adapters/safe-http';
import { probeMedia, type MediaProbe } from '../media/probe';
import { runFfmpeg } from '../media/run';
import { transcodeItemFacts } from '../media/facts';
import {
  planAdaptiveStreaming,
  planAnimatedGraphic,
  planCoverBySnapshot,
  planImageSprite,
  planSampleSnapshot,
  planSnapshotByTimeOffset,
  planTranscode,
  type FfmpegPlan,
} from '../media/plans';
import type {
  AdaptiveDynamicStreamingTemplate,
  AnimatedGraphicsTemplate,
  ImageSpriteTemplate,
  SampleSnapshotTemplate,
  SnapshotByTimeOffsetTemplate,
  TranscodeTemplate,
} from '../media/templates';
import { isoNow, type Clock, type ObjectStorage } from './ports';
import { failAll, type FlowRef } from './flow';

/**
 * The ffmpeg worker: one subtask per call, the same code on Lambda and in the Fargate container.
 * Input is streamed by ffmpeg from a presigned URL; outputs are written to a scratch directory and
 * streamed to S3 (multipart); results are read back with ffprobe and recorded with a conditional write.
 */
export interface WorkerDeps {
  tasks: DynamoTaskStore;
  media: DynamoMediaRepository;
  storage: ObjectStorage;
  ffmpeg: string;
  ffprobe: string;
  urlPolicy: UrlPolicy;
  clock: Clock;
  logger: Logger;
  /** Progress is written at most this often. */
  progressIntervalMs: number;
  /** A URL that sends nothing for this long fails. */
  fetchTimeoutMs: number;
  /** A single ffmpeg run longer than this fails (bounded time for any input). */
  ffmpegTimeoutMs: number;
  scratchDir?: string;
}

const PRESIGN_SECONDS = 6 * 3600;

/** Pulls a URL media into the bucket and probes it. Permanent failures end every subtask FAIL. */
export async function ingest(deps: WorkerDeps, ref: FlowRef): Promise<{ ok: boolean }> {
  const task = await deps.tasks.getTask(ref.taskId);
  if (!task?.fileId || task.subAppId !== ref.subAppId) return { ok: false };
  const media = await deps.media.get(task.fileId, ref.subAppId);
  if (!media) return { ok: false };
  if (media.status === 'READY') return { ok: true };
  let failure = { errCode: ErrCode.BadSource as number, message: media.failReason ?? 'unknown reason' };
  // A retry after a failure was recorded pulls nothing again; it only makes sure every subtask ended.
  if (media.status !== 'FAILED') {
    try {
      if (!media.sourceUrl) throw new PermanentError(ErrCode.BadSource, 'the media has no source to pull');
      const src = await openSafeStream(media.sourceUrl, deps.urlPolicy, { timeoutMs: deps.fetchTimeoutMs });
      await deps.storage.putStream(media.key, src.body, src.contentType);
      const url = await deps.storage.presignGet(media.key, PRESIGN_SECONDS);
      const probe = await probeMedia(deps.ffprobe, url, { timeoutMs: deps.fetchTimeoutMs * 2 });
      await deps.media.markReady(media.fileId, probe, isoNow(deps.clock));
      return { ok: true };
    } catch (e) {
      const c = classify(e);
      if (c.transient) throw asTransient(e, c.message);
      await deps.media.markFailed(media.fileId, c.message, isoNow(deps.clock));
      failure = c;
    }
  }
  await failAll(deps, {
    ...ref,
    errCode: failure.errCode,
    message: `the source could not be pulled: ${failure.message}`,
  });
  return { ok: false };
}

/** Runs one subtask. Permanent failures are recorded as FAIL here; transient ones are thrown for Retry. */
export async function runSubtask(
  deps: WorkerDeps,
  ref: FlowRef & { index: number },
): Promise<{ status: string }> {
  const [task, sub] = await Promise.all([
    deps.tasks.getTask(ref.taskId),
    deps.tasks.getSubtask(ref.taskId, ref.index),
  ]);
  if (!task || !sub || task.subAppId !== ref.subAppId) return { status: 'MISSING' };
  const attempt = await deps.tasks.startSubtask(ref.taskId, ref.index, isoNow(deps.clock), randomUUID());
  if (!attempt) return { status: sub.status };
  const log = deps.logger.createChild({
    persistentKeys: { taskId: ref.taskId, subtask: ref.index, kind: sub.kind },
  });
  const started = Date.now();
  try {
    const media = task.fileId ? await deps.media.get(task.fileId, task.subAppId) : undefined;
    if (!media || media.status !== 'READY' || !media.metaData) {
      throw new PermanentError(
        ErrCode.BadSource,
        `the source media is not available (${media?.failReason ?? media?.status ?? 'missing'})`,
      );
    }
    if (media.sourceDeleted) {
      throw new PermanentError(
        ErrCode.BadSource,
        'the original file of the media was deleted (DeleteMedia OriginalFiles)',
      );
    }
    const output = await execute(deps, sub, media, media.metaData, (p) =>
      deps.tasks.setProgress(ref.taskId, ref.index, p, attempt),
    );
    const recorded = await deps.tasks.endSubtask(
      ref.taskId,
      ref.index,
      { status: 'SUCCESS', errCode: 0, message: 'SUCCESS', output },
      isoNow(deps.clock),
      attempt,
    );
    log.info(recorded ? 'subtask succeeded' : 'subtask result not recorded: a newer attempt owns it', {
      ms: Date.now() - started,
    });
    return { status: recorded ? 'SUCCESS' : 'SUPERSEDED' };
  } catch (e) {
    const c = classify(e);
    if (c.transient) {
      log.warn('subtask failed, will retry', { error: c.message });
      throw asTransient(e, c.message);
    }
    log.info('subtask failed', { errCode: c.errCode, error: c.message, ms: Date.now() - started });
    await deps.tasks.endSubtask(
      ref.taskId,
      ref.index,
      { status: 'FAIL', errCode: c.errCode, message: c.message },
      isoNow(deps.clock),
      attempt,
    );
    return { status: 'FAIL' };
  }
}

/** After the state machine's retries are exhausted: ends the subtask FAIL with what went wrong. */
export async function recordFailure(
  deps: WorkerDeps,
  ref: FlowRef & { index: number; error?: { Error?: string; Cause?: string } },
): Promise<{ recorded: boolean }> {
  let detail = ref.error?.Error ?? 'unknown error';
  try {
    const cause = JSON.parse(ref.error?.Cause ?? '{}') as {
      errorMessage?: string;
      Containers?: Array<{ Reason?: string }>;
    };
    detail = cause.errorMessage ?? cause.Containers?.[0]?.Reason ?? detail;
  } catch {
    if (ref.error?.Cause) detail = ref.error.Cause.slice(0, 500);
  }
  const recorded = await deps.tasks.endSubtask(
    ref.taskId,
    ref.index,
    {
      status: 'FAIL',
      errCode: ErrCode.Internal,
      message: `processing failed after retries (${ref.error?.Error ?? 'error'}: ${detail}); submit the task again, and report the TaskId if it persists`,
    },
    isoNow(deps.clock),
  );
  return { recorded };
}

type Progress = (percent: number) => Promise<void>;

async function execute(
  deps: WorkerDeps,
  sub: Subtask,
  media: Media,
  src: MediaProbe,
  progress: Progress,
): Promise<Record<string, unknown>> {
  const input = await deps.storage.presignGet(media.key, PRESIGN_SECONDS);
  const outDir = await mkdtemp(path.join(deps.scratchDir ?? tmpdir(), 'openvod-'));
  try {
    const def = Number(sub.input.Definition);
    const prefix = `${media.subAppId}/${media.fileId}/${KIND_DIR[sub.kind]}/${def}`;
    const duration = src.durationSeconds;
    let plan: FfmpegPlan;
    let expected = duration;
    switch (sub.kind) {
      case 'Transcode': {
        const start = Number(sub.input.StartTimeOffset ?? 0) || undefined;
        const end = Number(sub.input.EndTimeOffset ?? 0) || undefined;
        plan = planTranscode(sub.template as unknown as TranscodeTemplate, src, {
          input,
          outDir,
          startTimeOffset: start,
          endTimeOffset: end,
        });
        expected = Math.max(0, Math.min(end ?? duration, duration) - (start ?? 0));
        break;
      }
      case 'SampleSnapshot':
        plan = planSampleSnapshot(sub.template as unknown as SampleSnapshotTemplate, src, { input, outDir });
        break;
      case 'SnapshotByTimeOffset':
        plan = planSnapshotByTimeOffset(sub.template as unknown as SnapshotByTimeOffsetTemplate, src, {
          input,
          outDir,
          timeOffsetsMs: timeOffsetsMs(sub.input, duration),
        });
        break;
      case 'ImageSprites':
        plan = planImageSprite(sub.template as unknown as ImageSpriteTemplate, src, { input, outDir });
        break;
      case 'CoverBySnapshot':
        plan = planCoverBySnapshot(sub.template as unknown as SnapshotByTimeOffsetTemplate, src, {
          input,
          outDir,
          positionType: sub.input.PositionType === 'Percent' ? 'Percent' : 'Time',
          positionValue: Number(sub.input.PositionValue ?? 0),
        });
        break;
      case 'AdaptiveDynamicStreaming':
        plan = planAdaptiveStreaming(sub.template as unknown as AdaptiveDynamicStreamingTemplate, src, {
          input,
          outDir,
        });
        break;
      case 'AnimatedGraphics': {
        const start = Number(sub.input.StartTimeOffset ?? 0);
        const end = Number(sub.input.EndTimeOffset ?? 0);
        plan = planAnimatedGraphic(sub.template as unknown as AnimatedGraphicsTemplate, src, {
          input,
          outDir,
          startTimeOffset: start,
          endTimeOffset: end,
        });
        expected = Math.max(0, Math.min(end, duration) - start);
        break;
      }
    }

    // Run, reporting progress at most every progressIntervalMs across all runs of the plan.
    let lastWrite = 0;
    let lastValue = 0;
    const report = (overall: number) => {
      const now = Date.now();
      const v = Math.min(99, Math.floor(overall));
      if (v > lastValue && now - lastWrite >= deps.progressIntervalMs) {
        lastWrite = now;
        lastValue = v;
        void progress(v).catch(() => undefined);
      }
    };
    const runs = plan.runs.length || 1;
    for (const [i, args] of plan.runs.entries()) {
      await runFfmpeg(deps.ffmpeg, args, {
        durationSeconds: expected,
        timeoutMs: deps.ffmpegTimeoutMs,
        cwd: outDir,
        onProgress: (p) => report(((i + p / 100) / runs) * 95),
      });
      report(((i + 1) / runs) * 95);
    }
    for (const f of plan.extraFiles ?? []) {
      await mkdir(path.dirname(path.resolve(outDir, f.path)), { recursive: true });
      await writeFile(path.resolve(outDir, f.path), f.content);
    }

    const files = await listFiles(outDir);
    if (files.length === 0)
      throw new PermanentError(
        ErrCode.BadSource,
        'processing produced no output; the source may have no usable frames',
      );
    const total = (await Promise.all(files.map(async (f) => (await stat(path.join(outDir, f))).size))).reduce(
      (a, b) => a + b,
      0,
    );
    // Uploads (4 at a time) overlap with reading the results back (ffprobe, MD5).
    const uploads = uploadAll(deps.storage, prefix, outDir, files, 4);
    uploads.catch(() => undefined);
    const output = await describeOutput(files, total, prefix, plan, def);
    await uploads;
    return output;
  } finally {
    await rm(outDir, { recursive: true, force: true });
  }

  async function describeOutput(
    files: string[],
    total: number,
    prefix: string,
    plan: FfmpegPlan,
    def: number,
  ): Promise<Record<string, unknown>> {
    const url = (rel: string) => deps.storage.publicUrl(`${prefix}/${rel}`);
    const images = files.filter((f) => /\.(jpe?g|png|webp)$/i.test(f)).sort(naturalCompare);
    switch (sub.kind) {
      case 'Transcode': {
        const main = plan.mainOutput ?? files[0];
        const [probe, md5] = await Promise.all([
          probeMedia(deps.ffprobe, path.join(outDir, main), { timeoutMs: 60_000 }),
          md5File(path.join(outDir, main)),
        ]);
        const singleFile = !/\.m3u8$/i.test(main);
        return transcodeItemFacts(probe, {
          url: url(main),
          definition: def,
          size: singleFile ? (await stat(path.join(outDir, main))).size : total,
          md5,
        }) as Record<string, unknown>;
      }
      case 'SampleSnapshot': {
        const t = sub.template as unknown as SampleSnapshotTemplate;
        return {
          Definition: def,
          SampleType: t.SampleType,
          Interval: t.SampleInterval,
          ImageUrlSet: images.map(url),
          WaterMarkDefinition: [],
        };
      }
      case 'SnapshotByTimeOffset':
        return {
          Definition: def,
          PicInfoSet: images.map((f) => ({
            TimeOffset: Number(path.basename(f).replace(/\.[^.]+$/, '')),
            Url: url(f),
            WaterMarkDefinition: [],
          })),
        };
      case 'ImageSprites': {
        const t = sub.template as unknown as ImageSpriteTemplate;
        const vtt = files.find((f) => f.endsWith('.vtt'));
        const tiles =
          plan.extraFiles?.find((f) => f.path.endsWith('.vtt'))?.content.match(/-->/g)?.length ?? 0;
        return {
          Definition: def,
          Height: t.Height,
          Width: t.Width,
          TotalCount: tiles,
          ImageUrlSet: images.map(url),
          WebVttUrl: vtt ? url(vtt) : '',
        };
      }
      case 'CoverBySnapshot':
        return { CoverUrl: images[0] ? url(images[0]) : '' };
      case 'AdaptiveDynamicStreaming': {
        const master = plan.mainOutput ?? files.find((f) => /master\.m3u8$/.test(f)) ?? 'master.m3u8';
        return {
          Definition: def,
          Package: 'HLS',
          DrmType: '',
          Url: url(master),
          Size: total,
          SubStreamSet: [],
        };
      }
      case 'AnimatedGraphics': {
        const main = plan.mainOutput ?? files[0];
        const probe = await probeMedia(deps.ffprobe, path.join(outDir, main), { timeoutMs: 60_000 });
        const size = (await stat(path.join(outDir, main))).size;
        return {
          Url: url(main),
          Definition: def,
          Container: path.extname(main).slice(1).toLowerCase(),
          Height: probe.video?.displayHeight ?? 0,
          Width: probe.video?.displayWidth ?? 0,
          Bitrate: probe.bitrate,
          Size: size,
          Md5: await md5File(path.join(outDir, main)),
          StartTimeOffset: Number(sub.input.StartTimeOffset ?? 0),
          EndTimeOffset: Number(sub.input.EndTimeOffset ?? 0),
        };
      }
    }
  }
}

async function uploadAll(
  storage: ObjectStorage,
  prefix: string,
  dir: string,
  files: string[],
  parallel: number,
): Promise<void> {
  const queue = [...files];
  const worker = async () => {
    for (let rel = queue.shift(); rel !== undefined; rel = queue.shift()) {
      await storage.putFile(`${prefix}/${rel}`, path.join(dir, rel), contentType(rel));
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallel, files.length) }, worker));
}

/** Where each kind's outputs go (the media library deletes an output by this folder). */
const KIND_DIR: Record<SubtaskKind, string> = OUTPUT_DIRS;

/** ExtTimeOffsetSet ("3.5s", "10%") and TimeOffsetSet (ms) → milliseconds, in request order. */
export function timeOffsetsMs(input: Record<string, unknown>, durationSeconds: number): number[] {
  const out: number[] = [];
  for (const s of (input.ExtTimeOffsetSet as string[] | undefined) ?? []) {
    const v = Number(s.slice(0, -1));
    out.push(Math.round(s.endsWith('%') ? (v / 100) * durationSeconds * 1000 : v * 1000));
  }
  for (const ms of (input.TimeOffsetSet as number[] | undefined) ?? []) out.push(Math.round(ms));
  return out;
}

async function listFiles(dir: string, base = ''): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(path.join(dir, base), { withFileTypes: true })) {
    const rel = base ? `${base}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...(await listFiles(dir, rel)));
    else if (e.isFile()) out.push(rel);
  }
  return out.sort(naturalCompare);
}

function naturalCompare(a: string, b: string): number {
  return a.localeCompare(b, 'en', { numeric: true });
}

function md5File(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = createHash('md5');
    createReadStream(file)
      .on('data', (c) => h.update(c))
      .on('error', reject)
      .on('end', () => resolve(h.digest('hex')));
  });
}

const TYPES: Record<string, string> = {
  mp4: 'video/mp4',
  m4a: 'audio/mp4',
  m3u8: 'application/vnd.apple.mpegurl',
  ts: 'video/mp2t',
  m4s: 'video/iso.segment',
  mp3: 'audio/mpeg',
  flac: 'audio/flac',
  ogg: 'audio/ogg',
  wav: 'audio/wav',
  flv: 'video/x-flv',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  png: 'image/png',
  webp: 'image/webp',
  gif: 'image/gif',
  vtt: 'text/vtt',
};
function contentType(file: string): string {
  return TYPES[path.extname(file).slice(1).toLowerCase()] ?? 'application/octet-stream';
}
