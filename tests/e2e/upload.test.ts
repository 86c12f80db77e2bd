/**
 * Start processing on upload, end to end against `npm start`: ApplyUpload → plain HTTP PUT → CommitUpload
 * through the official SDK client; uploads by the plain AWS SDK S3 client carrying a procedure tag or metadata
 * (single PUT and multipart); the same S3 event delivered again; signed client uploads from a browser-like
 * client (CORS) and their refusals; app isolation; a non-media upload; an unknown procedure; PullUpload.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import * as http from 'node:http';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import type { Context, S3Event } from 'aws-lambda';
import {
  ROOT,
  runCli,
  shutdownSystem,
  startInFreshDir,
  type Credentials,
  type RunningSystem,
} from '../helpers/local-system';
import {
  apiError as sdkError,
  localDoc,
  localS3,
  vodClient,
  waitFinish as finished,
  type VodClient as Client,
} from '../helpers/sdk';
import { newUploadSignature, signUpload } from '../../src/services/upload-signature';

const run = promisify(execFile);
const REAL = path.resolve(__dirname, '../../../shared/media/real-footage-320x192-5994.mp4');

let sys: RunningSystem | undefined;
let dataDir: string;
let workDir: string;
let port: number;
let creds: Credentials;
let client: Client;
let other: { client: Client; subAppId: number; secretId: string; secretKey: string };
let ddb: DynamoDBDocumentClient;
let s3: S3Client;
let mediaServer: http.Server;
let mediaBase: string;
let bigFile: string;
const PROC = 'e2eSnap';
let savedEnv: NodeJS.ProcessEnv | undefined;

const makeClient = (secretId: string, secretKey: string): Client => vodClient(port, secretId, secretKey);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface MediaItem {
  fileId: string;
  subAppId: number;
  status: string;
  key: string;
  failReason?: string;
  procedureTaskId?: string;
  procedureError?: string;
}
async function mediaByKey(
  key: string,
  until: (m: MediaItem) => boolean,
  timeoutMs = 60_000,
): Promise<MediaItem[]> {
  const started = Date.now();
  for (;;) {
    const out = await ddb.send(
      new ScanCommand({
        TableName: 'openvod-dev-media',
        FilterExpression: '#k = :k',
        ExpressionAttributeNames: { '#k': 'key' },
        ExpressionAttributeValues: { ':k': key },
      }),
    );
    const items = (out.Items ?? []) as MediaItem[];
    if (items.length > 0 && items.every(until)) return items;
    if (Date.now() - started > timeoutMs)
      throw new Error(`media for ${key} not as expected: ${JSON.stringify(items)}`);
    await sleep(300);
  }
}

async function tasksOf(c: Client, fileId: string) {
  const out = await c.DescribeTasks({ FileId: fileId, Limit: 100 });
  return out.TaskSet ?? [];
}

const waitFinish = (c: Client, taskId: string) => finished(c, taskId, 120_000);

/** The single flow of a FileId, run to FINISH with every subtask SUCCESS. */
async function flowOf(fileId: string) {
  let tasks = await tasksOf(client, fileId);
  for (let i = 0; tasks.length === 0 && i < 100; i++) {
    await sleep(300);
    tasks = await tasksOf(client, fileId);
  }
  expect(tasks).toHaveLength(1);
  // The upload's flow is deduplicated internally: it has no SessionId of its own (a business's stays free).
  expect(tasks[0].SessionId).toBe('');
  const d = await waitFinish(client, String(tasks[0].TaskId));
  expect(d.TaskType).toBe('Procedure');
  expect(d.ProcedureTask?.SessionId).toBe('');
  const subs = (d.ProcedureTask?.MediaProcessResultSet ?? []).map(
    (r) => Object.values(r).find((v) => v && typeof v === 'object') as { Status: string },
  );
  expect(subs.length).toBeGreaterThan(0);
  expect(subs.every((s) => s.Status === 'SUCCESS')).toBe(true);
  return { taskId: String(tasks[0].TaskId), detail: d };
}

