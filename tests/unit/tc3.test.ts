/**
 * TC3-HMAC-SHA256 verification against the official SDK's own signer (tencentcloud-sdk-nodejs-common
 * sign3), plus Tencent's documented known-answer vector.
 */
import Sign from 'tencentcloud-sdk-nodejs-common/tencentcloud/common/sign';
import { ApiError } from '../../src/domain/errors';
import {
  computeSignature,
  parseAuthorization,
  utcDate,
  verifyTc3,
  type SignedRequest,
} from '../../src/api/tc3';
import { sdkSign } from '../helpers/tc3-sign';

const SECRET_ID = 'AKIDtestTESTtestTESTtestTESTtest1234';
const SECRET_KEY = 'k3yK3yk3yK3yk3yK3yk3yK3yk3yK3y12';
const NOW = 1_767_225_600; // 2026-01-01T00:00:00Z
const SKEW = 300;

type Principal = { subAppId: number; secretKey: string };
const keys = new Map<string, Principal>([[SECRET_ID, { subAppId: 1500000001, secretKey: SECRET_KEY }]]);
const lookup = jest.fn(async (id: string) => keys.get(id));

const verify = (req: SignedRequest, nowSeconds = NOW) =>
  verifyTc3(req, { nowSeconds, maxSkewSeconds: SKEW, lookup });

async function expectCode(p: Promise<unknown>, code: string, message?: RegExp): Promise<void> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ApiError);
  expect((err as ApiError).code).toBe(code);
  if (message) expect((err as ApiError).message).toMatch(message);
}

const sign = (over: Partial<Parameters<typeof sdkSign>[0]> = {}) =>
  sdkSign({
    secretId: SECRET_ID,
    secretKey: SECRET_KEY,
    endpoint: '127.0.0.1:3000',
    action: 'DescribeTasks',
    version: '2018-07-17',
    timestamp: NOW,
    body: { Limit: 10, Status: 'WAITING' },
    ...over,
  });

beforeEach(() => lookup.mockClear());

