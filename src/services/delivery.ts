import { createHash, createHmac } from 'node:crypto';
import type { StoredEvent } from '../adapters/event-store';

/**
 * HTTP push of stored events ("normal callback"), one SQS message per attempt.
 *
 * - Signed twice when the app has a SignKey: Tencent's `Sign` = MD5(SignKey + T) with `T` the expiry
 *   (decimal UNIX seconds, now + 10 min) as top-level fields of the JSON body (`T` a JSON number: int64), and
 *   `X-OpenVOD-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(SignKey, t + "." + body)>`, which covers the body.
 * - Success is a 2xx within the timeout. A failure schedules the next attempt as a new, delayed message
 *   (exponential backoff with ±20 % jitter, hops of at most 900 s); after the retry window (24 h) the event
 *   goes to the dead-letter queue and becomes pullable.
 * - No double push: an attempt runs only with the event's push lease (conditional write: state PUSHING,
 *   pushNext = this attempt, no live lease); the 2xx is recorded on the event before the message is deleted,
 *   and a message for an attempt that is no longer next is dropped.
 */

export const TENCENT_SIGN_EXPIRY_SECONDS = 600;

export const tencentSign = (signKey: string, t: number): string =>
  createHash('md5').update(`${signKey}${t}`).digest('hex');

export const openvodSignature = (signKey: string, timestamp: number, body: string): string =>
  createHmac('sha256', signKey).update(`${timestamp}.${body}`).digest('hex');

/** The POST body (Tencent's callback body: the EventContent, plus Sign and T when signed) and headers. */
export function callbackRequest(
  e: Pick<StoredEvent, 'eventId' | 'content'>,
  signKey: string,
  nowMs: number,
): { body: string; headers: Record<string, string> } {
  const now = Math.floor(nowMs / 1000);
  const payload: Record<string, unknown> = { ...e.content };
  // Tencent's ModifyEventConfig SignKey (vod_models.d.ts, ModifyEventConfigRequest.SignKey): with a SignKey the
  // notification message carries `Sign` (string) = MD5(SignKey + T) and `T` (int64: the signature's expiry,
  // decimal UNIX seconds, 10 minutes by default). Both are fields of the message itself; T is a JSON number.
  if (signKey) {
    const t = now + TENCENT_SIGN_EXPIRY_SECONDS;
    payload.Sign = tencentSign(signKey, t);
    payload.T = t;
  }
  const body = JSON.stringify(payload);
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'user-agent': 'OpenVOD-Callback/1.0',
    'x-openvod-event-id': e.eventId,
  };
  if (signKey) headers['x-openvod-signature'] = `t=${now},v1=${openvodSignature(signKey, now, body)}`;
  return { body, headers };
}

export interface RetryPolicy {
  /** Delay after the first failure; doubles each time. */
  baseMs: number;
  /** Longest delay between two attempts. */
  maxMs: number;
  /** Attempts go on until this long after the event was created, then the event is given up to pull. */
  windowMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  baseMs: 5_000,
  maxMs: 3_600_000,
  windowMs: 24 * 3_600_000,
};

/** Delay before the attempt after failed attempt `attempt` (1-based): base·2^(attempt−1), capped, ×[0.8, 1.2). */
export function retryDelayMs(attempt: number, policy: RetryPolicy, rand: () => number = Math.random): number {
  const exp = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.min(attempt - 1, 40));
  return Math.round(exp * (0.8 + 0.4 * rand()));
}

/** SQS allows at most 900 s of delay: longer waits are hops (the message carries notBefore). */
export const MAX_DELAY_SECONDS = 900;

export interface PushMessage {
  subAppId: number;
  eventId: string;
  attempt: number;
  /** Not before this time (ms): a message received earlier is sent on with the remaining delay. */
  notBefore?: number;
}

export interface PostResult {
  ok: boolean;
  status?: number;
  error?: string;
}

export interface PushEventStore {
  get(subAppId: number, eventId: string): Promise<StoredEvent | undefined>;
  claimPush(
    subAppId: number,
    eventId: string,
    attempt: number,
    now: number,
    leaseUntil: number,
  ): Promise<StoredEvent | undefined>;
  advancePush(subAppId: number, eventId: string, from: number, to: number, now: number): Promise<boolean>;
  markPushed(
    subAppId: number,
    eventId: string,
    lease: number,
    now: number,
    attempt: number,
  ): Promise<boolean>;
  recordFailure(
    subAppId: number,
    eventId: string,
    lease: number,
    attempt: number,
    error: string,
    nextAt?: number,
  ): Promise<boolean>;
  giveUpPush(
    subAppId: number,
    eventId: string,
    lease: number,
    attempt: number,
    error: string,
    now: number,
  ): Promise<boolean>;
}

