import { createHash, createHmac } from 'node:crypto';
import {
  callbackRequest,
  DEFAULT_RETRY_POLICY,
  deliverOne,
  parsePushMessage,
  retryDelayMs,
  type DeliveryDeps,
  type PushMessage,
} from '../../src/services/delivery';
import type { StoredEvent } from '../../src/adapters/event-store';

const content = {
  EventType: 'ProcedureStateChanged',
  ProcedureStateChangeEvent: { TaskId: 't1', SessionContext: 'ctx' },
};

describe('callback signatures', () => {
  test("Tencent's Sign = MD5(SignKey + T) with T the expiry (now + 600 s, decimal) in the body, and an HMAC over t.body", () => {
    const now = 1_700_000_000_123;
    const { body, headers } = callbackRequest({ eventId: 'e1', content }, 'Key123', now);
    const parsed = JSON.parse(body) as Record<string, unknown>;
    expect(parsed.EventType).toBe('ProcedureStateChanged');
    expect(parsed.ProcedureStateChangeEvent).toEqual(content.ProcedureStateChangeEvent);
    expect(parsed.T).toBe(1_700_000_600);
    // Independent computation of Tencent's scheme.
    expect(parsed.Sign).toBe(createHash('md5').update('Key1231700000600', 'utf8').digest('hex'));
    const m = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(headers['x-openvod-signature']);
    expect(m).not.toBeNull();
    expect(Number(m![1])).toBe(1_700_000_000);
    expect(m![2]).toBe(createHmac('sha256', 'Key123').update(`1700000000.${body}`).digest('hex'));
    expect(headers['x-openvod-event-id']).toBe('e1');
    expect(headers['content-type']).toBe('application/json');
  });

  test('T is a JSON number (int64 decimal UNIX seconds, per ModifyEventConfigRequest.SignKey), not a string', () => {
    const { body } = callbackRequest({ eventId: 'e1', content }, 'Key123', 1_700_000_000_999);
    expect(body).toMatch(/"T":1700000600[,}]/);
    expect(body).not.toMatch(/"T":"/);
    expect(typeof (JSON.parse(body) as { T: unknown }).T).toBe('number');
    expect(body).toMatch(/"Sign":"[0-9a-f]{32}"/);
  });

  test('the HMAC covers the body: a changed body no longer verifies', () => {
    const { body, headers } = callbackRequest({ eventId: 'e1', content }, 'Key123', 1_700_000_000_000);
    const v1 = headers['x-openvod-signature'].split('v1=')[1];
    const tampered = body.replace('"ctx"', '"cty"');
    expect(createHmac('sha256', 'Key123').update(`1700000000.${tampered}`).digest('hex')).not.toBe(v1);
  });

  test('without a SignKey the body is the bare EventContent and no signature header is sent', () => {
    const { body, headers } = callbackRequest({ eventId: 'e1', content }, '', 1_700_000_000_000);
    expect(JSON.parse(body)).toEqual(content);
    expect(headers['x-openvod-signature']).toBeUndefined();
  });
});

describe('delivery messages', () => {
  test('a well-formed body parses; anything else is poison (never retried)', () => {
    expect(parsePushMessage('{"subAppId":1,"eventId":"e1","attempt":2,"notBefore":5}')).toEqual({
      subAppId: 1,
      eventId: 'e1',
      attempt: 2,
      notBefore: 5,
    });
    for (const bad of [
      'not json',
      'null',
      '[]',
      '{"subAppId":"1","eventId":"e1","attempt":1}',
      '{"subAppId":1,"eventId":"../x","attempt":1}',
      '{"subAppId":1,"eventId":"e1","attempt":0}',
      '{"subAppId":1,"eventId":"e1"}',
    ])
      expect(parsePushMessage(bad)).toBeUndefined();
  });
});

describe('retry schedule', () => {
  test('exponential from the base, capped, jitter within ±20 %', () => {
    const p = DEFAULT_RETRY_POLICY;
    expect(retryDelayMs(1, p, () => 0.5)).toBe(5000);
    expect(retryDelayMs(2, p, () => 0.5)).toBe(10_000);
    expect(retryDelayMs(5, p, () => 0.5)).toBe(80_000);
    expect(retryDelayMs(30, p, () => 0.5)).toBe(3_600_000);
    for (let a = 1; a < 40; a++) {
      const mid = retryDelayMs(a, p, () => 0.5);
      expect(retryDelayMs(a, p, () => 0)).toBe(Math.round(mid * 0.8));
      expect(retryDelayMs(a, p, () => 0.999999)).toBeLessThanOrEqual(Math.round(mid * 1.2));
      const r = retryDelayMs(a, p);
      expect(r).toBeGreaterThanOrEqual(Math.round(mid * 0.8));
      expect(r).toBeLessThanOrEqual(Math.round(mid * 1.2));
    }
  });

  test('attempts go on for at least 24 h even with the shortest jitter, in a bounded number of attempts', () => {
    for (const rand of [() => 0, () => 0.999999]) {
      let elapsed = 0;
      let attempt = 1;
      // The pusher gives up only after a failed attempt at or past the window.
      while (elapsed < DEFAULT_RETRY_POLICY.windowMs) {
        elapsed += retryDelayMs(attempt, DEFAULT_RETRY_POLICY, rand);
        attempt++;
      }
      expect(elapsed).toBeGreaterThanOrEqual(24 * 3600 * 1000);
      expect(attempt).toBeGreaterThan(20);
      expect(attempt).toBeLessThan(45);
    }
  });
});

