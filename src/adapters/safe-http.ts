import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import * as http from 'node:http';
import * as https from 'node:https';
import { isIP } from 'node:net';
import type { Readable } from 'node:stream';
import { ErrCode, PermanentError, TransientError } from '../domain/errors';

/**
 * Fetching user-supplied URLs without letting them reach inside the network (SSRF): http(s) only, and
 * every address a name resolves to — at submission, at connection time (no DNS-rebinding window) and on
 * every redirect — must be public. Loopback may be allowed (local mode default).
 */
export interface UrlPolicy {
  allowLoopback: boolean;
}

function v4ToInt(ip: string): number {
  return ip.split('.').reduce((acc, p) => (acc << 8) + Number(p), 0) >>> 0;
}
function inV4(ip: string, cidr: string): boolean {
  const [base, bits] = cidr.split('/');
  const mask = Number(bits) === 0 ? 0 : (~0 << (32 - Number(bits))) >>> 0;
  return (v4ToInt(ip) & mask) === (v4ToInt(base) & mask);
}

/** The eight 16-bit groups of an IPv6 address (a trailing dotted IPv4 part included). */
function ipv6Groups(ip: string): number[] | undefined {
  let s = ip.toLowerCase().replace(/%.*$/, '');
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (v4) {
    const n = v4ToInt(v4[1]);
    s = s.slice(0, -v4[1].length) + `${(n >>> 16).toString(16)}:${(n & 0xffff).toString(16)}`;
  }
  const [head, tail] = s.split('::');
  const h = head ? head.split(':') : [];
  const t = tail !== undefined && tail !== '' ? tail.split(':') : [];
  const fill = s.includes('::') ? 8 - h.length - t.length : 0;
  const groups = [...h, ...Array<string>(Math.max(0, fill)).fill('0'), ...t].map((g) => parseInt(g, 16));
  return groups.length === 8 && groups.every((g) => g >= 0 && g <= 0xffff) ? groups : undefined;
}

/**
 * The IPv4 address an IPv6 address carries, in any of the forms that reach it: IPv4-mapped (::ffff:a.b.c.d,
 * also written in hex as ::ffff:7f00:1), IPv4-compatible (::a.b.c.d), NAT64 (64:ff9b::/96), 6to4 (2002::/16).
 */
function embeddedV4(groups: number[]): string | undefined {
  const v4 = (hi: number, lo: number) => [hi >> 8, hi & 255, lo >> 8, lo & 255].join('.');
  const zero = (from: number, to: number) => groups.slice(from, to).every((g) => g === 0);
  if (zero(0, 5) && groups[5] === 0xffff) return v4(groups[6], groups[7]);
  if (zero(0, 6) && (groups[6] !== 0 || groups[7] > 1)) return v4(groups[6], groups[7]);
  if (groups[0] === 0x64 && groups[1] === 0xff9b && zero(2, 6)) return v4(groups[6], groups[7]);
  if (groups[0] === 0x2002) return v4(groups[1], groups[2]);
  return undefined;
}

/** Why an address may not be fetched, or undefined when it is public. */
export function forbiddenReason(address: string, policy: UrlPolicy): string | undefined {
  let ip = address.toLowerCase().replace(/^\[|\]$/g, '');
  if (isIP(ip) === 6) {
    const groups = ipv6Groups(ip);
    if (!groups) return 'not a valid IPv6 address';
    const inner = embeddedV4(groups);
    if (inner) ip = inner;
  }
  if (isIP(ip) === 4) {
    if (inV4(ip, '127.0.0.0/8')) return policy.allowLoopback ? undefined : 'loopback';
    if (ip === '169.254.169.254') return 'instance metadata';
    if (inV4(ip, '169.254.0.0/16')) return 'link-local';
    // 100.64.0.0/10: carrier-grade NAT (shared address space), as private as RFC 1918.
    for (const c of ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '100.64.0.0/10'])
      if (inV4(ip, c)) return 'private';
    if (inV4(ip, '0.0.0.0/8')) return 'unspecified';
    // 192.0.0.0/24: IETF protocol assignments (e.g. 192.0.0.8, DS-Lite 192.0.0.0/29); 198.18.0.0/15: benchmarking.
    if (inV4(ip, '192.0.0.0/24') || inV4(ip, '198.18.0.0/15')) return 'reserved';
    for (const c of ['192.0.2.0/24', '198.51.100.0/24', '203.0.113.0/24'])
      if (inV4(ip, c)) return 'documentation';
    if (inV4(ip, '224.0.0.0/4') || inV4(ip, '240.0.0.0/4')) return 'multicast or reserved';
    return undefined;
  }
  if (isIP(ip) === 6) {
    // Decided on the parsed groups, so every spelling of an address (0:0:0:0:0:0:0:1, ::0001, …) is the same.
    const g = ipv6Groups(ip);
    if (!g) return 'not a valid IPv6 address';
    const zeroTo = (n: number) => g.slice(0, n).every((x) => x === 0);
    if (zeroTo(7) && g[7] === 1) return policy.allowLoopback ? undefined : 'loopback';
    if (zeroTo(8)) return 'unspecified';
    if (g[0] === 0xfd00 && g[1] === 0xec2 && g.slice(2, 7).every((x) => x === 0) && g[7] === 0x254)
      return 'instance metadata';
    if ((g[0] & 0xffc0) === 0xfe80) return 'link-local';
    // fec0::/10: site-local (deprecated, still routed inside some networks).
    if ((g[0] & 0xffc0) === 0xfec0) return 'site-local';
    if ((g[0] & 0xfe00) === 0xfc00) return 'private';
    if ((g[0] & 0xff00) === 0xff00) return 'multicast';
    // 2001::/32 Teredo: the tunnel's server and client IPv4 addresses are inside (the client's obfuscated).
    if (g[0] === 0x2001 && g[1] === 0) return 'Teredo tunnel';
    // 2001:db8::/32 documentation, 100::/64 discard-only.
    if (g[0] === 0x2001 && g[1] === 0xdb8) return 'documentation';
    if (g[0] === 0x100 && g.slice(1, 4).every((x) => x === 0)) return 'discard-only';
    return undefined;
  }
  return 'not an IP address';
}