export interface DeliveryDeps {
  events: PushEventStore;
  /** The app's SignKey in plaintext ('' = none), decrypted from its sealed form: used to sign, never logged. */
  signKeys: { get(subAppId: number): Promise<string> };
  queue: {
    send(m: PushMessage, delaySeconds: number): Promise<void>;
    deadLetter(body: object): Promise<void>;
  };
  post(url: string, body: string, headers: Record<string, string>, timeoutMs: number): Promise<PostResult>;
  clock: () => number;
  policy: RetryPolicy;
  timeoutMs: number;
  rand?: () => number;
  log?: (msg: string, extra: Record<string, unknown>) => void;
}

export type DeliveryOutcome = 'pushed' | 'retry-scheduled' | 'gave-up' | 'stale' | 'requeued';

const delaySeconds = (ms: number) => Math.min(MAX_DELAY_SECONDS, Math.max(0, Math.ceil(ms / 1000)));

/** One push attempt. Throws only on an infrastructure error (the message is then retried as it is). */
export async function deliverOne(deps: DeliveryDeps, m: PushMessage): Promise<DeliveryOutcome> {
  const now = deps.clock();
  if (m.notBefore !== undefined && m.notBefore - now > 500) {
    await deps.queue.send(m, delaySeconds(m.notBefore - now));
    return 'requeued';
  }
  const lease = now + deps.timeoutMs + 15_000;
  let e = await deps.events.claimPush(m.subAppId, m.eventId, m.attempt, now, lease);
  if (!e) {
    // Acknowledged, given up or an old attempt: nothing to do.
    const again = await deps.events.get(m.subAppId, m.eventId);
    if (!again || again.state !== 'PUSHING' || !again.url || (again.pushNext ?? 1) > m.attempt)
      return 'stale';
    const live = (again.pushLease ?? 0) >= now;
    // The previous attempt queued this message but its bookkeeping was lost (lease ran out): take over.
    if (!live && (again.pushNext ?? 1) < m.attempt) {
      await deps.events.advancePush(m.subAppId, m.eventId, again.pushNext ?? 1, m.attempt, now);
      e = await deps.events.claimPush(m.subAppId, m.eventId, m.attempt, now, lease);
    }
    if (!e) {
      // Another copy of this attempt runs, or the previous attempt is still finishing: look again later.
      await deps.queue.send(m, delaySeconds(Math.max(1000, (again.pushLease ?? 0) - now)));
      return 'requeued';
    }
  }
  if (!e.url) return 'stale';
  const signKey = await deps.signKeys.get(m.subAppId);
  const { body, headers } = callbackRequest(e, signKey, deps.clock());
  const res = await deps.post(e.url, body, headers, deps.timeoutMs);
  const at = deps.clock();
  if (res.ok) {
    await deps.events.markPushed(m.subAppId, m.eventId, lease, at, m.attempt);
    deps.log?.('event pushed', { eventId: m.eventId, attempt: m.attempt, status: res.status });
    return 'pushed';
  }
  const error = res.error ?? `HTTP ${res.status}`;
  if (at - e.createdAtMs >= deps.policy.windowMs) {
    await deps.queue.deadLetter({ ...m, url: e.url, error, gaveUpAt: new Date(at).toISOString() });
    await deps.events.giveUpPush(m.subAppId, m.eventId, lease, m.attempt, error, at);
    deps.log?.('event push gave up; it is pullable now', { eventId: m.eventId, attempt: m.attempt, error });
    return 'gave-up';
  }
  const wait = retryDelayMs(m.attempt, deps.policy, deps.rand);
  // The next attempt is queued before this one is recorded: a crash in between repeats this attempt, never loses the event.
  await deps.queue.send(
    { subAppId: m.subAppId, eventId: m.eventId, attempt: m.attempt + 1, notBefore: at + wait },
    delaySeconds(wait),
  );
  await deps.events.recordFailure(m.subAppId, m.eventId, lease, m.attempt, error, at + wait);
  deps.log?.('event push failed; retry scheduled', {
    eventId: m.eventId,
    attempt: m.attempt,
    error,
    retryInMs: wait,
  });
  return 'retry-scheduled';
}

