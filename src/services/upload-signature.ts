import { createHash, createHmac, randomInt, timingSafeEqual } from 'node:crypto';
import { ApiError } from '../domain/errors';

/**
 * Tencent VOD's client upload signature: a business server signs an upload authorization for a browser or
 * app without handing out its SecretKey.
 *   original  = URL query string: secretId=…&currentTimeStamp=…&expireTime=…&random=…[&procedure=…&…]
 *   signature = Base64( HMAC-SHA1(SecretKey, original) ‖ original )
 * The 20 HMAC bytes come first, the plaintext follows, so the verifier reads the parameters from the
 * signature itself and checks the HMAC with the SecretKey of `secretId`.
 */
export interface UploadSignatureParams {
  secretId: string;
  currentTimeStamp: number;
  expireTime: number;
  random: number;
  procedure?: string;
  classId?: number;
  /** 1: the signature may be used for one upload only. */
  oneTimeValid?: 0 | 1;
  sourceContext?: string;
  sessionContext?: string;
  vodSubAppId?: number;
  storageRegion?: string;
  taskPriority?: number;
  taskNotifyMode?: 'Finish' | 'Change' | 'None';
}

const NUMERIC = new Set([
  'currentTimeStamp',
  'expireTime',
  'random',
  'classId',
  'oneTimeValid',
  'vodSubAppId',
  'taskPriority',
]);
const KNOWN = new Set([
  'secretId',
  'currentTimeStamp',
  'expireTime',
  'random',
  'procedure',
  'classId',
  'oneTimeValid',
  'sourceContext',
  'sessionContext',
  'vodSubAppId',
  'storageRegion',
  'taskPriority',
  'taskNotifyMode',
]);
/** Parameters of Tencent's signature that OpenVOD does not implement: refused by name, never ignored. */
const UNSUPPORTED = new Set([
  'isTranscode',
  'isScreenshot',
  'isWatermark',
  'transcodeNotifyMode',
  'mediaStoragePath',
]);

/** The plaintext in the order Tencent's examples build it (required parameters first). */
export function uploadSignaturePlaintext(p: UploadSignatureParams): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(p)) if (v !== undefined && v !== '') q.append(k, String(v));
  return q.toString();
}

export function signUpload(secretKey: string, p: UploadSignatureParams): string {
  const original = Buffer.from(uploadSignaturePlaintext(p), 'utf8');
  const mac = createHmac('sha1', secretKey).update(original).digest();
  return Buffer.concat([mac, original]).toString('base64');
}

/** A signature valid for `expireSeconds` from now (the CLI and tests). */
export function newUploadSignature(
  secretId: string,
  secretKey: string,
  opts: Omit<UploadSignatureParams, 'secretId' | 'currentTimeStamp' | 'expireTime' | 'random'> & {
    expireSeconds: number;
    now?: number;
  },
): string {
  const { expireSeconds, now, ...rest } = opts;
  const current = Math.floor((now ?? Date.now()) / 1000);
  return signUpload(secretKey, {
    secretId,
    currentTimeStamp: current,
    expireTime: current + expireSeconds,
    random: randomInt(0, 2 ** 32 - 1),
    ...rest,
  });
}

