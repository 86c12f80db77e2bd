import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { ApiError } from '../domain/errors';

/**
 * Verification of Tencent Cloud's TC3-HMAC-SHA256 request signature (API 3.0), as the official SDKs
 * compute it: https://www.tencentcloud.com/document/api/266/31755 (signature v3).
 * Pure: the caller supplies the clock and the secret lookup.
 */
export interface SignedRequest {
  method: string;
  path: string;
  query: string;
  /** Header names in any case. */
  headers: Record<string, string | undefined>;
  body: Buffer;
}

export interface ParsedAuthorization {
  secretId: string;
  date: string;
  service: string;
  signedHeaders: string[];
  signature: string;
}

const AUTH_RE =
  /^TC3-HMAC-SHA256\s+Credential=([^/,\s]+)\/(\d{4}-\d{2}-\d{2})\/([^/,\s]+)\/tc3_request,\s*SignedHeaders=([a-z0-9;-]+),\s*Signature=([0-9a-f]{64})\s*$/;

export function parseAuthorization(value: string | undefined): ParsedAuthorization {
  if (!value) throw new ApiError('AuthFailure.SignatureFailure', 'The Authorization header is missing.');
  const m = AUTH_RE.exec(value);
  if (!m) {
    throw new ApiError(
      'AuthFailure.SignatureFailure',
      'The Authorization header is not a TC3-HMAC-SHA256 signature (Credential=…, SignedHeaders=…, Signature=…).',
    );
  }
  return { secretId: m[1], date: m[2], service: m[3], signedHeaders: m[4].split(';'), signature: m[5] };
}

const sha256hex = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex');
const hmac = (key: string | Buffer, data: string): Buffer => createHmac('sha256', key).update(data).digest();

export function utcDate(timestampSeconds: number): string {
  return new Date(timestampSeconds * 1000).toISOString().slice(0, 10);
}

/** Computes the hex signature for a request, given the header values the client signed. */
export function computeSignature(args: {
  method: string;
  path: string;
  query: string;
  signedHeaders: Array<[name: string, value: string]>;
  body: Buffer;
  timestamp: number;
  service: string;
  secretKey: string;
}): string {
  const canonicalHeaders = args.signedHeaders.map(([k, v]) => `${k}:${v.trim()}\n`).join('');
  const signedHeaderNames = args.signedHeaders.map(([k]) => k).join(';');
  const canonicalRequest = [
    args.method.toUpperCase(),
    args.path || '/',
    args.query,
    canonicalHeaders,
    signedHeaderNames,
    sha256hex(args.body),
  ].join('\n');
  const date = utcDate(args.timestamp);
  const stringToSign = [
    'TC3-HMAC-SHA256',
    String(args.timestamp),
    `${date}/${args.service}/tc3_request`,
    sha256hex(canonicalRequest),
  ].join('\n');
  const kDate = hmac(`TC3${args.secretKey}`, date);
  const kService = hmac(kDate, args.service);
  const kSigning = hmac(kService, 'tc3_request');
  return createHmac('sha256', kSigning).update(stringToSign).digest('hex');
}

function header(headers: SignedRequest['headers'], name: string): string | undefined {
  const lower = name.toLowerCase();
  for (const [k, v] of Object.entries(headers)) if (k.toLowerCase() === lower) return v;
  return undefined;
}

/**
 * Verifies the request. Throws ApiError with Tencent's AuthFailure.* codes; returns the SecretId and the
 * secret lookup's result on success.
 */
export async function verifyTc3<T extends { secretKey: string }>(
  req: SignedRequest,
  opts: { nowSeconds: number; maxSkewSeconds: number; lookup: (secretId: string) => Promise<T | undefined> },
): Promise<{ secretId: string; principal: T }> {
  const auth = parseAuthorization(header(req.headers, 'authorization'));
  const tsRaw = header(req.headers, 'x-tc-timestamp');
  const timestamp = Number(tsRaw);
  if (!tsRaw || !Number.isInteger(timestamp) || timestamp <= 0) {
    throw new ApiError('AuthFailure.SignatureFailure', 'The X-TC-Timestamp header is missing or not a Unix timestamp.');
  }
  if (Math.abs(opts.nowSeconds - timestamp) > opts.maxSkewSeconds) {
    throw new ApiError(
      'AuthFailure.SignatureExpire',
      `The request timestamp ${timestamp} differs from server time ${opts.nowSeconds} by more than ${opts.maxSkewSeconds} s; check the client's clock.`,
    );
  }
  if (auth.date !== utcDate(timestamp)) {
    throw new ApiError('AuthFailure.SignatureFailure', 'The Credential date does not match X-TC-Timestamp.');
  }
  if (!auth.signedHeaders.includes('content-type') || !auth.signedHeaders.includes('host')) {
    throw new ApiError('AuthFailure.SignatureFailure', 'SignedHeaders must include content-type and host.');
  }
  const principal = await opts.lookup(auth.secretId);
  if (!principal) {
    throw new ApiError('AuthFailure.SecretIdNotFound', 'The SecretId does not exist or has been revoked.');
  }
  // The official SDKs sign the host without its port (URL.hostname); plain clients sign the Host header.
  const hostHeader = header(req.headers, 'host') ?? '';
  const hostCandidates = [...new Set([hostHeader, hostHeader.replace(/:\d+$/, '')])];
  const expected = Buffer.from(auth.signature, 'hex');
  for (const host of hostCandidates) {
    const signed: Array<[string, string]> = auth.signedHeaders.map((name) => [
      name,
      name === 'host' ? host : (header(req.headers, name) ?? ''),
    ]);
    const sig = computeSignature({
      method: req.method,
      path: req.path,
      query: req.query,
      signedHeaders: signed,
      body: req.body,
      timestamp,
      service: auth.service,
      secretKey: principal.secretKey,
    });
    if (timingSafeEqual(Buffer.from(sig, 'hex'), expected)) return { secretId: auth.secretId, principal };
  }
  throw new ApiError(
    'AuthFailure.SignatureFailure',
    'The request signature does not match; check the SecretKey and that the body was sent unchanged.',
  );
}