/** A queue body as a push message, or undefined when it is not one (a poison message: never retried). */
export function parsePushMessage(body: string): PushMessage | undefined {
  let m: unknown;
  try {
    m = JSON.parse(body);
  } catch {
    return undefined;
  }
  const o = m as Partial<PushMessage> | null;
  if (
    !o ||
    typeof o !== 'object' ||
    !Number.isSafeInteger(o.subAppId) ||
    typeof o.eventId !== 'string' ||
    !/^[A-Za-z0-9_-]{1,128}$/.test(o.eventId) ||
    !Number.isSafeInteger(o.attempt) ||
    (o.attempt ?? 0) < 1 ||
    (o.notBefore !== undefined && !Number.isFinite(o.notBefore))
  )
    return undefined;
  return { subAppId: o.subAppId!, eventId: o.eventId, attempt: o.attempt!, notBefore: o.notBefore };
}

/** How late (ms) a PUSHING event's next step must be before the sweeper acts on it. */
export const SWEEP_GRACE_MS = 5 * 60_000;

export interface SweepStore {
  get(subAppId: number, eventId: string): Promise<StoredEvent | undefined>;
  overduePushes(
    shard: number,
    before: number,
    limit: number,
  ): Promise<Array<{ subAppId: number; eventId: string; pushsk: string }>>;
  forceGiveUpPush(
    subAppId: number,
    eventId: string,
    seenPushNext: number,
    error: string,
    now: number,
  ): Promise<boolean>;
  postponePush(subAppId: number, eventId: string, seenSk: string, dueAt: number): Promise<boolean>;
}

export interface SweepDeps {
  events: SweepStore;
  queue: DeliveryDeps['queue'];
  clock: () => number;
  policy: RetryPolicy;
  graceMs?: number;
  shards?: number;
  limitPerShard?: number;
  log?: (msg: string, extra: Record<string, unknown>) => void;
}

/**
 * The safety net under the delivery queue: every `PUSHING` event whose next step (first send, end of the
 * running attempt's lease, next attempt's delay) is more than `graceMs` overdue has lost its message — never
 * enqueued, or dead-lettered after failing on infrastructure `maxReceiveCount` times. Within the retry window
 * its current attempt is sent again (a duplicate is harmless: attempts run only with the push lease); past the
 * window it is given up like any exhausted push: pullable from now, and recorded in the dead-letter queue.
 */
export async function sweepPushes(deps: SweepDeps): Promise<{ resent: number; gaveUp: number }> {
  const now = deps.clock();
  const grace = deps.graceMs ?? SWEEP_GRACE_MS;
  let resent = 0;
  let gaveUp = 0;
  for (let shard = 0; shard < (deps.shards ?? 16); shard++) {
    const overdue = await deps.events.overduePushes(shard, now - grace, deps.limitPerShard ?? 100);
    for (const o of overdue) {
      const e = await deps.events.get(o.subAppId, o.eventId);
      if (!e || e.state !== 'PUSHING' || (e.pushLease ?? 0) >= now) continue;
      const attempt = e.pushNext ?? 1;
      if (now - e.createdAtMs >= deps.policy.windowMs) {
        const error = `push stuck past the retry window (last error: ${e.pushError ?? 'none'})`;
        if (await deps.events.forceGiveUpPush(o.subAppId, o.eventId, attempt, error, now)) {
          await deps.queue.deadLetter({
            subAppId: o.subAppId,
            eventId: o.eventId,
            attempt,
            url: e.url,
            error,
            gaveUpAt: new Date(now).toISOString(),
            sweeper: true,
          });
          gaveUp++;
          deps.log?.('stuck event push given up; it is pullable now', { eventId: o.eventId, attempt });
        }
        continue;
      }
      if (await deps.events.postponePush(o.subAppId, o.eventId, o.pushsk, now + grace)) {
        await deps.queue.send({ subAppId: o.subAppId, eventId: o.eventId, attempt }, 0);
        resent++;
        deps.log?.('stuck event push sent again', { eventId: o.eventId, attempt });
      }
    }
  }
  return { resent, gaveUp };
}