describe('deliverOne', () => {
  const base: StoredEvent = {
    subAppId: 1,
    eventId: 'e1',
    eventType: 'ProcedureStateChanged',
    content,
    createTime: '',
    createdAtMs: 0,
    delivery: 'PUSH',
    url: 'http://example.test/cb',
    state: 'PUSHING',
    pushNext: 1,
    expiresAt: 0,
  };
  function fakeDeps(ev: StoredEvent, post: DeliveryDeps['post'], now = 1000) {
    const sent: Array<{ m: PushMessage; delay: number }> = [];
    const dead: object[] = [];
    const calls: string[] = [];
    let item = { ...ev };
    const deps: DeliveryDeps = {
      events: {
        get: async () => ({ ...item }),
        claimPush: async (_s, _e, attempt, t, lease) => {
          if (item.state !== 'PUSHING' || item.pushNext !== attempt || (item.pushLease ?? 0) >= t)
            return undefined;
          item.pushLease = lease;
          return { ...item };
        },
        advancePush: async (_s, _e, from, to, t) => {
          if (item.state !== 'PUSHING' || item.pushNext !== from || (item.pushLease ?? 0) >= t) return false;
          item = { ...item, pushNext: to };
          return true;
        },
        markPushed: async () => {
          calls.push('pushed');
          item = { ...item, state: 'PUSHED', pushLease: undefined };
          return true;
        },
        recordFailure: async (_s, _e, _l, attempt, _err, nextAt) => {
          calls.push(`failed ${attempt} due ${nextAt}`);
          item = { ...item, pushNext: attempt + 1, pushLease: undefined };
          return true;
        },
        giveUpPush: async () => {
          calls.push('gave up');
          item = { ...item, state: 'PENDING', pushLease: undefined };
          return true;
        },
      },
      signKeys: { get: async () => 'k' },
      queue: {
        send: async (m, delay) => void sent.push({ m, delay }),
        deadLetter: async (b) => void dead.push(b),
      },
      post,
      clock: () => now,
      policy: { baseMs: 2000, maxMs: 10_000, windowMs: 60_000 },
      timeoutMs: 5000,
      rand: () => 0.5,
    };
    return { deps, sent, dead, calls, item: () => item };
  }

  test('a 2xx marks the event pushed; a redelivered message for it is dropped without a second POST', async () => {
    const post = jest.fn(async () => ({ ok: true, status: 200 }));
    const f = fakeDeps(base, post);
    expect(await deliverOne(f.deps, { subAppId: 1, eventId: 'e1', attempt: 1 })).toBe('pushed');
    expect(await deliverOne(f.deps, { subAppId: 1, eventId: 'e1', attempt: 1 })).toBe('stale');
    expect(post).toHaveBeenCalledTimes(1);
    expect(f.item().state).toBe('PUSHED');
  });

  test('a failure queues the next attempt with the backoff delay before recording it; an old attempt is then stale', async () => {
    const post = jest.fn(async () => ({ ok: false, status: 500 }));
    const f = fakeDeps(base, post);
    expect(await deliverOne(f.deps, { subAppId: 1, eventId: 'e1', attempt: 1 })).toBe('retry-scheduled');
    expect(f.sent).toEqual([{ m: { subAppId: 1, eventId: 'e1', attempt: 2, notBefore: 3000 }, delay: 2 }]);
    expect(f.calls).toEqual(['failed 1 due 3000']);
    expect(await deliverOne(f.deps, { subAppId: 1, eventId: 'e1', attempt: 1 })).toBe('stale');
    expect(post).toHaveBeenCalledTimes(1);
  });

  test('a message that arrives while another copy holds the lease is sent on, not run twice', async () => {
    const post = jest.fn(async () => ({ ok: true, status: 200 }));
    const f = fakeDeps({ ...base, pushLease: 5000 }, post);
    expect(await deliverOne(f.deps, { subAppId: 1, eventId: 'e1', attempt: 1 })).toBe('requeued');
    expect(post).not.toHaveBeenCalled();
    expect(f.sent[0].delay).toBe(4);
  });

  test('the successor of an attempt whose bookkeeping was lost takes over once the lease ran out', async () => {
    const post = jest.fn(async () => ({ ok: true, status: 200 }));
    // Attempt 3 queued attempt 4, then died before recording its failure; its lease (500) has run out.
    const f = fakeDeps({ ...base, pushNext: 3, pushLease: 500 }, post);
    expect(await deliverOne(f.deps, { subAppId: 1, eventId: 'e1', attempt: 4 })).toBe('pushed');
    expect(post).toHaveBeenCalledTimes(1);
    // The redelivered attempt 3 is now stale.
    expect(await deliverOne(f.deps, { subAppId: 1, eventId: 'e1', attempt: 3 })).toBe('stale');
    expect(post).toHaveBeenCalledTimes(1);
  });

  test('a delay longer than 900 s is split into hops', async () => {
    const post = jest.fn(async () => ({ ok: true, status: 200 }));
    const f = fakeDeps(base, post);
    expect(
      await deliverOne(f.deps, { subAppId: 1, eventId: 'e1', attempt: 1, notBefore: 1000 + 2_000_000 }),
    ).toBe('requeued');
    expect(f.sent[0].delay).toBe(900);
    expect(post).not.toHaveBeenCalled();
  });

  test('after the retry window the event goes to the DLQ and becomes pullable', async () => {
    const post = jest.fn(async () => ({ ok: false, error: 'no answer within 5000 ms' }));
    const f = fakeDeps({ ...base, pushNext: 7 }, post, 61_000);
    expect(await deliverOne(f.deps, { subAppId: 1, eventId: 'e1', attempt: 7 })).toBe('gave-up');
    expect(f.dead).toHaveLength(1);
    expect(f.dead[0]).toMatchObject({ eventId: 'e1', attempt: 7, error: 'no answer within 5000 ms' });
    expect(f.calls).toEqual(['gave up']);
    expect(f.sent).toEqual([]);
  });
});
