/**
 * Upload benchmark (part of `npm run bench`): a 1 GiB media (BENCH_QUICK=1: 256 MiB) uploaded into
 * uploads/<SubAppId>/ by S3 multipart, then registered by the real upload-trigger handler in a child process
 * whose peak RSS is compared with the same for a 10 MiB upload, in the same run: the trigger never reads the
 * body (ffprobe reads a presigned URL), so its memory must stay flat.
 */
import { execFile } from 'node:child_process';
import { createReadStream, statSync } from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { localS3ClientOptions } from '../local/emulators/s3';
import type { LocalCredentials } from '../local/runtime';
import { ffmpegQuiet } from './lib';

const run = promisify(execFile);
const TSX = path.resolve(__dirname, '../node_modules/.bin/tsx');

/** A valid, cheap-to-make media of about `bytes`: raw 640x480 video in Matroska (ffprobe reads its header only). */
async function makeMedia(ffmpeg: string, file: string, bytes: number): Promise<void> {
  const frame = 640 * 480 * 1.5;
  const frames = Math.ceil(bytes / frame);
  await ffmpegQuiet(
    ffmpeg,
    [
      '-f',
      'lavfi',
      '-i',
      'testsrc=size=640x480:rate=25',
      '-frames:v',
      String(frames),
      '-c:v',
      'rawvideo',
      '-pix_fmt',
      'yuv420p',
      file,
    ],
    {
      maxBuffer: 1 << 20,
    },
  );
}

async function triggerPeak(
  c: LocalCredentials,
  key: string,
  size: number,
): Promise<{ peakKiB: number; loadedKiB: number; ms: number }> {
  const record = {
    eventVersion: '2.1',
    eventSource: 'aws:s3',
    awsRegion: 'us-east-1',
    eventTime: new Date().toISOString(),
    eventName: 'ObjectCreated:CompleteMultipartUpload',
    s3: {
      s3SchemaVersion: '1.0',
      configurationId: 'bench',
      bucket: {
        name: c.MediaBucket,
        arn: `arn:aws:s3:::${c.MediaBucket}`,
        ownerIdentity: { principalId: 'bench' },
      },
      // Its own sequencer: the system's trigger registers the object too, under the sequencer S3 gave it.
      object: { key, size, eTag: 'bench', sequencer: `BENCH${Date.now()}` },
    },
  };
  const { stdout } = await run(
    TSX,
    [path.resolve(__dirname, 'upload-trigger-rss.ts'), JSON.stringify(record)],
    {
      env: { ...process.env, OPENVOD_LOG_LEVEL: 'SILENT' },
      maxBuffer: 1 << 20,
    },
  );
  return JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as {
    peakKiB: number;
    loadedKiB: number;
    ms: number;
  };
}

export async function benchUpload(opts: {
  work: string;
  ffmpeg: string;
  credentials: LocalCredentials;
  quick: boolean;
}): Promise<void> {
  const c = opts.credentials;
  const s3 = new S3Client({ ...localS3ClientOptions, endpoint: c.S3Endpoint });
  const bigBytes = (opts.quick ? 256 : 1024) * 1024 * 1024;
  const sizes: Array<[string, number]> = [
    ['10 MiB', 10 * 1024 * 1024],
    [opts.quick ? '256 MiB' : '1 GiB', bigBytes],
  ];
  const results: Array<{
    label: string;
    size: number;
    uploadMs: number;
    parts: number;
    peakKiB: number;
    loadedKiB: number;
    ms: number;
  }> = [];
  for (const [label, bytes] of sizes) {
    const file = path.join(opts.work, `upload-${bytes}.mkv`);
    await makeMedia(opts.ffmpeg, file, bytes);
    const size = statSync(file).size;
    const key = `uploads/${c.SubAppId}/bench/${label.replace(' ', '')}.mkv`;
    const partSize = 16 * 1024 * 1024;
    const t = Date.now();
    await new Upload({
      client: s3,
      params: { Bucket: c.MediaBucket, Key: key, Body: createReadStream(file), ContentLength: size },
      partSize,
      queueSize: 2,
    }).done();
    const uploadMs = Date.now() - t;
    const peak = await triggerPeak(c, key, size);
    results.push({ label, size, uploadMs, parts: Math.max(1, Math.ceil(size / partSize)), ...peak });
  }
  console.log(
    '\n(d) upload → trigger registration memory (trigger handler alone in a child process; peak RSS)',
  );
  for (const r of results) {
    console.log(
      `    ${r.label.padEnd(8)} (${(r.size / 2 ** 20).toFixed(0)} MiB, ${r.parts > 1 ? `multipart, ${r.parts} parts of ≤16 MiB` : 'one PUT'}, uploaded in ${(r.uploadMs / 1000).toFixed(1)} s): ` +
        `registered in ${(r.ms / 1000).toFixed(2)} s, peak RSS ${(r.peakKiB / 1024).toFixed(1)} MiB (after loading the handler: ${(r.loadedKiB / 1024).toFixed(1)} MiB)`,
    );
  }
  const [small, big] = results;
  console.log(
    `    peak RSS ratio ${big.label} / ${small.label}: ${(big.peakKiB / small.peakKiB).toFixed(3)} (flat = ~1.0; the body is never read by the trigger)`,
  );
}
