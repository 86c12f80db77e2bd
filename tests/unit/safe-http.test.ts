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
    // Reserved and special-purpose IPv4 ranges.
    ['192.0.0.8', 'reserved'],
    ['192.0.0.170', 'reserved'],
    ['198.18.0.1', 'reserved'],
    ['198.19.255.254', 'reserved'],
    ['192.0.2.10', 'documentation'],
    ['203.0.113.5', 'documentation'],
    ['100.127.255.254', 'private'],
    ['0.1.2.3', 'unspecified'],
    ['224.0.0.251', 'multicast or reserved'],
    ['239.255.255.250', 'multicast or reserved'],
    ['240.0.0.1', 'multicast or reserved'],
    ['255.255.255.255', 'multicast or reserved'],
    ['::ffff:198.18.0.1', 'reserved'],
    // IPv6: site-local, Teredo (any address inside 2001::/32), multicast, every spelling of loopback.
    ['fec0::1', 'site-local'],
    ['feff:1::1', 'site-local'],
    ['2001:0:4136:e378:8000:63bf:3fff:fdd2', 'Teredo tunnel'],
    ['2001::1', 'Teredo tunnel'],
    ['ff02::1', 'multicast'],
    ['0:0:0:0:0:0:0:1', 'loopback'],
    ['::0001', 'loopback'],
    ['0:0::0', 'unspecified'],
    ['FD00:EC2:0::254', 'instance metadata'],
    ['2001:db8::1', 'documentation'],
  ])('%s is refused (%s)', (ip, why) => {
    expect(forbiddenReason(ip, strict)).toBe(why);
  });

  test.each([
    '8.8.8.8',
    '1.1.1.1',
    '192.0.3.1',
    '198.20.0.1',
    '100.128.0.1',
    '223.255.255.254',
    '2606:4700:4700::1111',
    '2001:4860:4860::8888',
    '::ffff:8.8.8.8',
    '64:ff9b::808:808',
  ])('%s is public', (ip) => {
    expect(forbiddenReason(ip, strict)).toBeUndefined();
  });

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
