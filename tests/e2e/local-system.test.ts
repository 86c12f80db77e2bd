/**
 * End to end: `npm start`'s entry point as a child process, driven by the official
 * tencentcloud-sdk-nodejs-vod client with the printed credentials; the admin CLI; app isolation; key
 * rotation; DescribeTasks paging; restart persistence; the port-in-use error.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchWriteCommand, DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import * as tencentcloud from 'tencentcloud-sdk-nodejs-vod';
import { freePortRange } from '../helpers/ports';
import {
  ROOT,
  killGroup,
  listProcessesNaming,
  readCredentials,
  runCli,
  startSystem,
  stopSystem,
  type Credentials,
  type RunningSystem,
} from '../helpers/local-system';

jest.setTimeout(90_000);

// OpenVOD answers DescribeTasks with TotalCount as well (the issue asks for it); the SDK's type lacks it.
declare module 'tencentcloud-sdk-nodejs-vod/tencentcloud/services/vod/v20180717/vod_models' {
  interface DescribeTasksResponse {
    TotalCount?: number;
  }
}

const VodClient = tencentcloud.vod.v20180717.Client;
type Vod = InstanceType<typeof VodClient>;
const TASKS_TABLE = 'openvod-dev-tasks';

let port = 0;
let dataDir = '';
let sys: RunningSystem | undefined;
const started: RunningSystem[] = [];
let creds: Credentials;
let ddb: DynamoDBClient | undefined;
let doc: DynamoDBDocumentClient;

function client(secretId: string, secretKey: string): Vod {
  return new VodClient({
    credential: { secretId, secretKey },
    region: 'ap-guangzhou',
    profile: { httpProfile: { endpoint: `127.0.0.1:${port}`, protocol: 'http:', reqTimeout: 15 } },
  });
}

/** The Tencent error code a call fails with (fails the test if the call succeeds). */
async function errorCode(p: Promise<unknown>): Promise<string> {
  const r = await p.then(
    (v) => ({ ok: true as const, v }),
    (e: unknown) => ({ ok: false as const, e: e as { code?: string; requestId?: string; message: string } }),
  );
  if (r.ok) throw new Error(`expected an error, got ${JSON.stringify(r.v)}`);
  expect(r.e.requestId).toMatch(/^[0-9a-f-]{36}$/);
  return String(r.e.code);
}

interface TaskRow {
  TaskId: string;
  Status: string;
  CreateTime: string;
  TaskType: string;
}

function taskItem(
  subAppId: number,
  createTime: string,
  status = 'WAITING',
  taskId = `${subAppId}-procedurev2-${randomBytes(12).toString('hex')}`,
) {
  return {
    pk: `TASK#${taskId}`,
    sk: '#TASK',
    gsi1pk: `APP#${subAppId}`,
    gsi1sk: `${createTime}#${taskId}`,
    taskId,
    subAppId,
    taskType: 'Procedure',
    status,
    createTime,
  };
}

async function putTasks(items: Array<ReturnType<typeof taskItem>>): Promise<void> {
  for (let i = 0; i < items.length; i += 25) {
    await doc.send(
      new BatchWriteCommand({
        RequestItems: { [TASKS_TABLE]: items.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } })) },
      }),
    );
  }
}

function openDynamo(endpoint: string): void {
  ddb?.destroy();
  ddb = new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  doc = DynamoDBDocumentClient.from(ddb);
}

async function start(): Promise<RunningSystem> {
  const s = await startSystem(port, dataDir);
  started.push(s);
  return s;
}

beforeAll(async () => {
  port = await freePortRange(5);
  dataDir = mkdtempSync(path.join(os.tmpdir(), 'openvod-e2e-'));
  sys = await start();
  console.log(
    `local system ready in ${(sys.readyMs / 1000).toFixed(1)} s (spawn → ready line) on port ${port}`,
  );
  creds = readCredentials(dataDir);
  openDynamo(creds.DynamoDBEndpoint);
});