export function parseHttpUrl(raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new PermanentError(ErrCode.BadParameter, `"${raw.slice(0, 200)}" is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new PermanentError(
      ErrCode.BadParameter,
      `only http and https URLs are accepted, not ${url.protocol}`,
    );
  }
  return url;
}

function resolveAll(host: string): Promise<LookupAddress[]> {
  return new Promise((resolve, reject) =>
    dnsLookup(host, { all: true, verbatim: true }, (err, addresses) =>
      err ? reject(err) : resolve(addresses),
    ),
  );
}

/** Refuses a URL whose host resolves to a forbidden address. */
export async function assertFetchable(raw: string, policy: UrlPolicy): Promise<URL> {
  const url = parseHttpUrl(raw);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  let addresses: LookupAddress[];
  try {
    addresses = isIP(host) ? [{ address: host, family: isIP(host) }] : await resolveAll(host);
  } catch {
    throw new PermanentError(ErrCode.BadSource, `the host ${host} of the URL does not resolve`);
  }
  for (const a of addresses) {
    const why = forbiddenReason(a.address, policy);
    if (why)
      throw new PermanentError(
        ErrCode.BadParameter,
        `the URL's host ${host} resolves to a ${why} address (${a.address}), which is not allowed`,
      );
  }
  return url;
}

export interface OpenedStream {
  body: Readable;
  contentLength?: number;
  contentType?: string;
  finalUrl: string;
}

/**
 * Opens a GET stream to a public URL: the connection's own DNS lookup is checked (so the address
 * checked is the address used), redirects are followed by hand and checked again, and a server that does
 * not answer within `timeoutMs` (headers, or silence mid-body) fails the fetch.
 */
export async function openSafeStream(
  raw: string,
  policy: UrlPolicy,
  opts: { timeoutMs: number; maxRedirects?: number } = { timeoutMs: 30_000 },
): Promise<OpenedStream> {
  let current = raw;
  for (let hop = 0; hop <= (opts.maxRedirects ?? 5); hop++) {
    const url = await assertFetchable(current, policy);
    const res = await get(url, policy, opts.timeoutMs);
    const status = res.statusCode ?? 0;
    if (status >= 300 && status < 400 && res.headers.location) {
      res.resume();
      current = new URL(res.headers.location, url).toString();
      continue;
    }
    if (status < 200 || status >= 300) {
      res.resume();
      if (status >= 500 || status === 429) throw new TransientError(`the source URL answered HTTP ${status}`);
      throw new PermanentError(
        ErrCode.BadSource,
        `the source URL answered HTTP ${status}; check that the file exists and is public`,
      );
    }
    res.setTimeout(opts.timeoutMs, () =>
      res.destroy(
        new PermanentError(
          ErrCode.BadSource,
          `the source stopped sending data for ${opts.timeoutMs / 1000} s`,
        ),
      ),
    );
    const len = Number(res.headers['content-length']);
    return {
      body: res,
      contentLength: Number.isFinite(len) ? len : undefined,
      contentType: res.headers['content-type'],
      finalUrl: url.toString(),
    };
  }
  throw new PermanentError(ErrCode.BadSource, 'the source URL redirects too many times');
}

function get(url: URL, policy: UrlPolicy, timeoutMs: number): Promise<http.IncomingMessage> {
  const lib = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = lib.get(
      url,
      {
        timeout: timeoutMs,
        lookup: (hostname, options, cb) => {
          dnsLookup(hostname, { all: true, verbatim: true }, (err, addresses) => {
            if (err) return cb(err, '', 4);
            const bad = addresses.find((a) => forbiddenReason(a.address, policy));
            if (bad) {
              return cb(
                new PermanentError(
                  ErrCode.BadParameter,
                  `the URL's host resolves to a forbidden address (${bad.address})`,
                ),
                '',
                4,
              );
            }
            if ((options as { all?: boolean }).all)
              return (cb as unknown as (e: null, a: LookupAddress[]) => void)(null, addresses);
            cb(null, addresses[0].address, addresses[0].family);
          });
        },
      },
      resolve,
    );
    req.on('timeout', () =>
      req.destroy(
        new PermanentError(ErrCode.BadSource, `the source URL did not answer within ${timeoutMs / 1000} s`),
      ),
    );
    req.on('error', (e) => {
      if (e instanceof PermanentError || e instanceof TransientError) return reject(e);
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ECONNREFUSED' || code === 'ENOTFOUND') {
        reject(new PermanentError(ErrCode.BadSource, `the source URL cannot be reached (${code})`));
      } else reject(new TransientError(`fetching the source failed: ${e.message}`));
    });
  });
}