describe('verifyTc3 with requests signed by the official SDK signer', () => {
  it('accepts a request the SDK signed (host signed without its port, Host header with it)', async () => {
    const req = sign();
    expect(req.headers.host).toBe('127.0.0.1:3000');
    expect(req.headers.authorization).toMatch(
      /Credential=AKID\w+\/2026-01-01\/127\/tc3_request, SignedHeaders=content-type;host, Signature=[0-9a-f]{64}$/,
    );
    const out = await verify(req);
    expect(out.secretId).toBe(SECRET_ID);
    expect(out.principal).toEqual({ subAppId: 1500000001, secretKey: SECRET_KEY });
    expect(lookup).toHaveBeenCalledWith(SECRET_ID);
  });

  it('accepts a request signed for a real Tencent endpoint (service "vod", https, no port)', async () => {
    const req = sign({ endpoint: 'vod.tencentcloudapi.com', protocol: 'https:' });
    expect(req.headers.authorization).toContain('/vod/tc3_request');
    await expect(verify(req)).resolves.toMatchObject({ secretId: SECRET_ID });
  });

  it('accepts a signature over the Host header including its port (plain clients)', async () => {
    const body = Buffer.from('{"Limit":1}');
    const headers: Array<[string, string]> = [
      ['content-type', 'application/json'],
      ['host', 'localhost:8080'],
    ];
    const sig = computeSignature({
      method: 'POST',
      path: '/',
      query: '',
      signedHeaders: headers,
      body,
      timestamp: NOW,
      service: 'vod',
      secretKey: SECRET_KEY,
    });
    const req: SignedRequest = {
      method: 'POST',
      path: '/',
      query: '',
      body,
      headers: {
        Host: 'localhost:8080',
        'Content-Type': 'application/json',
        'X-TC-Timestamp': String(NOW),
        Authorization: `TC3-HMAC-SHA256 Credential=${SECRET_ID}/${utcDate(NOW)}/vod/tc3_request, SignedHeaders=content-type;host, Signature=${sig}`,
      },
    };
    await expect(verify(req)).resolves.toMatchObject({ secretId: SECRET_ID });
  });

  it('treats header names case-insensitively', async () => {
    const req = sign();
    const upper: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) upper[k.toUpperCase()] = v;
    await expect(verify({ ...req, headers: upper })).resolves.toMatchObject({ secretId: SECRET_ID });
  });

  it('accepts a clock skew of exactly the limit, both ways', async () => {
    await expect(verify(sign(), NOW + SKEW)).resolves.toMatchObject({ secretId: SECRET_ID });
    await expect(verify(sign(), NOW - SKEW)).resolves.toMatchObject({ secretId: SECRET_ID });
  });

  it('rejects a tampered body with AuthFailure.SignatureFailure', async () => {
    const req = sign();
    const tampered = Buffer.from(req.body.toString('utf8').replace('WAITING', 'FINISH'));
    expect(tampered.equals(req.body)).toBe(false);
    await expectCode(
      verify({ ...req, body: tampered }),
      'AuthFailure.SignatureFailure',
      /signature does not match/,
    );
  });

  it('rejects a tampered signed header (content-type) with AuthFailure.SignatureFailure', async () => {
    const req = sign();
    await expectCode(
      verify({ ...req, headers: { ...req.headers, 'content-type': 'application/json; charset=utf-8' } }),
      'AuthFailure.SignatureFailure',
    );
  });

  it('rejects a request for another host with AuthFailure.SignatureFailure', async () => {
    const req = sign();
    await expectCode(
      verify({ ...req, headers: { ...req.headers, host: 'evil.example:3000' } }),
      'AuthFailure.SignatureFailure',
    );
  });

  it('rejects a request signed with the wrong SecretKey with AuthFailure.SignatureFailure', async () => {
    await expectCode(verify(sign({ secretKey: `${SECRET_KEY}x` })), 'AuthFailure.SignatureFailure');
  });

  it('rejects an unknown SecretId with AuthFailure.SecretIdNotFound', async () => {
    await expectCode(
      verify(sign({ secretId: 'AKIDunknownUNKNOWNunknown000000000' })),
      'AuthFailure.SecretIdNotFound',
    );
    expect(lookup).toHaveBeenCalledWith('AKIDunknownUNKNOWNunknown000000000');
  });

  it('rejects a timestamp 301 s off (either way) with AuthFailure.SignatureExpire, before any key lookup', async () => {
    await expectCode(verify(sign({ timestamp: NOW - 301 })), 'AuthFailure.SignatureExpire');
    await expectCode(verify(sign({ timestamp: NOW + 301 })), 'AuthFailure.SignatureExpire');
    expect(lookup).not.toHaveBeenCalled();
  });

  it('rejects a Credential date that does not match X-TC-Timestamp', async () => {
    const req = sign();
    const auth = req.headers.authorization.replace('/2026-01-01/', '/2025-12-31/');
    await expectCode(
      verify({ ...req, headers: { ...req.headers, authorization: auth } }),
      'AuthFailure.SignatureFailure',
      /Credential date/,
    );
  });

  it('rejects a missing or non-numeric X-TC-Timestamp', async () => {
    const req = sign();
    const { 'x-tc-timestamp': _drop, ...noTs } = req.headers;
    await expectCode(verify({ ...req, headers: noTs }), 'AuthFailure.SignatureFailure', /X-TC-Timestamp/);
    await expectCode(
      verify({ ...req, headers: { ...req.headers, 'x-tc-timestamp': 'soon' } }),
      'AuthFailure.SignatureFailure',
      /X-TC-Timestamp/,
    );
  });

  it.each([
    ['missing', undefined],
    ['empty', ''],
    ['another scheme', 'Bearer abc'],
    [
      'HMAC-SHA1 v1 style',
      'TC3-HMAC-SHA1 Credential=AKID/2026-01-01/vod/tc3_request, SignedHeaders=content-type;host, Signature=' +
        'a'.repeat(64),
    ],
    [
      'short signature',
      `TC3-HMAC-SHA256 Credential=${SECRET_ID}/2026-01-01/vod/tc3_request, SignedHeaders=content-type;host, Signature=abcd`,
    ],
    [
      'no SignedHeaders',
      `TC3-HMAC-SHA256 Credential=${SECRET_ID}/2026-01-01/vod/tc3_request, Signature=${'a'.repeat(64)}`,
    ],
    [
      'bad credential scope',
      `TC3-HMAC-SHA256 Credential=${SECRET_ID}/2026-01-01/vod/aws4_request, SignedHeaders=content-type;host, Signature=${'a'.repeat(64)}`,
    ],
  ])(
    'rejects a malformed Authorization header (%s) with AuthFailure.SignatureFailure',
    async (_what, value) => {
      const req = sign();
      const headers: Record<string, string | undefined> = { ...req.headers, authorization: value };
      await expectCode(verify({ ...req, headers }), 'AuthFailure.SignatureFailure');
      expect(lookup).not.toHaveBeenCalled();
    },
  );

  it('rejects SignedHeaders that leave out host or content-type', async () => {
    const body = Buffer.from('{}');
    const sig = computeSignature({
      method: 'POST',
      path: '/',
      query: '',
      signedHeaders: [['content-type', 'application/json']],
      body,
      timestamp: NOW,
      service: 'vod',
      secretKey: SECRET_KEY,
    });
    const req: SignedRequest = {
      method: 'POST',
      path: '/',
      query: '',
      body,
      headers: {
        host: 'x',
        'content-type': 'application/json',
        'x-tc-timestamp': String(NOW),
        authorization: `TC3-HMAC-SHA256 Credential=${SECRET_ID}/${utcDate(NOW)}/vod/tc3_request, SignedHeaders=content-type, Signature=${sig}`,
      },
    };
    await expectCode(verify(req), 'AuthFailure.SignatureFailure', /SignedHeaders/);
  });
});

