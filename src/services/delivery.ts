import { createHash, createHmac } from 'node:crypto';
import type { StoredEvent } from '../adapters/event-store';
import type { EventConfigRepository } from './event-config';

/**
 * HTTP push of stored events ("normal callback"), one SQS message per attempt.
 *
 * - Signed twice when the app has a SignKey: Tencent's `Sign` = MD5(SignKey + T) with `T` the expiry
 *   (decimal UNIX seconds, now + 10 min) as top-level fields of the JSON body, and
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
  configs: Pick<EventConfigRepository, 'get'>;
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
  const config = await deps.configs.get(m.subAppId);
  const { body, headers } = callbackRequest(e, config.signKey, deps.clock());
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
  await deps.events.recordFailure(m.subAppId, m.eventId, lease, m.attempt, error);
  deps.log?.('event push failed; retry scheduled', {
    eventId: m.eventId,
    attempt: m.attempt,
    error,
    retryInMs: wait,
  });
  return 'retry-scheduled';
}
