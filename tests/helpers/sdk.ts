/**
 * What end-to-end tests share when they drive a running local system: the official Tencent SDK client,
 * plain AWS clients on its emulators, waiting for a task flow, and downloading and probing its outputs.
 */
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { promisify } from 'node:util';
import * as tencentcloud from 'tencentcloud-sdk-nodejs-vod';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';

const run = promisify(execFile);

export type VodClient = InstanceType<typeof tencentcloud.vod.v20180717.Client>;
export type TaskDetail = Awaited<ReturnType<VodClient['DescribeTaskDetail']>>;

/** The official SDK client for the local system on `port`, signing with the given key pair. */
export function vodClient(port: number, secretId: string, secretKey: string, reqTimeout = 60): VodClient {
  return new tencentcloud.vod.v20180717.Client({
    credential: { secretId, secretKey },
    region: 'ap-guangzhou',
    profile: { httpProfile: { endpoint: `127.0.0.1:${port}`, protocol: 'http:', reqTimeout } },
  });
}

/** The Tencent error code and message a call fails with (fails the test if the call succeeds). */
export async function apiError(p: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await p;
  } catch (e) {
    return { code: String((e as { code?: string }).code), message: String((e as Error).message) };
  }
  throw new Error('expected an API error');
}

/** Polls DescribeTaskDetail until the task is FINISH. */
export async function waitFinish(
  client: VodClient,
  taskId: string,
  timeoutMs = 240_000,
): Promise<TaskDetail> {
  const started = Date.now();
  for (;;) {
    const d = await client.DescribeTaskDetail({ TaskId: taskId });
    if (d.Status === 'FINISH') return d;
    if (Date.now() - started > timeoutMs)
      throw new Error(`task ${taskId} not finished: ${JSON.stringify(d)}`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

/** Polls `ok` every `stepMs` until it holds. */
export async function until(
  what: string,
  ok: () => boolean | Promise<boolean>,
  ms = 60_000,
  stepMs = 100,
): Promise<void> {
  const end = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, stepMs));
  }
}

/** A DocumentClient on the local system's DynamoDB Local. */
export function localDoc(endpoint: string): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(
    new DynamoDBClient({
      region: 'us-east-1',
      endpoint,
      credentials: { accessKeyId: 'l', secretAccessKey: 'l' },
    }),
  );
}

/** A plain S3 client on the local system's S3 emulator. */
export function localS3(endpoint: string): S3Client {
  return new S3Client({
    region: 'us-east-1',
    endpoint,
    forcePathStyle: true,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
}

/** Runs ffmpeg quietly, overwriting outputs. */
export async function ffmpeg(args: string[]): Promise<void> {
  await run('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', ...args]);
}

/** A generated test clip: H.264 test pattern, with a sine tone in AAC when `toneHz` is given. */
export async function testClip(
  file: string,
  o: { size: string; rate: number; seconds: number; toneHz?: number; ultrafast?: boolean },
): Promise<string> {
  const tone = o.toneHz !== undefined;
  await ffmpeg([
    ...['-f', 'lavfi', '-i', `testsrc2=size=${o.size}:rate=${o.rate}`],
    ...(tone ? ['-f', 'lavfi', '-i', `sine=frequency=${o.toneHz}:sample_rate=48000`] : []),
    ...['-t', String(o.seconds), '-c:v', 'libx264'],
    ...(o.ultrafast ? ['-preset', 'ultrafast'] : []),
    ...['-pix_fmt', 'yuv420p'],
    ...(tone ? ['-c:a', 'aac', '-shortest'] : []),
    file,
  ]);
  return file;
}

export interface Probe {
  format: { format_name: string; duration?: string; bit_rate?: string };
  streams: Array<{
    codec_type: string;
    codec_name: string;
    width?: number;
    height?: number;
    r_frame_rate?: string;
    avg_frame_rate?: string;
    bit_rate?: string;
    sample_rate?: string;
    channels?: number;
    nb_frames?: string;
  }>;
}

/** ffprobe's format and streams of a file. */
export async function probe(file: string): Promise<Probe> {
  const { stdout } = await run('ffprobe', [
    '-v',
    'error',
    '-print_format',
    'json',
    '-show_format',
    '-show_streams',
    file,
  ]);
  return JSON.parse(stdout) as Probe;
}

/** GETs url into the file `to`; fails on a non-2xx answer. */
export async function download(url: string, to: string): Promise<string> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`GET ${url} → ${res.status}`);
  writeFileSync(to, Buffer.from(await res.arrayBuffer()));
  return to;
}

/** A flow's subtasks, each flattened to its Type and the fields of its result (Status, Output, …). */
export function results(d: TaskDetail) {
  return (d.ProcedureTask?.MediaProcessResultSet ?? []).map((r) => {
    const key = Object.keys(r).find((k) => k !== 'Type' && (r as Record<string, unknown>)[k]) as string;
    return {
      type: r.Type as string,
      ...((r as Record<string, unknown>)[key] as Record<string, unknown>),
    } as {
      type: string;
      Status: string;
      ErrCode: number;
      Message: string;
      Progress: number;
      Input: Record<string, unknown>;
      Output: Record<string, unknown> & { Url?: string };
    };
  });
}