async function clientApply(body: object, origin = 'https://shop.example') {
  const res = await fetch(`http://127.0.0.1:${port}/upload/apply`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin },
    body: JSON.stringify(body),
  });
  const json = (await res.json()) as {
    Response: Record<string, unknown> & { Error?: { Code: string; Message: string } };
  };
  return {
    status: res.status,
    allowOrigin: res.headers.get('access-control-allow-origin'),
    r: json.Response,
  };
}

async function putTo(url: string, headers: Record<string, string>, file: string): Promise<void> {
  const res = await fetch(url, { method: 'PUT', headers, body: readFileSync(file) });
  expect(res.status).toBe(200);
}

/** Invokes the trigger handler in this process with an S3 event, as S3 redelivering it would. */
async function deliverAgain(key: string): Promise<void> {
  const { handler } = (await import('../../functions/upload-trigger')) as {
    handler: (e: S3Event, c: Context) => Promise<void>;
  };
  const record = {
    eventVersion: '2.1',
    eventSource: 'aws:s3',
    awsRegion: 'us-east-1',
    eventTime: new Date().toISOString(),
    eventName: 'ObjectCreated:Put',
    s3: {
      s3SchemaVersion: '1.0',
      configurationId: 'redelivery',
      bucket: {
        name: creds.MediaBucket,
        arn: `arn:aws:s3:::${creds.MediaBucket}`,
        ownerIdentity: { principalId: 'x' },
      },
      object: {
        key: key.split('/').map(encodeURIComponent).join('/'),
        size: 1,
        eTag: 'e',
        sequencer: '00FFFF',
      },
    },
  };
  await handler({ Records: [record] } as unknown as S3Event, { awsRequestId: 'redelivery' } as Context);
}

beforeAll(async () => {
  workDir = mkdtempSync(path.join(tmpdir(), 'openvod-upload-files-'));
  // A file above lib-storage's 5 MiB part size: the real clip looped, stream-copied.
  bigFile = path.join(workDir, 'big.mp4');
  await run('ffmpeg', [
    '-hide_banner',
    '-loglevel',
    'error',
    '-y',
    '-stream_loop',
    '6',
    '-i',
    REAL,
    '-c',
    'copy',
    bigFile,
  ]);
  writeFileSync(path.join(workDir, 'notes.txt'), 'this is not a video\n'.repeat(100));
  mediaServer = http.createServer((req, res) => {
    if (req.url === '/clip.mp4') {
      res.writeHead(200, { 'content-type': 'video/mp4' });
      res.end(readFileSync(REAL));
    } else {
      res.writeHead(404);
      res.end();
    }
  });
  await new Promise<void>((r) => mediaServer.listen(0, '127.0.0.1', () => r()));
  mediaBase = `http://127.0.0.1:${(mediaServer.address() as { port: number }).port}`;

  ({ sys, dataDir, port, creds } = await startInFreshDir('openvod-upload-'));
  client = makeClient(creds.SecretId, creds.SecretKey);
  const created = JSON.parse(await runCli(dataDir, ['app', 'create', '--name', 'other', '--json'])) as {
    SubAppId: number;
    SecretId: string;
    SecretKey: string;
  };
  other = {
    client: makeClient(created.SecretId, created.SecretKey),
    subAppId: created.SubAppId,
    secretId: created.SecretId,
    secretKey: created.SecretKey,
  };
  ddb = localDoc(creds.DynamoDBEndpoint);
  s3 = localS3(creds.S3Endpoint);
  // The trigger handler, when invoked in this process (redelivery test), talks to the running system.
  savedEnv = { ...process.env };
  const { loadServiceModel } = await import('../../local/serverless-config');
  const model = loadServiceModel({ root: ROOT, endpoints: { sqs: creds.SQSEndpoint } });
  Object.assign(process.env, {
    ...model.environment,
    OPENVOD_MODE: 'local',
    OPENVOD_DYNAMODB_ENDPOINT: creds.DynamoDBEndpoint,
    OPENVOD_S3_ENDPOINT: creds.S3Endpoint,
    OPENVOD_SQS_ENDPOINT: creds.SQSEndpoint,
    OPENVOD_SFN_ENDPOINT: creds.SFNEndpoint,
    OPENVOD_LOCAL_MASTER_KEY: readFileSync(path.join(dataDir, 'master.key'), 'utf8').trim(),
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
  });
  delete process.env.OPENVOD_KMS_KEY_ID;

  await client.CreateProcedureTemplate({
    Name: PROC,
    MediaProcessTask: { SnapshotByTimeOffsetTaskSet: [{ Definition: 10, ExtTimeOffsetSet: ['1s'] }] },
  });
  await client.ModifyEventConfig({ Mode: 'PULL', UploadMediaCompleteEventSwitch: 'ON' });
}, 180_000);

