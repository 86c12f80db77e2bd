import * as http from 'node:http';
import { ErrCode, PermanentError } from '../../src/domain/errors';
import { assertFetchable, forbiddenReason, openSafeStream } from '../../src/adapters/safe-http';

const strict = { allowLoopback: false };
const local = { allowLoopback: true };

describe('forbiddenReason', () => {
  test.each([
    ['127.0.0.1', 'loopback'],
    ['::1', 'loopback'],
    ['10.1.2.3', 'private'],
    ['172.20.0.1', 'private'],
    ['192.168.1.1', 'private'],
    ['100.64.0.1', 'private'],
    ['169.254.169.254', 'instance metadata'],
    ['169.254.10.10', 'link-local'],
    ['fd00:ec2::254', 'instance metadata'],
    ['fe80::1', 'link-local'],
    ['fc00::1', 'private'],
    ['0.0.0.0', 'unspecified'],
    // IPv4 hidden in IPv6: mapped (dotted and hex, as URL parsing rewrites it), compatible, NAT64, 6to4.
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['::ffff:a9fe:a9fe', 'instance metadata'],
    ['::10.0.0.1', 'private'],
    ['64:ff9b::a00:1', 'private'],
    ['2002:a9fe:a9fe::1', 'instance metadata'],
  ])('%s is refused (%s)', (ip, why) => {
    expect(forbiddenReason(ip, strict)).toBe(why);
  });

  test.each(['8.8.8.8', '1.1.1.1', '2606:4700:4700::1111', '::ffff:8.8.8.8', '64:ff9b::808:808'])(
    '%s is public',
    (ip) => {
      expect(forbiddenReason(ip, strict)).toBeUndefined();
    },
  );

  test('loopback only when allowed (local mode); private stays refused', () => {
    expect(forbiddenReason('127.0.0.1', local)).toBeUndefined();
    expect(forbiddenReason('::ffff:7f00:1', local)).toBeUndefined();
    expect(forbiddenReason('10.0.0.1', local)).toBe('private');
  });
});

describe('assertFetchable / openSafeStream', () => {
  test('non-http schemes and IP-literal hosts in forbidden ranges are refused with 40000', async () => {
    for (const url of [
      'ftp://example.com/a.mp4',
      'file:///etc/passwd',
      'http://[::ffff:169.254.169.254]/latest',
      'http://10.0.0.1/x',
    ]) {
      await expect(assertFetchable(url, strict)).rejects.toMatchObject({
        name: 'PermanentError',
        errCode: ErrCode.BadParameter,
      });
    }
  });

  test('a redirect to a forbidden address is refused at the hop', async () => {
    const server = http.createServer((req, res) => {
      if (req.url === '/go')
        res.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data' }).end();
      else res.writeHead(200).end('ok');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as { port: number }).port;
    try {
      const ok = await openSafeStream(`http://127.0.0.1:${port}/file`, local, { timeoutMs: 2000 });
      ok.body.resume();
      await expect(
        openSafeStream(`http://127.0.0.1:${port}/go`, local, { timeoutMs: 2000 }),
      ).rejects.toBeInstanceOf(PermanentError);
      await expect(
        openSafeStream(`http://127.0.0.1:${port}/file`, strict, { timeoutMs: 2000 }),
      ).rejects.toMatchObject({ errCode: ErrCode.BadParameter });
    } finally {
      server.close();
    }
  });
});
