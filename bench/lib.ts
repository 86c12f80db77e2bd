/** What the benchmark scripts share: percentiles, the official SDK client on the local system, quiet ffmpeg. */
import { execFile, type ExecFileOptions } from 'node:child_process';
import { promisify } from 'node:util';
import * as tencentcloud from 'tencentcloud-sdk-nodejs-vod';
import type { LocalCredentials } from '../local/runtime';

const run = promisify(execFile);

export type Client = InstanceType<typeof tencentcloud.vod.v20180717.Client>;

/** The p-th percentile (nearest rank) of xs. */
export const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
};

/** The official SDK client on the local system whose credentials these are. */
export function vodClient(c: LocalCredentials): Client {
  return new tencentcloud.vod.v20180717.Client({
    credential: { secretId: c.SecretId, secretKey: c.SecretKey },
    region: 'ap-guangzhou',
    profile: { httpProfile: { endpoint: `127.0.0.1:${new URL(c.Endpoint).port}`, protocol: 'http:' } },
  });
}

/** Runs the ffmpeg binary `bin` quietly, overwriting outputs. */
export async function ffmpegQuiet(bin: string, args: string[], opts: ExecFileOptions = {}): Promise<void> {
  await run(bin, ['-hide_banner', '-loglevel', 'error', '-y', ...args], opts);
}