afterAll(async () => {
  // npm test runs every file in one process: leave the environment as it was.
  if (savedEnv) {
    for (const k of Object.keys(process.env)) if (!(k in savedEnv)) delete process.env[k];
    Object.assign(process.env, savedEnv);
  }
  await shutdownSystem(sys);
  await new Promise<void>((r) => mediaServer?.close(() => r()));
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  rmSync(workDir, { recursive: true, force: true });
});

describe('ApplyUpload / CommitUpload (official SDK client)', () => {
  test('apply with a Procedure, PUT with plain HTTP, commit → FileId, the flow runs to FINISH once, even if S3 redelivers', async () => {
    const apply = (await client.ApplyUpload({
      MediaType: 'MP4',
      MediaName: 'holiday clip',
      Procedure: PROC,
      SessionContext: 'order-7',
    })) as Record<string, unknown>;
    expect(apply.VodSessionKey).toMatch(/^[0-9a-f]{32}$/);
    expect(apply.StorageBucket).toBe(creds.MediaBucket);
    expect(apply.MediaStoragePath).toBe(
      `/uploads/${creds.SubAppId}/${String(apply.VodSessionKey)}/holiday clip.mp4`,
    );
    expect(apply.UploadHeaders).toMatchObject({ 'Content-Type': 'video/mp4' });
    await putTo(String(apply.UploadUrl), apply.UploadHeaders as Record<string, string>, REAL);

    const commit = await client.CommitUpload({ VodSessionKey: String(apply.VodSessionKey) });
    expect(commit.FileId).toMatch(/^\d{19}$/);
    expect(commit.MediaUrl).toContain('holiday%20clip.mp4');
    const { detail } = await flowOf(String(commit.FileId));
    expect(detail.ProcedureTask?.SessionContext).toBe('order-7');
    const [m] = await mediaByKey(
      String(apply.MediaStoragePath).slice(1),
      (x) => x.status === 'READY' && !!x.procedureTaskId,
    );
    expect(m.fileId).toBe(commit.FileId);

    // The same S3 event delivered twice more: still one media and one flow.
    await deliverAgain(String(apply.MediaStoragePath).slice(1));
    await deliverAgain(String(apply.MediaStoragePath).slice(1));
    expect(await mediaByKey(String(apply.MediaStoragePath).slice(1), () => true)).toHaveLength(1);
    expect(await tasksOf(client, String(commit.FileId))).toHaveLength(1);

    // NewFileUpload, once, with the flow's TaskId.
    const events = await client.PullEvents({});
    const uploads = (events.EventSet ?? []).filter(
      (e) => e.EventType === 'NewFileUpload' && e.FileUploadEvent?.FileId === commit.FileId,
    );
    expect(uploads).toHaveLength(1);
    expect(uploads[0].FileUploadEvent?.ProcedureTaskId).toBe(m.procedureTaskId);
    expect(uploads[0].FileUploadEvent?.MediaBasicInfo?.Name).toBe('holiday clip');
    // OpenVOD extension: the upload's SessionContext travels in NewFileUpload too.
    expect((uploads[0].FileUploadEvent as Record<string, unknown>).SessionContext).toBe('order-7');

    // Reused, foreign and unknown session keys.
    const reused = await sdkError(client.CommitUpload({ VodSessionKey: String(apply.VodSessionKey) }));
    expect(reused.code).toBe('InvalidParameterValue.VodSessionKey');
    expect(reused.message).toMatch(/already committed/);
    const apply2 = await client.ApplyUpload({ MediaType: 'mp4' });
    const foreign = await sdkError(
      other.client.CommitUpload({ VodSessionKey: String(apply2.VodSessionKey) }),
    );
    expect(foreign.code).toBe('InvalidParameterValue.VodSessionKey');
    expect(foreign.message).toMatch(/does not exist/);
    const early = await sdkError(client.CommitUpload({ VodSessionKey: String(apply2.VodSessionKey) }));
    expect(early.code).toBe('FailedOperation');
    expect((await sdkError(client.ApplyUpload({ MediaType: 'mp4', CoverType: 'jpg' }))).message).toMatch(
      /CoverType/,
    );
  }, 180_000);

  test('a big file is applied for as multipart: parts PUT, completion POSTed, committed, flow FINISH', async () => {
    const size = statSync(bigFile).size;
    const apply = (await client.ApplyUpload({
      MediaType: 'mp4',
      MediaName: 'big',
      Procedure: PROC,
      MediaSize: size,
      UploadPartSize: 5 * 1024 * 1024,
    } as never)) as Record<string, unknown>;
    const parts = apply.UploadParts as Array<{ PartNumber: number; Url: string }>;
    const partSize = Number(apply.UploadPartSize);
    expect(parts.length).toBe(Math.ceil(size / partSize));
    const body = readFileSync(bigFile);
    const etags: string[] = [];
    for (const p of parts) {
      const res = await fetch(p.Url, {
        method: 'PUT',
        body: body.subarray((p.PartNumber - 1) * partSize, p.PartNumber * partSize),
      });
      expect(res.status).toBe(200);
      etags.push(String(res.headers.get('etag')));
    }
    const xml = `<CompleteMultipartUpload>${etags.map((e, i) => `<Part><PartNumber>${i + 1}</PartNumber><ETag>${e}</ETag></Part>`).join('')}</CompleteMultipartUpload>`;
    // OpenVOD's PresignUploadParts presigns parts (and the completion) again, for this app's session only.
    const again = (await (client as unknown as { request(a: string, p: object): Promise<unknown> }).request(
      'PresignUploadParts',
      { VodSessionKey: String(apply.VodSessionKey), PartNumbers: [2] },
    )) as { UploadParts: Array<{ PartNumber: number; Url: string }>; UploadCompleteUrl: string };
    expect(again.UploadParts.map((p) => p.PartNumber)).toEqual([2]);
    const foreign = await sdkError(
      (other.client as unknown as { request(a: string, p: object): Promise<unknown> }).request(
        'PresignUploadParts',
        { VodSessionKey: String(apply.VodSessionKey) },
      ),
    );
    expect(foreign.code).toBe('InvalidParameterValue.VodSessionKey');
    const done = await fetch(again.UploadCompleteUrl, {
      method: 'POST',
      body: xml,
      headers: { 'content-type': 'application/xml' },
    });
    expect(done.status).toBe(200);
    const commit = await client.CommitUpload({ VodSessionKey: String(apply.VodSessionKey) });
    await flowOf(String(commit.FileId));
  }, 180_000);
});

