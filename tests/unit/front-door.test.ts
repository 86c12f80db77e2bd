/**
 * The API front door (handleApiRequest) with a fake key lookup and a fake tasks service: Tencent's
 * envelope and error codes, app scoping, and what reaches the logs.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Logger } from '@aws-lambda-powertools/logger';
import * as vod from 'tencentcloud-sdk-nodejs-vod';
import { handleApiRequest, API_VERSION, type ApiRequest, type FrontDoorDeps } from '../../src/api/front-door';
import { ACTIONS, type ApiServices } from '../../src/api/actions';
import { OPENVOD_EXTENSION_ACTIONS, VOD_ACTIONS } from '../../src/api/vod-actions';
import type { DynamoTasksRepository, ListTasksQuery, ListTasksResult } from '../../src/adapters/tasks-repo';
import { sdkSign, type SignOptions } from '../helpers/tc3-sign';

const SUB_APP = 1500000007;
const SECRET_ID = 'AKIDfrontFRONTfrontFRONTfront000001';
const SECRET_KEY = 'SeCrEtKeYfRoNtDoOrSeCrEtKeY00001';
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

interface Envelope {
  Response: { RequestId: string; Error?: { Code: string; Message: string } } & Record<string, unknown>;
}

const list = jest.fn(async (q: ListTasksQuery): Promise<ListTasksResult> => ({
  tasks: [
    {
      taskId: `t-${q.subAppId}-1`,
      subAppId: q.subAppId,
      taskType: 'Procedure',
      status: 'WAITING',
      createTime: '2026-01-01T00:00:00.000Z',
    },
  ],
  scrollToken: undefined,
  totalCount: 1,
}));
const tasks = { list } as unknown as DynamoTasksRepository;
const resolveKey = jest.fn(async (id: string) =>
  id === SECRET_ID ? { subAppId: SUB_APP, secretKey: SECRET_KEY } : undefined,
);
const silent = new Logger({ serviceName: 'test', logLevel: 'SILENT' });

function deps(over: Partial<FrontDoorDeps> = {}): FrontDoorDeps {
  return {
    services: { tasks } as unknown as ApiServices,
    resolveKey,
    maxBodyBytes: 4096,
    maxClockSkewSeconds: 300,
    logger: silent,
    ...over,
  };
}

function request(o: Partial<SignOptions> = {}, over: Partial<ApiRequest> = {}): ApiRequest {
  const signed = sdkSign({
    secretId: SECRET_ID,
    secretKey: SECRET_KEY,
    action: 'DescribeTasks',
    version: API_VERSION,
    body: {},
    ...o,
  });
  return { ...signed, ...over };
}

async function call(req: ApiRequest, d: FrontDoorDeps = deps()): Promise<Envelope['Response']> {
  const res = await handleApiRequest(req, d);
  expect(res.statusCode).toBe(200);
  expect(res.headers['content-type']).toMatch(/^application\/json/);
  const env = JSON.parse(res.body) as Envelope;
  expect(Object.keys(env)).toEqual(['Response']);
  expect(env.Response.RequestId).toMatch(UUID_RE);
  return env.Response;
}

async function expectError(
  req: ApiRequest,
  code: string,
  message?: RegExp,
  d?: FrontDoorDeps,
): Promise<string> {
  const r = await call(req, d);
  expect(r.Error?.Code).toBe(code);
  expect(typeof r.Error?.Message).toBe('string');
  expect(r.Error?.Message.length).toBeGreaterThan(0);
  if (message) expect(r.Error?.Message).toMatch(message);
  expect(Object.keys(r).sort()).toEqual(['Error', 'RequestId']);
  return r.Error!.Message;
}

beforeEach(() => {
  list.mockClear();
  resolveKey.mockClear();
});

describe('handleApiRequest: success', () => {
  it('answers DescribeTasks in the Response envelope, scoped to the key’s app', async () => {
    const r = await call(request({ body: { Limit: 5, Status: 'WAITING' } }));
    expect(r.Error).toBeUndefined();
    expect(r.TotalCount).toBe(1);
    expect(r.ScrollToken).toBe('');
    expect(r.TaskSet).toEqual([
      {
        TaskId: `t-${SUB_APP}-1`,
        Status: 'WAITING',
        FileId: '',
        TaskType: 'Procedure',
        CreateTime: '2026-01-01T00:00:00.000Z',
        BeginProcessTime: '',
        FinishTime: '',
        SessionId: '',
        SessionContext: '',
      },
    ]);
    expect(list).toHaveBeenCalledTimes(1);
    expect(list.mock.calls[0][0]).toMatchObject({
      subAppId: SUB_APP,
      status: 'WAITING',
      limit: 5,
      sort: { field: 'CreateTime', order: 'Desc' },
    });
  });

  it('defaults Limit to 10 and accepts an empty body', async () => {
    const r = await call(request({ body: Buffer.alloc(0) }));
    expect(r.Error).toBeUndefined();
    expect(list.mock.calls[0][0]).toMatchObject({ subAppId: SUB_APP, limit: 10 });
  });

  it('accepts the caller’s own SubAppId', async () => {
    const r = await call(request({ body: { SubAppId: SUB_APP } }));
    expect(r.Error).toBeUndefined();
    expect(list.mock.calls[0][0].subAppId).toBe(SUB_APP);
  });

  it('passes CreateTime, Sort and ScrollToken through', async () => {
    const r = await call(
      request({
        body: {
          CreateTime: { After: '2026-01-01T00:00:00Z', Before: '2026-01-02T00:00:00+08:00' },
          Sort: { Field: 'CreateTime', Order: 'Asc' },
          ScrollToken: 'abc',
        },
      }),
    );
    expect(r.Error).toBeUndefined();
    expect(list.mock.calls[0][0]).toMatchObject({
      createTime: { after: '2026-01-01T00:00:00Z', before: '2026-01-02T00:00:00+08:00' },
      sort: { field: 'CreateTime', order: 'Asc' },
      scrollToken: 'abc',
    });
  });

  it('gives every answer a fresh RequestId', async () => {
    const a = await call(request());
    const b = await call(request());
    expect(a.RequestId).not.toBe(b.RequestId);
  });
});

describe('handleApiRequest: Tencent error codes', () => {
  it('AuthFailure.SignatureFailure for a wrong SecretKey', async () => {
    await expectError(request({ secretKey: 'wrong' }), 'AuthFailure.SignatureFailure');
    expect(list).not.toHaveBeenCalled();
  });

  it('AuthFailure.SignatureFailure for a body changed after signing', async () => {
    const req = request({ body: { Limit: 1 } });
    await expectError({ ...req, body: Buffer.from('{"Limit":2}') }, 'AuthFailure.SignatureFailure');
  });

  it('AuthFailure.SignatureFailure for a missing Authorization header', async () => {
    const req = request();
    const { authorization: _a, ...headers } = req.headers;
    await expectError({ ...req, headers }, 'AuthFailure.SignatureFailure');
  });

  it('AuthFailure.SecretIdNotFound for an unknown SecretId', async () => {
    await expectError(
      request({ secretId: 'AKIDnobodyNOBODYnobody000000000000' }),
      'AuthFailure.SecretIdNotFound',
    );
    expect(resolveKey).toHaveBeenCalledWith('AKIDnobodyNOBODYnobody000000000000');
  });

  it('AuthFailure.SignatureExpire for a clock skew over 5 minutes', async () => {
    const ts = Math.floor(Date.now() / 1000) - 301;
    await expectError(request({ timestamp: ts }), 'AuthFailure.SignatureExpire');
    const now = Date.now();
    await expectError(
      request({ timestamp: Math.floor(now / 1000) }),
      'AuthFailure.SignatureExpire',
      undefined,
      deps({ now: () => now + 400_000 }),
    );
  });

  it('AuthFailure.UnauthorizedOperation for another app’s SubAppId', async () => {
    await expectError(
      request({ body: { SubAppId: SUB_APP + 1 } }),
      'AuthFailure.UnauthorizedOperation',
      new RegExp(String(SUB_APP + 1)),
    );
    expect(list).not.toHaveBeenCalled();
  });

  it('InvalidParameter for malformed JSON (signed correctly)', async () => {
    await expectError(request({ body: Buffer.from('{"Limit": 10,') }), 'InvalidParameter', /JSON/);
  });

  it('InvalidParameter for a body that is not a JSON object', async () => {
    await expectError(request({ body: [1, 2] }), 'InvalidParameter');
    await expectError(request({ body: Buffer.from('"x"') }), 'InvalidParameter');
  });

  it.each([
    [{ Limit: '10' }, /Limit/],
    [{ Limit: 1.5 }, /Limit.*integer/],
    [{ Status: 5 }, /Status/],
    [{ CreateTime: { After: 20260101 } }, /CreateTime\.After/],
    [{ SubAppId: String(SUB_APP) }, /SubAppId/],
    [{ NoSuchField: 1 }, /NoSuchField/],
  ])('InvalidParameter for wrong types or unknown fields, naming the field: %j', async (body, field) => {
    await expectError(request({ body }), 'InvalidParameter', field);
    expect(list).not.toHaveBeenCalled();
  });

  it.each([
    [{ Limit: 1000 }, 'InvalidParameterValue.Limit'],
    [{ Limit: 0 }, 'InvalidParameterValue.Limit'],
    [{ Status: 'DONE' }, 'InvalidParameterValue.Status'],
    [{ CreateTime: { After: 'yesterday' } }, 'InvalidParameterValue.CreateTime'],
    [{ Sort: { Field: 'Name', Order: 'Asc' } }, 'InvalidParameterValue.Sort'],
  ])('InvalidParameterValue.<Field> for values out of range: %j', async (body, code) => {
    await expectError(request({ body }), code, new RegExp(code.split('.')[1]));
    expect(list).not.toHaveBeenCalled();
  });

  it('InvalidAction for an action the VOD API does not have', async () => {
    await expectError(request({ action: 'DescribeEverything' }), 'InvalidAction', /DescribeEverything/);
  });

  it('UnsupportedOperation for a known VOD action OpenVOD does not implement', async () => {
    const unimplemented = VOD_ACTIONS.filter((a) => !(a in ACTIONS));
    expect(unimplemented).toEqual(expect.arrayContaining(['DescribeCDNUsageData', 'CreateClass']));
    for (const action of ['DescribeCDNUsageData', 'CreateClass']) {
      await expectError(request({ action }), 'UnsupportedOperation', new RegExp(action));
    }
  });

  it('RequestSizeLimitExceeded for a body over the limit, before checking anything else', async () => {
    const big = { FileId: 'x', Padding: 'p'.repeat(5000) };
    await expectError(request({ body: big }), 'RequestSizeLimitExceeded', /4096/);
    await expectError(request({ body: big, secretKey: 'wrong' }), 'RequestSizeLimitExceeded');
    expect(resolveKey).not.toHaveBeenCalled();
  });

  it('MissingParameter for a missing X-TC-Action', async () => {
    await expectError(request({ action: undefined }), 'MissingParameter', /X-TC-Action/);
  });

  it('MissingParameter for a missing X-TC-Version', async () => {
    await expectError(request({ version: undefined }), 'MissingParameter', /X-TC-Version/);
  });

  it('NoSuchVersion for another API version', async () => {
    await expectError(request({ version: '2017-03-12' }), 'NoSuchVersion', /2018-07-17/);
  });

  it('UnsupportedProtocol for GET', async () => {
    await expectError(request({}, { method: 'GET', body: Buffer.alloc(0) }), 'UnsupportedProtocol');
  });

  it('UnsupportedProtocol for a non-JSON Content-Type', async () => {
    await expectError(
      request({ contentType: 'application/x-www-form-urlencoded', body: Buffer.from('Limit=1') }),
      'UnsupportedProtocol',
    );
  });

  it('InternalError (no details) when the service fails unexpectedly', async () => {
    list.mockRejectedValueOnce(new Error('dynamodb exploded at table openvod-dev-tasks'));
    const msg = await expectError(request(), 'InternalError');
    expect(msg).not.toMatch(/exploded|openvod-dev-tasks/);
  });
});

describe('handleApiRequest: logging', () => {
  it('logs each request with its RequestId but never the SecretKey or the request body', async () => {
    const lines: string[] = [];
    const capture = (chunk: unknown): boolean => {
      lines.push(String(chunk));
      return true;
    };
    const out = jest
      .spyOn(process.stdout, 'write')
      .mockImplementation(capture as typeof process.stdout.write);
    const err = jest
      .spyOn(process.stderr, 'write')
      .mockImplementation(capture as typeof process.stderr.write);
    const logger = new Logger({ serviceName: 'front-door-test', logLevel: 'DEBUG' });
    const marker = 'BODYMARKER7f3a9c';
    const ids: string[] = [];
    try {
      const d = deps({ logger });
      ids.push((await call(request({ body: { FileId: marker } }), d)).RequestId);
      ids.push((await call(request({ body: { FileId: marker }, secretKey: 'wrong' }), d)).RequestId);
      ids.push((await call(request({ body: { [marker]: 1 } }), d)).RequestId);
      ids.push((await call(request({ body: Buffer.from(`{"FileId":"${marker}"`) }), d)).RequestId);
      ids.push((await call(request({ body: { Limit: `${SECRET_KEY}` } }), d)).RequestId);
      list.mockRejectedValueOnce(new Error('boom'));
      ids.push((await call(request({ body: { FileId: marker } }), d)).RequestId);
    } finally {
      out.mockRestore();
      err.mockRestore();
    }
    const all = lines.join('');
    // Capturing works: one line per request, each with its correlation ID.
    for (const id of ids) expect(all).toContain(id);
    expect(all).toContain('"level":"ERROR"');
    expect(all).not.toContain(SECRET_KEY);
    expect(all).not.toContain(marker);
    expect(all).not.toContain('BODYMARKER');
    expect(all.toLowerCase()).not.toContain('signature=');
  });
});

describe('VOD_ACTIONS', () => {
  const dts = readFileSync(
    path.join(
      path.dirname(require.resolve('tencentcloud-sdk-nodejs-vod/package.json')),
      'tencentcloud/services/vod/v20180717/vod_client.d.ts',
    ),
    'utf8',
  );
  const sdkActions = [...dts.matchAll(/^\s+([A-Z][A-Za-z0-9]*)\(req\??:/gm)].map((m) => m[1]);

  it('equals the set of action methods of the installed SDK client', () => {
    expect(sdkActions.length).toBeGreaterThan(200);
    expect(new Set(VOD_ACTIONS).size).toBe(VOD_ACTIONS.length);
    expect([...VOD_ACTIONS].sort()).toEqual([...new Set(sdkActions)].sort());
  });

  it('matches the SDK client’s runtime prototype too', () => {
    const proto = vod.vod.v20180717.Client.prototype as unknown as Record<string, unknown>;
    const methods = Object.getOwnPropertyNames(proto).filter(
      (n) => /^[A-Z]/.test(n) && typeof proto[n] === 'function',
    );
    expect([...VOD_ACTIONS].sort()).toEqual(methods.sort());
  });

  it('contains every implemented action, except the named OpenVOD extensions', () => {
    for (const a of Object.keys(ACTIONS)) {
      if (!OPENVOD_EXTENSION_ACTIONS.includes(a)) expect(VOD_ACTIONS).toContain(a);
    }
    for (const a of OPENVOD_EXTENSION_ACTIONS) {
      expect(VOD_ACTIONS).not.toContain(a);
      expect(ACTIONS[a]).toBeDefined();
    }
  });
});
