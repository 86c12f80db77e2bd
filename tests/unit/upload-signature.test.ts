import { createHmac } from 'node:crypto';
import {
  newUploadSignature,
  parseUploadSignature,
  MAX_SIGNATURE_LIFETIME_SECONDS,
  signUpload,
  verifyUploadSignature,
} from '../../src/services/upload-signature';
import { ApiError } from '../../src/domain/errors';

const SECRET_ID = 'AKIDfmOmtlNbSHQTXxgbQK5Q2gd8cwSGYmnO';
const SECRET_KEY = 'TW5PuPOnhbZg5gnhuUXhGgefxu7SmpSn';
const keys = new Map([[SECRET_ID, { subAppId: 1500000001, secretKey: SECRET_KEY }]]);
const resolveKey = async (id: string) => keys.get(id);
const at = (nowSeconds: number) => ({ resolveKey, nowSeconds, maxSkewSeconds: 300 });

async function refusal(p: Promise<unknown>): Promise<ApiError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof ApiError) return e;
    throw e;
  }
  throw new Error('expected a refusal');
}

describe('client upload signature (Tencent format)', () => {
  // Made outside this code base (openssl, as Tencent's PHP example does: base64(hmac_sha1(original) . original)),
  // from an unencoded query string like PHP's http_build_query leaves parentheses and commas.
  const EXTERNAL =
    '6K0vXcRSNnYieRPdCnLXbDYvpopzZWNyZXRJZD1BS0lEZm1PbXRsTmJTSFFUWHhnYlFLNVEyZ2Q4Y3dTR1ltbk8mY3VycmVudFRpbWVTdGFtcD0xNTcxMjE1MDk1JmV4cGlyZVRpbWU9MTU3MTIxNzA5NSZyYW5kb209MjIwNjI1JnByb2NlZHVyZT1RQ1ZCX1NpbXBsZVByb2Nlc3NGaWxlKDEsMSk=';

  test('a signature made by another implementation verifies, and its parameters are read from it', async () => {
    const v = await verifyUploadSignature(EXTERNAL, at(1571215100));
    expect(v.subAppId).toBe(1500000001);
    expect(v.params).toEqual({
      secretId: SECRET_ID,
      currentTimeStamp: 1571215095,
      expireTime: 1571217095,
      random: 220625,
      procedure: 'QCVB_SimpleProcessFile(1,1)',
    });
  });

  test('signUpload is HMAC-SHA1 of the plaintext followed by the plaintext, Base64', () => {
    const sig = signUpload(SECRET_KEY, {
      secretId: SECRET_ID,
      currentTimeStamp: 1,
      expireTime: 2,
      random: 3,
      procedure: 'a b',
    });
    const raw = Buffer.from(sig, 'base64');
    const original = raw.subarray(20).toString('utf8');
    expect(original).toBe(`secretId=${SECRET_ID}&currentTimeStamp=1&expireTime=2&random=3&procedure=a+b`);
    expect(raw.subarray(0, 20)).toEqual(createHmac('sha1', SECRET_KEY).update(original).digest());
    expect(parseUploadSignature(sig).params.procedure).toBe('a b');
  });

  test('expired, tampered, foreign-key and wrong-app signatures are refused with clear codes', async () => {
    expect((await refusal(verifyUploadSignature(EXTERNAL, at(1571217095)))).code).toBe(
      'AuthFailure.SignatureExpire',
    );

    const raw = Buffer.from(EXTERNAL, 'base64');
    const tampered = Buffer.concat([
      raw.subarray(0, 20),
      Buffer.from(raw.subarray(20).toString().replace('QCVB', 'XCVB')),
    ]);
    const t = await refusal(verifyUploadSignature(tampered.toString('base64'), at(1571215100)));
    expect(t.code).toBe('AuthFailure.SignatureFailure');
    expect(t.message).toMatch(/altered/);

    const otherKey = signUpload('another-secret', {
      secretId: SECRET_ID,
      currentTimeStamp: 1571215095,
      expireTime: 1571217095,
      random: 1,
    });
    expect((await refusal(verifyUploadSignature(otherKey, at(1571215100)))).code).toBe(
      'AuthFailure.SignatureFailure',
    );

    const unknown = signUpload(SECRET_KEY, {
      secretId: 'AKIDnobody',
      currentTimeStamp: 1571215095,
      expireTime: 1571217095,
      random: 1,
    });
    expect((await refusal(verifyUploadSignature(unknown, at(1571215100)))).code).toBe(
      'AuthFailure.SecretIdNotFound',
    );

    const foreignApp = newUploadSignature(SECRET_ID, SECRET_KEY, {
      expireSeconds: 60,
      vodSubAppId: 1500000002,
      now: 1571215095000,
    });
    const f = await refusal(verifyUploadSignature(foreignApp, at(1571215100)));
    expect(f.code).toBe('AuthFailure.UnauthorizedOperation');

    expect((await refusal(verifyUploadSignature('not base64!', at(1)))).code).toBe(
      'AuthFailure.SignatureFailure',
    );
    const missing = Buffer.concat([
      Buffer.alloc(20),
      Buffer.from(`secretId=${SECRET_ID}&expireTime=5`),
    ]).toString('base64');
    expect((await refusal(verifyUploadSignature(missing, at(1)))).message).toMatch(
      /currentTimeStamp is missing/,
    );
  });

  test('options are carried: oneTimeValid, sessionContext, vodSubAppId; unsupported ones are refused by name', async () => {
    const sig = newUploadSignature(SECRET_ID, SECRET_KEY, {
      expireSeconds: 3600,
      procedure: 'p1',
      oneTimeValid: 1,
      sessionContext: 'order=42&x',
      vodSubAppId: 1500000001,
      now: 1_700_000_000_000,
    });
    const v = await verifyUploadSignature(sig, at(1_700_000_010));
    expect(v.params).toMatchObject({
      procedure: 'p1',
      oneTimeValid: 1,
      sessionContext: 'order=42&x',
      vodSubAppId: 1500000001,
    });
    expect(v.digest).toMatch(/^[0-9a-f]{64}$/);
    const withWatermark = signUpload(SECRET_KEY, {
      secretId: SECRET_ID,
      currentTimeStamp: 1,
      expireTime: 2,
      random: 3,
      isWatermark: 1,
    } as never);
    const e = await refusal(verifyUploadSignature(withWatermark, at(1)));
    expect(e.code).toBe('InvalidParameter');
    expect(e.message).toMatch(/isWatermark/);
  });

  test('a signature may be valid for at most 90 days (7776000 s) after its currentTimeStamp', async () => {
    const t0 = 1_700_000_000;
    const sig = (lifetime: number) =>
      signUpload(SECRET_KEY, {
        secretId: SECRET_ID,
        currentTimeStamp: t0,
        expireTime: t0 + lifetime,
        random: 7,
      });
    expect(MAX_SIGNATURE_LIFETIME_SECONDS).toBe(7776000);
    const ok = await verifyUploadSignature(sig(7776000), at(t0 + 10));
    expect(ok.params.expireTime - ok.params.currentTimeStamp).toBe(7776000);
    const tooLong = await refusal(verifyUploadSignature(sig(7776001), at(t0 + 10)));
    expect(tooLong.code).toBe('AuthFailure.SignatureFailure');
    expect(tooLong.message).toMatch(/at most 7776000 seconds/);
  });
});
