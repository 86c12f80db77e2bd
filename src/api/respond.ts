import { ApiError } from '../domain/errors';

export interface HttpResponse {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
}

const JSON_HEADERS = { 'content-type': 'application/json; charset=utf-8' };

/** Tencent answers every API result, errors included, with HTTP 200 and a `Response` envelope. */
export function ok(requestId: string, result: object): HttpResponse {
  return { statusCode: 200, headers: JSON_HEADERS, body: JSON.stringify({ Response: { ...result, RequestId: requestId } }) };
}

export function fail(requestId: string, err: ApiError): HttpResponse {
  return {
    statusCode: 200,
    headers: JSON_HEADERS,
    body: JSON.stringify({ Response: { Error: { Code: err.code, Message: err.message }, RequestId: requestId } }),
  };
}

export const internalError = (): ApiError =>
  new ApiError('InternalError', 'An internal error occurred; retry the request, and report it with its RequestId if it persists.');