describe('uploads by any S3 client into uploads/<SubAppId>/', () => {
  test('PutObject with a procedure tag (plain AWS SDK) registers the media and starts the flow', async () => {
    const key = `uploads/${creds.SubAppId}/plain/Tagged Clip.MP4`;
    await s3.send(
      new PutObjectCommand({
        Bucket: creds.MediaBucket,
        Key: key,
        Body: readFileSync(REAL),
        Tagging: `procedure=${PROC}&sessionContext=tagged`,
      }),
    );
    const [m] = await mediaByKey(key, (x) => x.status === 'READY' && !!x.procedureTaskId);
    const { detail } = await flowOf(m.fileId);
    expect(detail.ProcedureTask?.SessionContext).toBe('tagged');
  }, 120_000);

  test('a multipart upload (lib-storage) with procedure metadata starts the flow', async () => {
    const key = `uploads/${creds.SubAppId}/plain/multi.mp4`;
    await new Upload({
      client: s3,
      params: {
        Bucket: creds.MediaBucket,
        Key: key,
        Body: readFileSync(bigFile),
        Metadata: { procedure: PROC },
      },
      partSize: 5 * 1024 * 1024,
    }).done();
    const [m] = await mediaByKey(key, (x) => x.status === 'READY' && !!x.procedureTaskId);
    await flowOf(m.fileId);
  }, 120_000);

  test('a non-media file is FAILED with a reason and starts nothing; an unknown procedure is reported', async () => {
    const bad = `uploads/${creds.SubAppId}/plain/notes.mp4`;
    await s3.send(
      new PutObjectCommand({
        Bucket: creds.MediaBucket,
        Key: bad,
        Body: readFileSync(path.join(workDir, 'notes.txt')),
        Tagging: `procedure=${PROC}`,
      }),
    );
    const [f] = await mediaByKey(bad, (x) => x.status === 'FAILED');
    expect(f.failReason).toMatch(/./);
    await sleep(1000);
    expect(await tasksOf(client, f.fileId)).toHaveLength(0);

    const unknown = `uploads/${creds.SubAppId}/plain/unknown-proc.mp4`;
    await s3.send(
      new PutObjectCommand({
        Bucket: creds.MediaBucket,
        Key: unknown,
        Body: readFileSync(REAL),
        Tagging: 'procedure=NoSuchFlow',
      }),
    );
    const [u] = await mediaByKey(unknown, (x) => x.status === 'READY' && !!x.procedureError);
    expect(u.procedureError).toMatch(/NoSuchFlow/);
    expect(await tasksOf(client, u.fileId)).toHaveLength(0);
    const events = await client.PullEvents({});
    const ev = (events.EventSet ?? []).find((e) => e.FileUploadEvent?.FileId === u.fileId);
    expect((ev?.FileUploadEvent as Record<string, unknown> | undefined)?.ProcedureError).toMatch(
      /NoSuchFlow/,
    );
  }, 120_000);
});

