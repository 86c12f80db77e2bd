import { randomUUID } from 'node:crypto';
import type { Logger } from '@aws-lambda-powertools/logger';
import { ApiError } from '../domain/errors';
import { verifyTc3 } from './tc3';
import { fail, internalError, ok, type HttpResponse } from './respond';
import { VOD_ACTIONS } from './vod-actions';
import { ACTIONS, type ApiServices } from './actions';

export const API_VERSION = '2018-07-17';
const KNOWN_ACTIONS = new Set(VOD_ACTIONS);

export interface ApiRequest {
  method: string;
  path: string;
  query: string;
  headers: Record<string, string | undefined>;
  body: Buffer;
}

export interface FrontDoorDeps {
  services: ApiServices;
  resolveKey: (secretId: string) => Promise<{ subAppId: number; secretKey: string } | undefined>;
  maxBodyBytes: number;
  maxClockSkewSeconds: number;
  logger: Logger;
  now?: () => number;
}

function header(headers: ApiRequest['headers'], name: string): string | undefined {
  for (const [k, v] of Object.entries(headers)) if (k.toLowerCase() === name) return v;
  return undefined;
}

/**
 * The API front door: Tencent's API 3.0 protocol (POST /, X-TC-Action, X-TC-Version, JSON body,
 * TC3-HMAC-SHA256). Every answer is a Tencent `Response` envelope with a RequestId.
 */
export async function handleApiRequest(req: ApiRequest, deps: FrontDoorDeps): Promise<HttpResponse> {
  const requestId = randomUUID();
  const action = header(req.headers, 'x-tc-action') ?? '';
  const log = deps.logger.createChild({ persistentKeys: { requestId, action } });
  const started = Date.now();
  try {
    const result = await dispatch(req, deps, action, requestId, log);
    log.info('api request', { outcome: 'ok', ms: Date.now() - started });
    return ok(requestId, result);
  } catch (err) {
    if (err instanceof ApiError) {
      log.info('api request', { outcome: err.code, ms: Date.now() - started });
      return fail(requestId, err);
    }
    log.error('api request failed', { ms: Date.now() - started, error: err as Error });
    return fail(requestId, internalError());
  }
}

async function dispatch(
  req: ApiRequest,
  deps: FrontDoorDeps,
  action: string,
  requestId: string,
  log: Logger,
): Promise<object> {
  if (req.method.toUpperCase() !== 'POST') {
    throw new ApiError('UnsupportedProtocol', `HTTP method ${req.method} is not supported; send POST / with a JSON body.`);
  }
  if (req.body.length > deps.maxBodyBytes) {
    throw new ApiError(
      'RequestSizeLimitExceeded',
      `The request body is ${req.body.length} bytes; the limit is ${deps.maxBodyBytes} bytes.`,
    );
  }
  if (!action) throw new ApiError('MissingParameter', 'The X-TC-Action header is missing.');
  const version = header(req.headers, 'x-tc-version');
  if (!version) throw new ApiError('MissingParameter', 'The X-TC-Version header is missing.');
  if (version !== API_VERSION) {
    throw new ApiError('NoSuchVersion', `API version ${version} is not supported; use ${API_VERSION}.`);
  }
  const contentType = (header(req.headers, 'content-type') ?? '').toLowerCase();
  if (!contentType.startsWith('application/json')) {
    throw new ApiError('UnsupportedProtocol', 'Content-Type must be application/json.');
  }

  const { principal } = await verifyTc3(req, {
    nowSeconds: Math.floor((deps.now ?? Date.now)() / 1000),
    maxSkewSeconds: deps.maxClockSkewSeconds,
    lookup: deps.resolveKey,
  });

  const handler = ACTIONS[action];
  if (!handler) {
    if (KNOWN_ACTIONS.has(action)) {
      throw new ApiError('UnsupportedOperation', `The action ${action} is not supported by OpenVOD.`);
    }
    throw new ApiError('InvalidAction', `The action ${action} does not exist in the VOD API ${API_VERSION}.`);
  }

  let params: unknown;
  try {
    params = req.body.length ? JSON.parse(req.body.toString('utf8')) : {};
  } catch {
    throw new ApiError('InvalidParameter', 'The request body is not valid JSON.');
  }
  if (typeof params !== 'object' || params === null || Array.isArray(params)) {
    throw new ApiError('InvalidParameter', 'The request body must be a JSON object.');
  }
  const sub = (params as { SubAppId?: unknown }).SubAppId;
  if (sub !== undefined && sub !== principal.subAppId) {
    if (typeof sub !== 'number') {
      throw new ApiError('InvalidParameter', 'The parameter SubAppId must be of type number.');
    }
    throw new ApiError(
      'AuthFailure.UnauthorizedOperation',
      `This key belongs to SubAppId ${principal.subAppId}; it cannot act on SubAppId ${sub}.`,
    );
  }
  return handler(
    { subAppId: principal.subAppId, requestId, logger: log.createChild({ persistentKeys: { subAppId: principal.subAppId } }), services: deps.services },
    params,
  );
}
