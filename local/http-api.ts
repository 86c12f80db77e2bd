/**
 * Emulates API Gateway HTTP API (payload format 2.0) in front of the handlers: routes from the httpApi
 * events of serverless.yml, a 10 MB payload limit, and API Gateway's answers for unknown routes.
 */
import { randomUUID } from 'node:crypto';
import * as http from 'node:http';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { LocalLambdas } from './lambdas';
import type { FunctionDef } from './serverless-config';

const MAX_PAYLOAD = 10 * 1024 * 1024;

export interface HttpApiServer {
  url: string;
  close(): Promise<void>;
}

export async function startHttpApi(opts: {
  host: string;
  port: number;
  functions: FunctionDef[];
  lambdas: LocalLambdas;
  log: (msg: string) => void;
}): Promise<HttpApiServer> {
  const routes = opts.functions.flatMap((f) =>
    f.events.flatMap((e) => (e.type === 'httpApi' ? [{ method: e.method.toUpperCase(), path: e.path, fn: f.name }] : [])),
  );
  const server = http.createServer((req, res) => {
    void handle(req, res).catch((err: unknown) => {
      opts.log(`http api: ${(err as Error).message}`);
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ message: 'Internal Server Error' }));
    });
  });
  server.keepAliveTimeout = 30_000;

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const method = (req.method ?? 'GET').toUpperCase();
    const route = routes.find((r) => (r.method === '*' || r.method === method) && r.path === url.pathname);
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req) {
      size += (chunk as Buffer).length;
      if (size > MAX_PAYLOAD) {
        res.writeHead(413, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ message: 'Request Entity Too Large' }));
        req.destroy();
        return;
      }
      chunks.push(chunk as Buffer);
    }
    if (!route) {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ message: 'Not Found' }));
      return;
    }
    const body = Buffer.concat(chunks);
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) {
      if (v !== undefined) headers[k.toLowerCase()] = Array.isArray(v) ? v.join(',') : v;
    }
    const contentType = headers['content-type'] ?? '';
    const textual = /^(text\/|application\/(json|xml|x-www-form-urlencoded|javascript))/.test(contentType);
    const now = new Date();
    const event: APIGatewayProxyEventV2 = {
      version: '2.0',
      routeKey: `${route.method} ${route.path}`,
      rawPath: url.pathname,
      rawQueryString: url.search.slice(1),
      headers,
      requestContext: {
        accountId: '000000000000',
        apiId: 'local',
        domainName: headers.host ?? 'localhost',
        domainPrefix: 'local',
        http: {
          method,
          path: url.pathname,
          protocol: `HTTP/${req.httpVersion}`,
          sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
          userAgent: headers['user-agent'] ?? '',
        },
        requestId: randomUUID(),
        routeKey: `${route.method} ${route.path}`,
        stage: '$default',
        time: now.toISOString(),
        timeEpoch: now.getTime(),
      },
      body: body.length ? (textual ? body.toString('utf8') : body.toString('base64')) : undefined,
      isBase64Encoded: body.length > 0 && !textual,
    };
    const result = (await opts.lambdas.invoke(route.fn, event)) as APIGatewayProxyStructuredResultV2 | string;
    if (typeof result === 'string' || result === undefined || result === null) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(typeof result === 'string' ? result : '');
      return;
    }
    const out = result.body ? Buffer.from(result.body, result.isBase64Encoded ? 'base64' : 'utf8') : Buffer.alloc(0);
    const outHeaders: Record<string, string> = {};
    for (const [k, v] of Object.entries(result.headers ?? {})) outHeaders[k] = String(v);
    res.writeHead(result.statusCode ?? 200, { ...outHeaders, 'content-length': String(out.length) });
    res.end(out);
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => resolve());
  });
  return {
    url: `http://${opts.host}:${opts.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
