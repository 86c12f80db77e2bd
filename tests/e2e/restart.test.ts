/**
 * `npm start` stopped in the middle of a flow and started again on the same data directory: the flow
 * resumes (its execution restarts from the beginning; every step is idempotent) and ends FINISH with its
 * output, and a task submitted but not started before the stop starts after the restart.
 */
import { createReadStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import * as http from 'node:http';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import {
  shutdownSystem,
  startInFreshDir,
  startSystem,
  stopSystem,
  type RunningSystem,
} from '../helpers/local-system';
import { testClip, vodClient, waitFinish } from '../helpers/sdk';

let sys: RunningSystem | undefined;
let dataDir: string;
let mediaDir: string;
let server: http.Server;

afterAll(async () => {
  await shutdownSystem(sys);
  await new Promise<void>((r) => server?.close(() => r()));
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  rmSync(mediaDir, { recursive: true, force: true });
});

test('a flow interrupted by a stop finishes after the restart; a waiting task starts', async () => {
  mediaDir = mkdtempSync(path.join(tmpdir(), 'openvod-restart-media-'));
  const input = path.join(mediaDir, 'long.mp4');
  await testClip(input, { size: '1280x720', rate: 30, seconds: 20, ultrafast: true });
  server = http.createServer((req, res) => {
    res.writeHead(200, { 'content-length': statSync(input).size });
    createReadStream(input).pipe(res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/long.mp4`;

  process.env.OPENVOD_MAX_CONCURRENT_FLOWS_PER_APP = '1';
  const started = await startInFreshDir('openvod-restart-');
  ({ sys, dataDir } = started);
  const { port, creds: c } = started;
  const client = vodClient(port, c.SecretId, c.SecretKey);
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
  for (const id of [running!, queued!]) {
    const d = await waitFinish(client, id, deadline - Date.now());
    const t = d.ProcedureTask?.MediaProcessResultSet?.[0]?.TranscodeTask;
    expect([t?.Status, t?.ErrCode, t?.Message]).toEqual(['SUCCESS', 0, 'SUCCESS']);
    const res = await fetch(String(t?.Output?.Url));
    expect(res.ok).toBe(true);
    expect(Number(res.headers.get('content-length'))).toBe(Number(t?.Output?.Size));
  }
}, 300_000);