/** The parameters a signature carries, read without checking it (the verifier checks). */
export function parseUploadSignature(signature: string): {
  params: UploadSignatureParams;
  mac: Buffer;
  original: Buffer;
} {
  const bad = (why: string) =>
    new ApiError('AuthFailure.SignatureFailure', `The upload signature is invalid: ${why}.`);
  if (typeof signature !== 'string' || !/^[A-Za-z0-9+/=_-]+$/.test(signature.trim()))
    throw bad('it is not Base64');
  const raw = Buffer.from(signature.trim().replace(/-/g, '+').replace(/_/g, '/'), 'base64');
  if (raw.length <= 20) throw bad('it is too short');
  const mac = raw.subarray(0, 20);
  const original = raw.subarray(20);
  const text = original.toString('utf8');
  const q = new URLSearchParams(text);
  const out: Record<string, string | number> = {};
  for (const [k, v] of q) {
    if (UNSUPPORTED.has(k)) {
      throw new ApiError(
        'InvalidParameter',
        `The upload signature parameter ${k} is not supported by OpenVOD; sign without it.`,
      );
    }
    if (!KNOWN.has(k)) throw bad(`unknown parameter ${k}`);
    if (k in out) throw bad(`parameter ${k} appears twice`);
    if (NUMERIC.has(k)) {
      if (!/^-?\d+$/.test(v)) throw bad(`${k} must be an integer`);
      out[k] = Number(v);
    } else out[k] = v;
  }
  for (const k of ['secretId', 'currentTimeStamp', 'expireTime', 'random']) {
    if (out[k] === undefined || out[k] === '') throw bad(`the required parameter ${k} is missing`);
  }
  if (out.oneTimeValid !== undefined && out.oneTimeValid !== 0 && out.oneTimeValid !== 1)
    throw bad('oneTimeValid must be 0 or 1');
  if (
    out.taskNotifyMode !== undefined &&
    !['Finish', 'Change', 'None'].includes(String(out.taskNotifyMode))
  ) {
    throw bad('taskNotifyMode must be Finish, Change or None');
  }
  if (out.taskPriority !== undefined && (Number(out.taskPriority) < -10 || Number(out.taskPriority) > 10)) {
    throw bad('taskPriority must be between -10 and 10');
  }
  if (String(out.sourceContext ?? '').length > 250) throw bad('sourceContext is longer than 250 characters');
  if (String(out.sessionContext ?? '').length > 1000)
    throw bad('sessionContext is longer than 1000 characters');
  return { params: out as unknown as UploadSignatureParams, mac, original };
}

export interface VerifiedUploadSignature {
  params: UploadSignatureParams;
  subAppId: number;
  /** Identifies the signature for one-time use (sha256 of its bytes). */
  digest: string;
}

/**
 * Checks a client upload signature: the key exists, the HMAC matches its SecretKey, it has not expired,
 * its vodSubAppId (if any) is the key's app. One-time use is the caller's (a conditional write on `digest`).
 */
/** Tencent: expireTime - currentTimeStamp must be at most 7776000 s (90 days). */
export const MAX_SIGNATURE_LIFETIME_SECONDS = 7776000;

export async function verifyUploadSignature(
  signature: string,
  deps: {
    resolveKey: (secretId: string) => Promise<{ subAppId: number; secretKey: string } | undefined>;
    nowSeconds: number;
    maxSkewSeconds: number;
  },
): Promise<VerifiedUploadSignature> {
  const { params, mac, original } = parseUploadSignature(signature);
  const key = await deps.resolveKey(params.secretId);
  if (!key)
    throw new ApiError(
      'AuthFailure.SecretIdNotFound',
      `The SecretId ${params.secretId} of the upload signature does not exist or was revoked.`,
    );
  const expected = createHmac('sha1', key.secretKey).update(original).digest();
  if (expected.length !== mac.length || !timingSafeEqual(expected, mac)) {
    throw new ApiError(
      'AuthFailure.SignatureFailure',
      'The upload signature does not match: it was altered or signed with another key.',
    );
  }
  if (params.expireTime <= params.currentTimeStamp) {
    throw new ApiError(
      'AuthFailure.SignatureFailure',
      'The upload signature is invalid: expireTime must be after currentTimeStamp.',
    );
  }
  if (params.expireTime - params.currentTimeStamp > MAX_SIGNATURE_LIFETIME_SECONDS) {
    throw new ApiError(
      'AuthFailure.SignatureFailure',
      `The upload signature is invalid: it may be valid for at most ${MAX_SIGNATURE_LIFETIME_SECONDS} seconds (90 days) after currentTimeStamp; expireTime is ${params.expireTime - params.currentTimeStamp} seconds after it.`,
    );
  }
  if (params.expireTime <= deps.nowSeconds) {
    throw new ApiError(
      'AuthFailure.SignatureExpire',
      `The upload signature expired at ${new Date(params.expireTime * 1000).toISOString()}; ask for a new one.`,
    );
  }
  if (params.currentTimeStamp > deps.nowSeconds + deps.maxSkewSeconds) {
    throw new ApiError(
      'AuthFailure.SignatureFailure',
      'The upload signature is invalid: its currentTimeStamp is in the future.',
    );
  }
  if (params.vodSubAppId !== undefined && params.vodSubAppId !== key.subAppId) {
    throw new ApiError(
      'AuthFailure.UnauthorizedOperation',
      `The upload signature names vodSubAppId ${params.vodSubAppId}, but its key belongs to SubAppId ${key.subAppId}.`,
    );
  }
  return {
    params,
    subAppId: key.subAppId,
    digest: createHash('sha256').update(mac).update(original).digest('hex'),
  };
}
