/**
 * The reaper end to end, against `npm start`: a task flow stopped by hand (StopExecution on the local Step
 * Functions endpoint) never runs its own Catch, so its task would stay PROCESSING holding its app's only slot.
 * The intake sweep (every 1.5 s here, grace 1 s) ends it as the flow's failure path does: the unfinished
 * subtask FAIL 70000 naming why, the task FINISH, the slot freed, so the app's waiting task then runs.
 */
import { mkdtempSync, rmSync, createReadStream, statSync } from 'node:fs';
import * as http from 'node:http';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { GetCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import {
  ListStateMachinesCommand,
  StopExecutionCommand,
  DescribeExecutionCommand,
  SFNClient,
} from '@aws-sdk/client-sfn';
import { shutdownSystem, startInFreshDir, type RunningSystem } from '../helpers/local-system';
import { localDoc, results, testClip, until, vodClient, type VodClient, waitFinish } from '../helpers/sdk';

let sys: RunningSystem | undefined;
let dataDir: string;
let mediaDir: string;
let mediaServer: http.Server;
let mediaBase: string;
let client: VodClient;
let ddb: DynamoDBDocumentClient;
let sfn: SFNClient;
let subAppId: number;
const hanging: http.ServerResponse[] = [];
const ENV = [
  'OPENVOD_MAX_CONCURRENT_FLOWS_PER_APP',
  'OPENVOD_REAPER_GRACE_S',
  'OPENVOD_LOCAL_SCHEDULE_MS',
  'OPENVOD_FETCH_TIMEOUT_MS',
];

beforeAll(async () => {
  mediaDir = mkdtempSync(path.join(tmpdir(), 'openvod-reaper-media-'));
  await testClip(path.join(mediaDir, 'tiny.mp4'), { size: '160x90', rate: 15, seconds: 1, ultrafast: true });
  mediaServer = http.createServer((req, res) => {
    const name = decodeURIComponent((req.url ?? '/').slice(1));
    if (name === 'hang') {
      hanging.push(res); // never answers: the first flow stays RUNNING until it is stopped
      return;
    }
    try {
      const file = path.join(mediaDir, path.basename(name));
      res.writeHead(200, { 'content-length': statSync(file).size, 'content-type': 'video/mp4' });
      createReadStream(file).pipe(res);
    } catch {
      res.writeHead(404).end('not found');
    }
  });
  await new Promise<void>((r) => mediaServer.listen(0, '127.0.0.1', () => r()));
  mediaBase = `http://127.0.0.1:${(mediaServer.address() as { port: number }).port}`;

  process.env.OPENVOD_MAX_CONCURRENT_FLOWS_PER_APP = '1';
  process.env.OPENVOD_REAPER_GRACE_S = '1';
  process.env.OPENVOD_LOCAL_SCHEDULE_MS = '1500';
  process.env.OPENVOD_FETCH_TIMEOUT_MS = '120000';
  const started = await startInFreshDir('openvod-reaper-');
  ({ sys, dataDir } = started);
  subAppId = started.creds.SubAppId;
  client = vodClient(
    Number(new URL(started.creds.Endpoint).port),
    started.creds.SecretId,
    started.creds.SecretKey,
  );
  ddb = localDoc(started.creds.DynamoDBEndpoint);
  sfn = new SFNClient({
    endpoint: started.creds.SFNEndpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
}, 150_000);

afterAll(async () => {
  for (const r of hanging) r.destroy();
  await shutdownSystem(sys);
  await new Promise<void>((r) => mediaServer?.close(() => r()));
  ddb?.destroy();
  sfn?.destroy();
  for (const k of ENV) delete process.env[k];
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  if (mediaDir) rmSync(mediaDir, { recursive: true, force: true });
});

test('a flow stopped by hand is reaped: subtask FAIL 70000, task FINISH, slot freed for the waiting task', async () => {
  const { TaskId: stuck } = await client.ProcessMedia({
    Url: `${mediaBase}/hang`,
    MediaProcessTask: { TranscodeTaskSet: [{ Definition: 100010 }] },
  });
  await until(
    'the first task PROCESSING',
    async () => (await client.DescribeTaskDetail({ TaskId: stuck! })).Status === 'PROCESSING',
    30_000,
  );
  const { TaskId: next } = await client.ProcessMedia({
    Url: `${mediaBase}/tiny.mp4`,
    MediaProcessTask: { TranscodeTaskSet: [{ Definition: 100010 }] },
  });

  // Several sweeps past the grace: the RUNNING execution is left alone, and it keeps the app's only slot.
  await new Promise((r) => setTimeout(r, 4000));
  expect((await client.DescribeTaskDetail({ TaskId: stuck! })).Status).toBe('PROCESSING');
  expect((await client.DescribeTaskDetail({ TaskId: next! })).Status).toBe('WAITING');
  const slots = async () =>
    Number(
      (
        await ddb.send(
          new GetCommand({ TableName: 'openvod-dev-tasks', Key: { pk: `SLOTS#${subAppId}`, sk: '#SLOTS' } }),
        )
      ).Item?.running ?? -1,
    );

  const machines = await sfn.send(new ListStateMachinesCommand({}));
  const smArn = machines.stateMachines!.find((m) => m.name!.endsWith('task-flow'))!.stateMachineArn!;
  const executionArn = `${smArn.replace(':stateMachine:', ':execution:')}:${stuck}`;
  expect((await sfn.send(new DescribeExecutionCommand({ executionArn }))).status).toBe('RUNNING');
  await sfn.send(
    new StopExecutionCommand({ executionArn, error: 'Operator', cause: 'stopped by hand in a test' }),
  );
  expect((await sfn.send(new DescribeExecutionCommand({ executionArn }))).status).toBe('ABORTED');
  const stoppedAt = Date.now();

  const reaped = await waitFinish(client, stuck!, 30_000);
  expect(Date.now() - stoppedAt).toBeLessThan(15_000); // within a few sweep periods
  const [sub] = results(reaped);
  expect(sub.Status).toBe('FAIL');
  expect(sub.ErrCode).toBe(70000);
  expect(sub.Message).toBe(
    'task flow execution ABORTED: Operator: stopped by hand in a test; submit the task again',
  );
  expect(
    sys!.lines.some((l) => l.includes('reaped a task whose flow execution died') && l.includes(stuck!)),
  ).toBe(true);

  // The freed slot went to the waiting task, which runs to the end.
  const done = await waitFinish(client, next!, 120_000);
  expect(results(done).map((r) => [r.Status, r.ErrCode])).toEqual([['SUCCESS', 0]]);
  await until('the slot count back to 0', async () => (await slots()) === 0, 10_000);
  // The reaped task stays as it was reaped (no second finish, the stopped execution still ABORTED).
  const again = await client.DescribeTaskDetail({ TaskId: stuck! });
  expect(again.FinishTime).toBe(reaped.FinishTime);
}, 240_000);
