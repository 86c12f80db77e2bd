/**
 * `npm start` stopped in the middle of a flow and started again on the same data directory: the flow
 * resumes (its execution restarts from the beginning; every step is idempotent) and ends FINISH with its
 * output, and a task submitted but not started before the stop starts after the restart.
 */
import { execFile } from 'node:child_process';
import { createReadStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import * as http from 'node:http';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import * as tencentcloud from 'tencentcloud-sdk-nodejs-vod';
import { freePortRange } from '../helpers/ports';
import {
  killGroup,
  readCredentials,
  startSystem,
  stopSystem,
  type RunningSystem,
} from '../helpers/local-system';

const run = promisify(execFile);
type Client = InstanceType<typeof tencentcloud.vod.v20180717.Client>;

let sys: RunningSystem | undefined;
let dataDir: string;
let mediaDir: string;
let server: http.Server;

afterAll(async () => {
  if (sys) await stopSystem(sys).catch(() => killGroup(sys));
  killGroup(sys);
  await new Promise<void>((r) => server?.close(() => r()));
  rmSync(dataDir, { recursive: true, force: true });
  rmSync(mediaDir, { recursive: true, force: true });
});

test('a flow interrupted by a stop finishes after the restart; a waiting task starts', async () => {
  dataDir = mkdtempSync(path.join(tmpdir(), 'openvod-restart-'));
  mediaDir = mkdtempSync(path.join(tmpdir(), 'openvod-restart-media-'));
  const input = path.join(mediaDir, 'long.mp4');
  await run('ffmpeg', [
    '-hide_banner',
    '-loglevel',
    'error',
    '-y',
    '-f',
    'lavfi',
    '-i',
    'testsrc2=size=1280x720:rate=30',
    '-t',
    '20',
    '-c:v',
    'libx264',
    '-preset',
    'ultrafast',
    '-pix_fmt',
    'yuv420p',
    input,
  ]);
  server = http.createServer((req, res) => {
    res.writeHead(200, { 'content-length': statSync(input).size });
    createReadStream(input).pipe(res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/long.mp4`;

  process.env.OPENVOD_MAX_CONCURRENT_FLOWS_PER_APP = '1';
  const port = await freePortRange(5);
  sys = await startSystem(port, dataDir, 90_000);
  const c = readCredentials(dataDir);
  const client: Client = new tencentcloud.vod.v20180717.Client({
    credential: { secretId: c.SecretId, secretKey: c.SecretKey },
    region: 'ap-guangzhou',
    profile: { httpProfile: { endpoint: `127.0.0.1:${port}`, protocol: 'http:' } },
  });
  const { TaskId: running } = await client.ProcessMedia({
    Url: url,
    MediaProcessTask: { TranscodeTaskSet: [{ Definition: 100030 }] },
  });
  const { TaskId: queued } = await client.ProcessMedia({
    Url: url,
    MediaProcessTask: { TranscodeTaskSet: [{ Definition: 875 }] },
  });
  // Stop while the first subtask is transcoding.
  for (let i = 0; i < 200; i++) {
    const d = await client.DescribeTaskDetail({ TaskId: running! });
    if (d.ProcedureTask?.MediaProcessResultSet?.[0]?.TranscodeTask?.BeginProcessTime) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const before = [running!, queued!].map((id) =>
    client.DescribeTaskDetail({ TaskId: id }).then((d) => d.Status),
  );
  expect(await Promise.all(before)).toEqual(['PROCESSING', 'WAITING']);
  const stopped = await stopSystem(sys);
  expect({ code: stopped.code, tail: stopped.code === 0 ? '' : sys.lines.slice(-20).join('\n') }).toEqual({
    code: 0,
    tail: '',
  });

  sys = await startSystem(port, dataDir, 90_000);
  const deadline = Date.now() + 180_000;
  const finished = async (id: string) => {
    for (;;) {
      const d = await client.DescribeTaskDetail({ TaskId: id });
      if (d.Status === 'FINISH') return d;
      if (Date.now() > deadline) throw new Error(`${id} not finished: ${JSON.stringify(d)}`);
      await new Promise((r) => setTimeout(r, 300));
    }
  };
  for (const id of [running!, queued!]) {
    const d = await finished(id);
    const t = d.ProcedureTask?.MediaProcessResultSet?.[0]?.TranscodeTask;
    expect([t?.Status, t?.ErrCode, t?.Message]).toEqual(['SUCCESS', 0, 'SUCCESS']);
    const res = await fetch(String(t?.Output?.Url));
    expect(res.ok).toBe(true);
    expect(Number(res.headers.get('content-length'))).toBe(Number(t?.Output?.Size));
  }
}, 300_000);
