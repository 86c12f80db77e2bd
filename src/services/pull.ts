import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { ApiError } from '../domain/errors';
import { common, parseParams } from '../api/validation';
import type { StoredEvent } from '../adapters/event-store';

/**
 * Reliable callback: PullEvents / ConfirmEvents on the events table.
 *
 * - PullEvents long-polls (up to `waitMs`, default 5 s) for at most 16 visible pending events of the caller's
 *   app, oldest first. Each is claimed with a conditional write on the index entry the query saw, so two
 *   concurrent pulls never get the same event; the claim gives it a new EventHandle and hides it for
 *   `visibilityMs` (30 s).
 * - ConfirmEvents (≤ 16 handles) confirms with the current handle only: a handle that was superseded by a
 *   later pull, whose 30 s ran out, or that belongs to no event of this app is refused with
 *   `InvalidParameterValue.EventHandles`, naming each; the valid ones in the same call are confirmed.
 * - A pulled, unconfirmed event is visible again after 30 s; pending events are kept 4 days (from when they
 *   became pullable). An event found past that by a pull leaves the index (`EXPIRED`) and the pull reads on,
 *   so expired events waiting for TTL never hide newer ones.
 */
export interface PullEventStore {
  visible(
    subAppId: number,
    now: number,
    limit: number,
    after?: { eventId: string; pullsk: string },
  ): Promise<Array<{ eventId: string; pullsk: string }>>;
  expirePull(subAppId: number, eventId: string, seenSk: string, nowSeconds: number): Promise<boolean>;
  claimPull(
    subAppId: number,
    eventId: string,
    seenSk: string,
    handle: string,
    until: number,
    nowSeconds: number,
  ): Promise<StoredEvent | undefined>;
  confirm(
    subAppId: number,
    eventId: string,
    handle: string,
    now: number,
  ): Promise<'ok' | 'unknown' | 'superseded' | 'expired' | 'confirmed'>;
}

export interface PullDeps {
  events: PullEventStore;
  clock: () => number;
  visibilityMs: number;
  waitMs: number;
  pollMs?: number;
}

export const MAX_EVENTS_PER_PULL = 16;

const pullSchema = z.object({ ...common, ExtInfo: z.string().max(1024).optional() }).strict();
const confirmSchema = z
  .object({
    ...common,
    EventHandles: z.array(z.string().min(1).max(256)).min(1).max(MAX_EVENTS_PER_PULL),
    ExtInfo: z.string().max(1024).optional(),
  })
  .strict();

const newHandle = (eventId: string) => `${eventId}.${randomBytes(8).toString('hex')}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Index pages one pull reads at most (of 2 × 16 entries): expired entries are removed as they are met. */
export const MAX_PAGES_PER_PULL = 10;
const PAGE = MAX_EVENTS_PER_PULL * 2;

async function pullOnce(deps: PullDeps, subAppId: number): Promise<StoredEvent[]> {
  const now = deps.clock();
  const nowSeconds = Math.floor(now / 1000);
  const got: StoredEvent[] = [];
  let after: { eventId: string; pullsk: string } | undefined;
  for (let page = 0; page < MAX_PAGES_PER_PULL && got.length < MAX_EVENTS_PER_PULL; page++) {
    const candidates = await deps.events.visible(subAppId, now, PAGE, after);
    for (let i = 0; i < candidates.length && got.length < MAX_EVENTS_PER_PULL;) {
      const slice = candidates.slice(i, i + (MAX_EVENTS_PER_PULL - got.length));
      i += slice.length;
      after = slice[slice.length - 1];
      const claimed = await Promise.all(
        slice.map(async (c) => {
          const e = await deps.events.claimPull(
            subAppId,
            c.eventId,
            c.pullsk,
            newHandle(c.eventId),
            now + deps.visibilityMs,
            nowSeconds,
          );
          // Refused: taken by a concurrent pull, or past retention (then it leaves the index for good).
          if (!e) await deps.events.expirePull(subAppId, c.eventId, c.pullsk, nowSeconds);
          return e;
        }),
      );
      for (const e of claimed) if (e) got.push(e);
    }
    if (candidates.length < PAGE) break;
  }
  return got;
}

export async function pullEvents(deps: PullDeps, subAppId: number, raw: unknown): Promise<object> {
  parseParams(pullSchema, raw);
  const deadline = deps.clock() + deps.waitMs;
  for (;;) {
    const got = await pullOnce(deps, subAppId);
    if (got.length || deps.clock() >= deadline) {
      return {
        EventSet: got
          .sort((a, b) => a.createdAtMs - b.createdAtMs)
          .map((e) => ({ EventHandle: e.handle, ...e.content })),
      };
    }
    await sleep(Math.min(deps.pollMs ?? 100, Math.max(0, deadline - deps.clock())));
  }
}

export async function confirmEvents(deps: PullDeps, subAppId: number, raw: unknown): Promise<object> {
  const p = parseParams(confirmSchema, raw);
  const now = deps.clock();
  const outcomes = await Promise.all(
    p.EventHandles.map(async (h) => {
      const dot = h.lastIndexOf('.');
      if (dot <= 0) return { h, why: 'unknown' as const };
      return { h, why: await deps.events.confirm(subAppId, h.slice(0, dot), h, now) };
    }),
  );
  const bad = outcomes.filter((o) => o.why !== 'ok' && o.why !== 'confirmed');
  if (bad.length) {
    const reason = {
      unknown: 'is not a handle of an event of this app',
      superseded: 'was superseded: the event was pulled again and has a newer handle',
      expired: 'expired: it was not confirmed within 30 s, so the event will be delivered again',
    } as const;
    const parts = bad.map((o) => `${o.h} ${reason[o.why as keyof typeof reason]}`);
    const ok = outcomes.length - bad.length;
    throw new ApiError(
      'InvalidParameterValue.EventHandles',
      `EventHandles: ${parts.join('; ')}.${ok ? ` The other ${ok} handle(s) were confirmed.` : ''}`,
    );
  }
  return {};
}
