import * as http from 'node:http';
import { postCallback } from '../../src/adapters/http-callback';

let server: http.Server;
let base: string;
const hits: Array<{ path: string; body: string; headers: http.IncomingHttpHeaders }> = [];

beforeAll(async () => {
  server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      hits.push({ path: req.url ?? '', body, headers: req.headers });
      if (req.url === '/ok') res.writeHead(204).end();
      else if (req.url === '/redirect')
        res.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data' }).end();
      else if (req.url === '/slow') setTimeout(() => res.writeHead(200).end(), 1500).unref();
      else res.writeHead(503).end('busy');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

const allow = { allowLoopback: true };

describe('postCallback', () => {
  test('a 2xx is success; the body and headers are sent as given', async () => {
    const r = await postCallback(
      `${base}/ok`,
      '{"a":1}',
      { 'content-type': 'application/json', 'x-openvod-event-id': 'e1' },
      1000,
      allow,
    );
    expect(r).toEqual({ ok: true, status: 204 });
    const hit = hits.find((h) => h.path === '/ok')!;
    expect(hit.body).toBe('{"a":1}');
    expect(hit.headers['x-openvod-event-id']).toBe('e1');
  });

  test('a 5xx, a redirect (not followed) and a timeout are failures', async () => {
    expect(await postCallback(`${base}/busy`, '{}', {}, 1000, allow)).toEqual({
      ok: false,
      status: 503,
      error: 'HTTP 503',
    });
    const redirect = await postCallback(`${base}/redirect`, '{}', {}, 1000, allow);
    expect(redirect).toMatchObject({ ok: false, status: 302 });
    expect(redirect.error).toContain('not followed');
    const t0 = Date.now();
    const slow = await postCallback(`${base}/slow`, '{}', {}, 300, allow);
    expect(slow).toEqual({ ok: false, error: 'no answer within 300 ms' });
    expect(Date.now() - t0).toBeLessThan(1000);
  });

  test('loopback is refused when not allowed; private, link-local and metadata addresses always; nothing is sent', async () => {
    const before = hits.length;
    for (const url of [
      `${base}/ok`,
      'http://10.1.2.3/cb',
      'http://169.254.169.254/latest',
      'http://[fd00::1]/cb',
      'http://localhost:1/cb',
    ]) {
      const r = await postCallback(url, '{}', {}, 1000, { allowLoopback: false });
      expect(r.ok).toBe(false);
      expect(r.error).toMatch(/^URL refused: /);
    }
    expect(hits.length).toBe(before);
  });
});
