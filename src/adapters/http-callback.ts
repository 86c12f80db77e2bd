import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import * as http from 'node:http';
import * as https from 'node:https';
import { assertFetchable, forbiddenReason, type UrlPolicy } from './safe-http';
import type { PostResult } from '../services/delivery';

/**
 * POSTs a callback to a user's URL without letting it reach inside the network: the URL is checked before
 * the request (http/https, every resolved address public) and the connection's own DNS lookup is checked
 * again (no rebinding window). Redirects are not followed: a 3xx is a failed attempt. The whole exchange
 * (connect, send, status and body) must fit in `timeoutMs`; only a 2xx counts as delivered.
 */
export async function postCallback(
  url: string,
  body: string,
  headers: Record<string, string>,
  timeoutMs: number,
  policy: UrlPolicy,
): Promise<PostResult> {
  let target: URL;
  try {
    target = await assertFetchable(url, policy);
  } catch (e) {
    return { ok: false, error: `URL refused: ${(e as Error).message}` };
  }
  const lib = target.protocol === 'https:' ? https : http;
  return new Promise<PostResult>((resolve) => {
    let settled = false;
    const done = (r: PostResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(r);
    };
    const req = lib.request(
      target,
      {
        method: 'POST',
        headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
        agent: false,
        lookup: (hostname, options, cb) => {
          dnsLookup(hostname, { all: true, verbatim: true }, (err, addresses: LookupAddress[]) => {
            if (err) return cb(err, '', 4);
            const bad = addresses.find((a) => forbiddenReason(a.address, policy));
            if (bad)
              return cb(new Error(`the URL's host resolves to a forbidden address (${bad.address})`), '', 4);
            if ((options as { all?: boolean }).all)
              return (cb as unknown as (e: null, a: LookupAddress[]) => void)(null, addresses);
            cb(null, addresses[0].address, addresses[0].family);
          });
        },
      },
      (res) => {
        const status = res.statusCode ?? 0;
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > 64 * 1024) res.destroy();
        });
        res.on('close', () =>
          done(
            status >= 200 && status < 300
              ? { ok: true, status }
              : {
                  ok: false,
                  status,
                  error:
                    status >= 300 && status < 400
                      ? `HTTP ${status} (redirects are not followed)`
                      : `HTTP ${status}`,
                },
          ),
        );
        res.on('error', () => undefined);
      },
    );
    const timer = setTimeout(() => {
      req.destroy();
      done({ ok: false, error: `no answer within ${timeoutMs} ms` });
    }, timeoutMs);
    req.on('error', (e) => done({ ok: false, error: e.message }));
    req.end(body);
  });
}
