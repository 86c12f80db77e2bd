/**
 * Signs requests with the official Tencent Cloud SDK's own TC3-HMAC-SHA256 signer, called the way the
 * SDK's HttpConnection.doRequestWithSign3 calls it: the URL is `protocol + endpoint + '/'`, the service is
 * `endpoint.split('.')[0]`, the signed host is URL.hostname (no port) while the Host header sent is URL.host.
 */
import Sign from 'tencentcloud-sdk-nodejs-common/tencentcloud/common/sign';

export interface SignOptions {
  secretId: string;
  secretKey: string;
  /** e.g. `127.0.0.1:3000` or `vod.tencentcloudapi.com` */
  endpoint?: string;
  protocol?: 'http:' | 'https:';
  action?: string;
  version?: string;
  timestamp?: number;
  contentType?: string;
  /** A JSON value (serialised with JSON.stringify) or the exact body bytes. */
  body?: unknown;
}

export interface SignedHttpRequest {
  method: string;
  path: string;
  query: string;
  headers: Record<string, string>;
  body: Buffer;
}

export function sdkSign(o: SignOptions): SignedHttpRequest {
  const endpoint = o.endpoint ?? '127.0.0.1:3000';
  const url = `${o.protocol ?? 'http:'}//${endpoint}/`;
  const timestamp = o.timestamp ?? Math.floor(Date.now() / 1000);
  const body = Buffer.isBuffer(o.body) ? o.body : Buffer.from(JSON.stringify(o.body ?? {}), 'utf8');
  const contentType = o.contentType ?? 'application/json';
  const authorization = Sign.sign3({
    method: 'POST',
    url,
    payload: body,
    timestamp,
    service: endpoint.split('.')[0],
    secretId: o.secretId,
    secretKey: o.secretKey,
    multipart: false,
    boundary: '',
    headers: { 'Content-Type': contentType },
  });
  const headers: Record<string, string> = {
    host: new URL(url).host,
    'content-type': contentType,
    'x-tc-timestamp': String(timestamp),
    authorization,
  };
  if (o.action !== undefined) headers['x-tc-action'] = o.action;
  if (o.version !== undefined) headers['x-tc-version'] = o.version;
  return { method: 'POST', path: '/', query: '', headers, body };
}