describe('parseAuthorization', () => {
  it('splits the SDK header into its parts', () => {
    const req = sign();
    const p = parseAuthorization(req.headers.authorization);
    expect(p).toMatchObject({
      secretId: SECRET_ID,
      date: '2026-01-01',
      service: '127',
      signedHeaders: ['content-type', 'host'],
    });
    expect(p.signature).toMatch(/^[0-9a-f]{64}$/);
  });
});

/**
 * Tencent's documented example (Signature v3 page, CVM DescribeInstances): the docs mask the keys with
 * asterisks, and the published signature is computed over those literal strings.
 */
describe("Tencent's documented TC3 example (cvm DescribeInstances, 2019-02-25)", () => {
  const docId = 'AKIDz8krbsJ5yKBZQpn74WFkmLPx3*******';
  const docKey = 'Gu5t9xGARNpq86cd98joQYCN3*******';
  const timestamp = 1551113065;
  const payload = '{"Limit": 1, "Filters": [{"Values": ["\\u672a\\u547d\\u540d"], "Name": "instance-name"}]}';
  const expected = '2230eefd229f582d8b1b891af7107b91597240707d778ab3738f756258d7652c';

  it('computeSignature reproduces the published signature', () => {
    const sig = computeSignature({
      method: 'POST',
      path: '/',
      query: '',
      signedHeaders: [
        ['content-type', 'application/json; charset=utf-8'],
        ['host', 'cvm.tencentcloudapi.com'],
      ],
      body: Buffer.from(payload, 'utf8'),
      timestamp,
      service: 'cvm',
      secretKey: docKey,
    });
    expect(sig).toBe(expected);
  });

  it('verifyTc3 accepts the published Authorization header', async () => {
    const req: SignedRequest = {
      method: 'POST',
      path: '/',
      query: '',
      body: Buffer.from(payload, 'utf8'),
      headers: {
        Host: 'cvm.tencentcloudapi.com',
        'Content-Type': 'application/json; charset=utf-8',
        'X-TC-Action': 'DescribeInstances',
        'X-TC-Timestamp': String(timestamp),
        'X-TC-Version': '2017-03-12',
        Authorization: `TC3-HMAC-SHA256 Credential=${docId}/2019-02-25/cvm/tc3_request, SignedHeaders=content-type;host, Signature=${expected}`,
      },
    };
    const out = await verifyTc3(req, {
      nowSeconds: timestamp + 10,
      maxSkewSeconds: 300,
      lookup: async (id) => (id === docId ? { secretKey: docKey } : undefined),
    });
    expect(out.secretId).toBe(docId);
  });

  it('the SDK signer produces the same signature for the same input', () => {
    const auth = Sign.sign3({
      method: 'POST',
      url: 'https://cvm.tencentcloudapi.com/',
      payload: Buffer.from(payload, 'utf8'),
      timestamp,
      service: 'cvm',
      secretId: docId,
      secretKey: docKey,
      multipart: false,
      boundary: '',
      headers: { 'Content-Type': 'application/json; charset=utf-8' },
    });
    expect(auth).toBe(
      `TC3-HMAC-SHA256 Credential=${docId}/2019-02-25/cvm/tc3_request, SignedHeaders=content-type;host, Signature=${expected}`,
    );
  });
});