describe('signed client upload (POST /upload/apply)', () => {
  test('a browser-like client: preflight, apply with the signature, PUT, the flow runs', async () => {
    const pre = await fetch(`http://127.0.0.1:${port}/upload/apply`, {
      method: 'OPTIONS',
      headers: {
        origin: 'https://shop.example',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type',
      },
    });
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-origin')).toBe('https://shop.example');
    expect(pre.headers.get('access-control-allow-methods')).toMatch(/POST/);

    const signature = (
      await runCli(dataDir, [
        'sign-upload',
        '--procedure',
        PROC,
        '--expire',
        '600',
        '--session-context',
        'browser',
      ])
    ).trim();
    const a = await clientApply({ signature, mediaName: 'from browser', mediaType: 'mp4' });
    expect(a.status).toBe(200);
    expect(a.allowOrigin).toBe('https://shop.example');
    expect(a.r.SubAppId).toBe(creds.SubAppId);
    await putTo(String(a.r.UploadUrl), a.r.UploadHeaders as Record<string, string>, REAL);
    const { detail } = await flowOf(String(a.r.FileId));
    expect(detail.ProcedureTask?.SessionContext).toBe('browser');
  }, 120_000);

  test('expired, tampered, reused one-time and foreign-app signatures are refused', async () => {
    const expired = newUploadSignature(creds.SecretId, creds.SecretKey, {
      expireSeconds: 60,
      procedure: PROC,
      now: Date.now() - 3600_000,
    });
    const e = await clientApply({ signature: expired, mediaType: 'mp4' });
    expect(e.status).toBe(403);
    expect(e.r.Error?.Code).toBe('AuthFailure.SignatureExpire');

    const good = newUploadSignature(creds.SecretId, creds.SecretKey, { expireSeconds: 600, procedure: PROC });
    const raw = Buffer.from(good, 'base64');
    const tampered = Buffer.concat([
      raw.subarray(0, 20),
      Buffer.from(raw.subarray(20).toString().replace(PROC, 'Other')),
    ]).toString('base64');
    const t = await clientApply({ signature: tampered, mediaType: 'mp4' });
    expect(t.r.Error?.Code).toBe('AuthFailure.SignatureFailure');

    const once = (await runCli(dataDir, ['sign-upload', '--procedure', PROC, '--one-time'])).trim();
    expect((await clientApply({ signature: once, mediaType: 'mp4' })).status).toBe(200);
    const again = await clientApply({ signature: once, mediaType: 'mp4' });
    expect(again.status).toBe(403);
    expect(again.r.Error?.Message).toMatch(/one-time/);

    // Another app's key cannot upload into this app.
    const now = Math.floor(Date.now() / 1000);
    const foreign = signUpload(other.secretKey, {
      secretId: other.secretId,
      currentTimeStamp: now,
      expireTime: now + 600,
      random: 7,
      vodSubAppId: creds.SubAppId,
    });
    const f = await clientApply({ signature: foreign, mediaType: 'mp4' });
    expect(f.r.Error?.Code).toBe('AuthFailure.UnauthorizedOperation');
    // …and its own signature uploads into its own app only.
    const own = signUpload(other.secretKey, {
      secretId: other.secretId,
      currentTimeStamp: now,
      expireTime: now + 600,
      random: 8,
    });
    const o = await clientApply({ signature: own, mediaType: 'mp4' });
    expect(o.r.SubAppId).toBe(other.subAppId);
    expect(String(o.r.MediaStoragePath)).toMatch(new RegExp(`^/uploads/${other.subAppId}/`));
  }, 60_000);
});

