import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { ApiRequest } from './front-door';
import type { HttpResponse } from './respond';

/** API Gateway HTTP API (payload 2.0) event → the front door's request. */
export function fromHttpApiEvent(event: APIGatewayProxyEventV2): ApiRequest {
  const headers: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(event.headers ?? {})) headers[k.toLowerCase()] = v;
  const body = event.body ? Buffer.from(event.body, event.isBase64Encoded ? 'base64' : 'utf8') : Buffer.alloc(0);
  return {
    method: event.requestContext?.http?.method ?? 'POST',
    path: event.rawPath || '/',
    query: event.rawQueryString ?? '',
    headers,
    body,
  };
}

export function toHttpApiResult(res: HttpResponse): APIGatewayProxyStructuredResultV2 {
  return { statusCode: res.statusCode, headers: res.headers, body: res.body, isBase64Encoded: false };
}