afterAll(async () => {
  ddb?.destroy();
  for (const s of started) {
    if (s.child.exitCode === null && s.child.signalCode === null) {
      await stopSystem(s, 15_000).catch(() => undefined);
    }
    killGroup(s);
  }
  // Nothing started for this data dir may survive the tests (DynamoDB Local names it in -dbPath).
  for (const p of await listProcessesNaming(dataDir)) {
    try {
      process.kill(p.pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

// Shared between the tests below, which run in order.
let appB: { SubAppId: number; Name: string; SecretId: string; SecretKey: string };
let appBNew: { SubAppId: number; SecretId: string; SecretKey: string };
let rotatedAt = 0;
let taskOfA = '';

describe('npm start (local/main.ts)', () => {
  it('prints the ready line and the credentials, and writes them to credentials.json (0600)', () => {
    const out = sys!.lines;
    const ready = out.find((l) => l.startsWith('OpenVOD ready on'));
    expect(ready).toContain(`http://127.0.0.1:${port}`);
    const printed = (key: string) =>
      out
        .find((l) => l.startsWith(`${key}:`))
        ?.slice(key.length + 1)
        .trim();
    expect(Object.keys(creds).sort()).toEqual(
      expect.arrayContaining([
        'DynamoDBEndpoint',
        'Endpoint',
        'MediaBucket',
        'S3Endpoint',
        'SQSEndpoint',
        'SecretId',
        'SecretKey',
        'SubAppId',
      ]),
    );
    for (const key of [
      'Endpoint',
      'SubAppId',
      'SecretId',
      'SecretKey',
      'S3Endpoint',
      'MediaBucket',
      'DynamoDBEndpoint',
      'SQSEndpoint',
    ] as const) {
      expect({ key, printed: printed(key) }).toEqual({ key, printed: String(creds[key]) });
    }
    expect(creds.Endpoint).toBe(`http://127.0.0.1:${port}`);
    expect(creds.DynamoDBEndpoint).toBe(`http://127.0.0.1:${port + 1}`);
    expect(creds.S3Endpoint).toBe(`http://127.0.0.1:${port + 2}`);
    expect(creds.SQSEndpoint).toBe(`http://127.0.0.1:${port + 3}`);
    expect(creds.MediaBucket).toBe('openvod-dev-media');
    expect(Number.isInteger(creds.SubAppId)).toBe(true);
    expect(creds.SecretId).toMatch(/^AKID[A-Za-z0-9]{32}$/);
    expect(creds.SecretKey).toMatch(/^[A-Za-z0-9]{32}$/);
    expect(statSync(path.join(dataDir, 'credentials.json')).mode & 0o777).toBe(0o600);
  });

  it('answers DescribeTasks from the official SDK client: TaskSet [], TotalCount 0, a RequestId', async () => {
    const r = await client(creds.SecretId, creds.SecretKey).DescribeTasks({});
    expect(r.TaskSet).toEqual([]);
    expect(r.TotalCount).toBe(0);
    expect(r.ScrollToken).toBe('');
    expect(r.RequestId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('fails a wrong SecretKey with AuthFailure.SignatureFailure', async () => {
    expect(
      await errorCode(client(creds.SecretId, `${creds.SecretKey.slice(0, -1)}X`).DescribeTasks({})),
    ).toBe('AuthFailure.SignatureFailure');
  });

  it('fails an unknown SecretId with AuthFailure.SecretIdNotFound', async () => {
    expect(await errorCode(client(`AKID${'Z'.repeat(32)}`, creds.SecretKey).DescribeTasks({}))).toBe(
      'AuthFailure.SecretIdNotFound',
    );
  });

  it('answers UnsupportedOperation for a known unimplemented action, InvalidAction for an unknown one', async () => {
    const c = client(creds.SecretId, creds.SecretKey);
    expect(await errorCode(c.request('DescribeCDNUsageData', {}))).toBe('UnsupportedOperation');
    expect(await errorCode(c.request('ProcessMediaTheOtherWay', {}))).toBe('InvalidAction');
  });

  it('names the field of an invalid parameter', async () => {
    const c = client(creds.SecretId, creds.SecretKey);
    expect(await errorCode(c.DescribeTasks({ Limit: 1000 }))).toBe('InvalidParameterValue.Limit');
    expect(await errorCode(c.DescribeTasks({ Status: 'NOPE' }))).toBe('InvalidParameterValue.Status');
  });
});

describe('apps (admin CLI) and isolation', () => {
  it('app create prints a new app with its own key', async () => {
    appB = JSON.parse(await runCli(dataDir, ['app', 'create', '--name', 'b', '--json'])) as typeof appB;
    expect(appB.Name).toBe('b');
    expect(appB.SubAppId).not.toBe(creds.SubAppId);
    expect(appB.SecretId).toMatch(/^AKID/);
    expect(appB.SecretId).not.toBe(creds.SecretId);
    expect(appB.SecretKey).toMatch(/^[A-Za-z0-9]{32}$/);
    const list = JSON.parse(await runCli(dataDir, ['app', 'list', '--json'])) as Array<{
      SubAppId: number;
      Name: string;
    }>;
    expect(list.map((a) => a.SubAppId)).toEqual(expect.arrayContaining([creds.SubAppId, appB.SubAppId]));
    expect(list.find((a) => a.SubAppId === appB.SubAppId)?.Name).toBe('b');
  });

  it("lists app A's task to app A only; app B cannot name A's SubAppId", async () => {
    const item = taskItem(creds.SubAppId, new Date().toISOString());
    taskOfA = item.taskId;
    await doc.send(new PutCommand({ TableName: TASKS_TABLE, Item: item }));

    const a = await client(creds.SecretId, creds.SecretKey).DescribeTasks({});
    expect(a.TotalCount).toBe(1);
    expect((a.TaskSet as TaskRow[]).map((t) => t.TaskId)).toEqual([taskOfA]);
    expect(a.TaskSet![0]).toMatchObject({
      Status: 'WAITING',
      TaskType: 'Procedure',
      CreateTime: item.createTime,
    });

    const cb = client(appB.SecretId, appB.SecretKey);
    const b = await cb.DescribeTasks({});
    expect(b.TaskSet).toEqual([]);
    expect(b.TotalCount).toBe(0);
    expect(await errorCode(cb.DescribeTasks({ SubAppId: creds.SubAppId }))).toBe(
      'AuthFailure.UnauthorizedOperation',
    );
    const own = await cb.DescribeTasks({ SubAppId: appB.SubAppId });
    expect(own.TotalCount).toBe(0);
  });

  it('rejects a ScrollToken of another app', async () => {
    await putTasks(
      [0, 1].map((i) => taskItem(creds.SubAppId, new Date(Date.now() - 60_000 * (i + 1)).toISOString())),
    );
    const a = await client(creds.SecretId, creds.SecretKey).DescribeTasks({ Limit: 1 });
    expect(a.ScrollToken).not.toBe('');
    expect(
      await errorCode(client(appB.SecretId, appB.SecretKey).DescribeTasks({ ScrollToken: a.ScrollToken })),
    ).toBe('InvalidParameterValue.ScrollToken');
  });

  it('app rotate-key: the new key works at once; a key never used before the rotation fails at once', async () => {
    const c = JSON.parse(await runCli(dataDir, ['app', 'create', '--name', 'c', '--json'])) as typeof appB;
    const cNew = JSON.parse(
      await runCli(dataDir, ['app', 'rotate-key', '--sub-app-id', String(c.SubAppId), '--json']),
    ) as typeof appBNew;
    expect(cNew.SubAppId).toBe(c.SubAppId);
    expect(cNew.SecretId).not.toBe(c.SecretId);
    expect((await client(cNew.SecretId, cNew.SecretKey).DescribeTasks({})).TotalCount).toBe(0);
    expect(await errorCode(client(c.SecretId, c.SecretKey).DescribeTasks({}))).toBe(
      'AuthFailure.SecretIdNotFound',
    );
  });

  it('app rotate-key on an app whose key is in use: the new key works at once', async () => {
    rotatedAt = Date.now();
    appBNew = JSON.parse(
      await runCli(dataDir, ['app', 'rotate-key', '--sub-app-id', String(appB.SubAppId), '--json']),
    ) as typeof appBNew;
    expect(appBNew.SubAppId).toBe(appB.SubAppId);
    expect(appBNew.SecretId).not.toBe(appB.SecretId);
    expect(appBNew.SecretKey).not.toBe(appB.SecretKey);
    const r = await client(appBNew.SecretId, appBNew.SecretKey).DescribeTasks({});
    expect(r.TotalCount).toBe(0);
  });
});

describe('DescribeTasks paging (ScrollToken) and filters', () => {
  // App B (with its new key) has no tasks yet: 25 tasks one minute apart, every fifth FINISH.
  const t0 = Date.parse('2026-03-01T00:00:00.000Z');
  const at = (i: number) => new Date(t0 + i * 60_000).toISOString();
  let originals: Array<ReturnType<typeof taskItem>> = [];
  let c: Vod;

  beforeAll(async () => {
    c = client(appBNew.SecretId, appBNew.SecretKey);
    originals = Array.from({ length: 25 }, (_, i) =>
      taskItem(appB.SubAppId, at(i), i % 5 === 0 ? 'FINISH' : 'WAITING'),
    );
    await putTasks(originals);
  });

  it('pages newest first through every task exactly once, while newer tasks arrive between pages', async () => {
    const seen: TaskRow[] = [];
    const p1 = await c.DescribeTasks({ Limit: 10 });
    expect(p1.TotalCount).toBe(25);
    expect(p1.TaskSet).toHaveLength(10);
    expect(p1.ScrollToken).not.toBe('');
    seen.push(...(p1.TaskSet as TaskRow[]));

    // Three newer tasks arrive between page 1 and page 2.
    const newer = [0, 1, 2].map((i) => taskItem(appB.SubAppId, at(100 + i)));
    await putTasks(newer);

    let token = p1.ScrollToken!;
    let pages = 1;
    while (token) {
      const p = await c.DescribeTasks({ Limit: 10, ScrollToken: token });
      expect(p.TotalCount).toBe(28);
      seen.push(...(p.TaskSet as TaskRow[]));
      token = p.ScrollToken ?? '';
      if (++pages > 10) throw new Error('paging does not end');
    }
    const ids = seen.map((t) => t.TaskId);
    expect(new Set(ids).size).toBe(ids.length);
    const originalIds = originals.map((o) => o.taskId);
    for (const id of originalIds) expect(ids.filter((x) => x === id)).toHaveLength(1);
    // Newest first: strictly descending CreateTime over the pages.
    const times = seen.map((t) => Date.parse(t.CreateTime));
    for (let i = 1; i < times.length; i++) expect(times[i]).toBeLessThan(times[i - 1]);
    // Page 1 was the ten newest originals.
    expect((p1.TaskSet as TaskRow[]).map((t) => t.TaskId)).toEqual(originalIds.slice(15).reverse());

    // A fresh listing now starts with the three newer tasks.
    const fresh = await c.DescribeTasks({ Limit: 3 });
    expect((fresh.TaskSet as TaskRow[]).map((t) => t.TaskId)).toEqual(newer.map((n) => n.taskId).reverse());
  });

  it('sorts oldest first with Sort Asc', async () => {
    const r = await c.DescribeTasks({ Limit: 5, Sort: { Field: 'CreateTime', Order: 'Asc' } });
    expect((r.TaskSet as TaskRow[]).map((t) => t.TaskId)).toEqual(originals.slice(0, 5).map((o) => o.taskId));
    const r2 = await c.DescribeTasks({
      Limit: 5,
      Sort: { Field: 'CreateTime', Order: 'Asc' },
      ScrollToken: r.ScrollToken,
    });
    expect((r2.TaskSet as TaskRow[]).map((t) => t.TaskId)).toEqual(
      originals.slice(5, 10).map((o) => o.taskId),
    );
  });

  it('filters by Status, across pages', async () => {
    const finished = originals.filter((o) => o.status === 'FINISH').map((o) => o.taskId);
    expect(finished).toHaveLength(5);
    const seen: TaskRow[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const r = await c.DescribeTasks({ Status: 'FINISH', Limit: 2, ScrollToken: token });
      expect(r.TotalCount).toBe(5);
      seen.push(...(r.TaskSet as TaskRow[]));
      token = r.ScrollToken || undefined;
      if (++pages > 10) throw new Error('paging does not end');
    } while (token);
    expect(seen.every((t) => t.Status === 'FINISH')).toBe(true);
    expect(seen.map((t) => t.TaskId).sort()).toEqual([...finished].sort());
  });

  it('filters by CreateTime.After (inclusive)', async () => {
    const r = await c.DescribeTasks({ CreateTime: { After: at(20) }, Limit: 100 });
    // Originals 20…24 and the three newer tasks.
    expect(r.TotalCount).toBe(8);
    expect((r.TaskSet as TaskRow[]).map((t) => t.TaskId)).toEqual(
      expect.arrayContaining(originals.slice(20).map((o) => o.taskId)),
    );
  });

  it('filters by CreateTime.Before (exclusive), with a time-zone offset', async () => {
    // 08:05+08:00 is 00:05Z: originals 0…4.
    const r = await c.DescribeTasks({ CreateTime: { Before: '2026-03-01T08:05:00+08:00' }, Limit: 100 });
    expect((r.TaskSet as TaskRow[]).map((t) => t.TaskId).sort()).toEqual(
      originals
        .slice(0, 5)
        .map((o) => o.taskId)
        .sort(),
    );
    expect(r.TotalCount).toBe(5);
  });

  it('filters by CreateTime.After and Before together', async () => {
    const r = await c.DescribeTasks({ CreateTime: { After: at(10), Before: at(15) }, Limit: 100 });
    expect((r.TaskSet as TaskRow[]).map((t) => t.TaskId).sort()).toEqual(
      originals
        .slice(10, 15)
        .map((o) => o.taskId)
        .sort(),
    );
    expect(r.TotalCount).toBe(5);
  });

  it('combines Status and CreateTime', async () => {
    const r = await c.DescribeTasks({ Status: 'FINISH', CreateTime: { After: at(10) }, Limit: 100 });
    expect((r.TaskSet as TaskRow[]).map((t) => t.TaskId).sort()).toEqual(
      [originals[10], originals[15], originals[20]].map((o) => o.taskId).sort(),
    );
  });
});

describe('key rotation, continued', () => {
  it("the rotated-out key of app B fails within 35 s of the rotation (the API's key cache is 30 s)", async () => {
    const old = client(appB.SecretId, appB.SecretKey);
    let code = '';
    for (;;) {
      const r = await old.DescribeTasks({ Limit: 1 }).then(
        () => '',
        (e: { code?: string }) => String(e.code),
      );
      if (r) {
        code = r;
        break;
      }
      if (Date.now() - rotatedAt > 35_000) break;
      await new Promise((res) => setTimeout(res, 500));
    }
    console.log(`old key refused ${((Date.now() - rotatedAt) / 1000).toFixed(1)} s after the rotation`);
    expect(code).toBe('AuthFailure.SecretIdNotFound');
    expect(Date.now() - rotatedAt).toBeLessThanOrEqual(36_000);
  });
});

describe('logs', () => {
  it('never print a SecretKey, except the default one in its start-up line', () => {
    const out = sys!.lines;
    expect(out.some((l) => l.includes('"level"') || l.includes('api request'))).toBe(true);
    for (const key of [appB.SecretKey, appBNew.SecretKey])
      expect(out.filter((l) => l.includes(key))).toEqual([]);
    expect(out.filter((l) => l.includes(creds.SecretKey))).toEqual([expect.stringMatching(/^SecretKey:\s/)]);
  });
});

describe('restart', () => {
  it('SIGTERM stops everything it started (exit 0 within 15 s, no DynamoDB Local left)', async () => {
    const r = await stopSystem(sys!, 15_000);
    console.log(`stopped in ${(r.ms / 1000).toFixed(1)} s`);
    expect(r).toMatchObject({ code: 0, signal: null });
    // DynamoDB Local has the data dir in its command line (-dbPath); nothing may remain.
    const left = await listProcessesNaming(dataDir);
    expect(left).toEqual([]);
    expect(sys!.lines).toEqual(expect.arrayContaining([expect.stringMatching(/stopping OpenVOD/)]));
  });

  it('starts again on the same data dir with the same credentials and data', async () => {
    sys = await start();
    console.log(`restarted in ${(sys.readyMs / 1000).toFixed(1)} s`);
    const again = readCredentials(dataDir);
    expect(again.SubAppId).toBe(creds.SubAppId);
    expect(again.SecretId).toBe(creds.SecretId);
    expect(again.SecretKey).toBe(creds.SecretKey);
    openDynamo(again.DynamoDBEndpoint);

    const a = await client(again.SecretId, again.SecretKey).DescribeTasks({ Limit: 100 });
    expect((a.TaskSet as TaskRow[]).map((t) => t.TaskId)).toContain(taskOfA);
    expect(a.TotalCount).toBe(3);
    const b = await client(appBNew.SecretId, appBNew.SecretKey).DescribeTasks({ Limit: 1 });
    expect(b.TotalCount).toBe(28);
    expect(await errorCode(client(appB.SecretId, appB.SecretKey).DescribeTasks({}))).toBe(
      'AuthFailure.SecretIdNotFound',
    );
  });
});

describe('start-up errors', () => {
  async function spawnExpectingFailure(
    p: number,
  ): Promise<{ code: number | null; stdout: string; stderr: string }> {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'openvod-e2e-port-'));
    try {
      return await new Promise((resolve, reject) => {
        const env: NodeJS.ProcessEnv = { ...process.env, OPENVOD_PORT: String(p), OPENVOD_DATA_DIR: dir };
        const child = spawn(path.join(ROOT, 'node_modules/.bin/tsx'), ['local/main.ts'], {
          cwd: ROOT,
          env,
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
        child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        const timer = setTimeout(() => {
          child.kill('SIGKILL');
          reject(new Error(`did not exit within 20 s: ${stdout}${stderr}`));
        }, 20_000);
        child.once('exit', (code) => {
          clearTimeout(timer);
          resolve({ code, stdout, stderr });
        });
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  async function occupy(p: number): Promise<Server> {
    const srv = createServer();
    await new Promise<void>((resolve, reject) => {
      srv.once('error', reject);
      srv.listen(p, '127.0.0.1', () => resolve());
    });
    return srv;
  }

  it('exits non-zero with one line naming the port when OPENVOD_PORT is in use', async () => {
    const p = await freePortRange(5);
    const srv = await occupy(p);
    try {
      const r = await spawnExpectingFailure(p);
      expect(r.code).not.toBe(0);
      const lines = r.stderr.split('\n').filter((l) => l.trim());
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(new RegExp(`Port ${p} is in use`));
      expect(lines[0]).toMatch(/OPENVOD_PORT/);
      expect(r.stdout).not.toMatch(/ready/);
    } finally {
      srv.close();
    }
  });

  it("exits non-zero with one line naming the emulator's port when OPENVOD_PORT+1 is in use", async () => {
    const p = await freePortRange(5);
    const srv = await occupy(p + 1);
    try {
      const r = await spawnExpectingFailure(p);
      expect(r.code).not.toBe(0);
      const lines = r.stderr.split('\n').filter((l) => l.trim());
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(new RegExp(`Port ${p + 1}\\b.*is in use`));
    } finally {
      srv.close();
    }
  });
});
