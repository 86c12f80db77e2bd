import { randomUUID } from 'node:crypto';
import type { Logger } from '@aws-lambda-powertools/logger';
import { ApiError } from '../domain/errors';
import type { ApiRequest } from '../api/front-door';
import { fail, internalError, ok, type HttpResponse } from '../api/respond';
import { parseParams } from '../api/validation';
import { z } from 'zod';
import {
  checkClientApply,
  clientApply,
  clientApplySchema,
  presignUploadParts,
  type UploadApiDeps,
} from './upload-apply';
import { verifyUploadSignature } from './upload-signature';

/**
 * OpenVOD's client upload endpoint, `POST /upload/apply`: a browser or app presents the client upload
 * signature its business server made (Tencent's format), and gets a presigned upload whose object carries
 * the signature's procedure. No SecretKey ever reaches the client. Browser-friendly: CORS preflight
 * (OPTIONS) and Access-Control-Allow-Origin on every answer. Answers use Tencent's `Response` envelope;
 * refusals also get a 4xx status so `fetch(...).ok` tells them apart.
 */
export interface ClientUploadDeps {
  upload: UploadApiDeps;
  resolveKey: (secretId: string) => Promise<{ subAppId: number; secretKey: string } | undefined>;
  maxClockSkewSeconds: number;
  logger: Logger;
  now?: () => number;
}

const MAX_BODY = 16 * 1024;

/**
 * `POST /upload/apply` with a `vodSessionKey`: presigns more parts (at most 100 a call) and the completion of
 * a multipart upload opened with a signature of the same app (the signature must still be valid; a one-time
 * signature is not used again by this).
 */
export const clientPartsSchema = z
  .object({
    signature: z.string().min(1).max(4096),
    vodSessionKey: z.string().min(1).max(256),
    partNumbers: z.array(z.number().int().min(1).max(10000)).max(100).optional(),
  })
  .strict();

export function corsHeaders(origin: string | undefined): Record<string, string> {
  return {
    'access-control-allow-origin': origin || '*',
    'access-control-allow-methods': 'POST, OPTIONS',
    'access-control-allow-headers': 'content-type',
    'access-control-max-age': '600',
    vary: 'Origin',
  };
}

function statusOf(code: string): number {
  if (code.startsWith('AuthFailure')) return 403;
  if (code === 'InternalError') return 500;
  return 400;
}

export async function handleClientUpload(req: ApiRequest, deps: ClientUploadDeps): Promise<HttpResponse> {
  const origin = req.headers.origin ?? req.headers.Origin;
  const cors = corsHeaders(origin);
  if (req.method.toUpperCase() === 'OPTIONS') return { statusCode: 204, headers: cors, body: '' };
  const requestId = randomUUID();
  const log = deps.logger.createChild({ persistentKeys: { requestId, route: 'POST /upload/apply' } });
  try {
    if (req.method.toUpperCase() !== 'POST')
      throw new ApiError('UnsupportedProtocol', 'Send POST /upload/apply with a JSON body.');
    if (req.body.length > MAX_BODY)
      throw new ApiError('RequestSizeLimitExceeded', `The request body is larger than ${MAX_BODY} bytes.`);
    let body: unknown;
    try {
      body = JSON.parse(req.body.toString('utf8') || '{}');
    } catch {
      throw new ApiError('InvalidParameter', 'The request body is not valid JSON.');
    }
    const nowMs = (deps.now ?? Date.now)();
    if (body && typeof body === 'object' && 'vodSessionKey' in body) {
      // More part URLs (or a fresh completion URL) for a multipart upload this endpoint opened.
      const q = parseParams(clientPartsSchema, body);
      const sig = await verifyUploadSignature(q.signature, {
        resolveKey: deps.resolveKey,
        nowSeconds: Math.floor(nowMs / 1000),
        maxSkewSeconds: deps.maxClockSkewSeconds,
      });
      const result = await presignUploadParts(deps.upload, sig.subAppId, {
        VodSessionKey: q.vodSessionKey,
        PartNumbers: q.partNumbers,
      });
      const r = ok(requestId, result);
      return { ...r, headers: { ...r.headers, ...cors } };
    }
    const p = parseParams(clientApplySchema, body);
    const sig = await verifyUploadSignature(p.signature, {
      resolveKey: deps.resolveKey,
      nowSeconds: Math.floor(nowMs / 1000),
      maxSkewSeconds: deps.maxClockSkewSeconds,
    });
    // Everything that can refuse the request is checked before a one-time signature is used up.
    checkClientApply(deps.upload, sig);
    const oneTime = sig.params.oneTimeValid === 1;
    if (oneTime && !(await deps.upload.uploads.useOnce(sig.digest, sig.params.expireTime + 3600))) {
      throw new ApiError(
        'AuthFailure.SignatureFailure',
        'This upload signature is one-time (oneTimeValid=1) and was used already; ask for a new one.',
      );
    }
    let result: Record<string, unknown>;
    try {
      result = await clientApply(deps.upload, sig, p);
    } catch (e) {
      // Nothing was handed out (S3 or the session store failed): the client may try again with it.
      if (oneTime) await deps.upload.uploads.releaseOnce(sig.digest).catch(() => undefined);
      throw e;
    }
    log.info('client upload applied', { subAppId: sig.subAppId, oneTime: sig.params.oneTimeValid === 1 });
    const r = ok(requestId, result);
    return { ...r, headers: { ...r.headers, ...cors } };
  } catch (err) {
    const e = err instanceof ApiError ? err : internalError();
    if (!(err instanceof ApiError)) log.error('client upload failed', { error: err as Error });
    else log.info('client upload refused', { code: e.code });
    const r = fail(requestId, e);
    return { ...r, statusCode: statusOf(e.code), headers: { ...r.headers, ...cors } };
  }
}