describe('PullUpload', () => {
  test('pulls the URL into a new media (TaskType PullUpload) and starts its procedure', async () => {
    const { TaskId } = await client.PullUpload({
      MediaUrl: `${mediaBase}/clip.mp4`,
      MediaName: 'pulled',
      Procedure: PROC,
      SessionContext: 'pull-ctx',
    });
    const d = await waitFinish(client, String(TaskId));
    expect(d.TaskType).toBe('PullUpload');
    const p = d.PullUploadTask!;
    expect(p).toMatchObject({ Status: 'FINISH', ErrCode: 0, SessionContext: 'pull-ctx' });
    expect(p.FileId).toMatch(/^\d{19}$/);
    expect(p.MediaBasicInfo?.Name).toBe('pulled');
    expect(p.MetaData?.Duration).toBeGreaterThan(0);
    expect(p.ProcedureTaskId).toBeTruthy();
    const proc = await waitFinish(client, String(p.ProcedureTaskId));
    expect(proc.ProcedureTask?.FileId).toBe(p.FileId);
    // Notifications: one PullComplete for the task, carrying its PullUploadTask (SessionContext included).
    // Everything pulled is confirmed, so each pull reaches newer events.
    const completes: NonNullable<Awaited<ReturnType<typeof client.PullEvents>>['EventSet']> = [];
    for (let i = 0; i < 30 && completes.length === 0; i++) {
      const set = (await client.PullEvents({})).EventSet ?? [];
      completes.push(
        ...set.filter((e) => e.EventType === 'PullComplete' && e.PullCompleteEvent?.TaskId === TaskId),
      );
      if (set.length) await client.ConfirmEvents({ EventHandles: set.map((e) => String(e.EventHandle)) });
    }
    expect(completes).toHaveLength(1);
    expect(completes[0].PullCompleteEvent).toMatchObject({
      TaskId,
      Status: 'FINISH',
      ErrCode: 0,
      FileId: p.FileId,
      SessionContext: 'pull-ctx',
    });

    const bad = await client.PullUpload({ MediaUrl: `${mediaBase}/missing.mp4`, Procedure: PROC });
    const b = await waitFinish(client, String(bad.TaskId));
    expect(b.PullUploadTask).toMatchObject({ Status: 'FINISH', ErrCode: 60000, ProcedureTaskId: '' });
    expect(
      (await sdkError(client.PullUpload({ MediaUrl: 'http://169.254.169.254/latest/meta-data' }))).code,
    ).toBe('InvalidParameterValue.MediaUrl');
  }, 180_000);
});
