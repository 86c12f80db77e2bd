import { createHash } from 'node:crypto';
import {
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import { isConditionFailure } from './dynamo-conditions';
import { ErrCode, PermanentError } from '../domain/errors';
import { compactValue, expandValue, jsonBytes } from '../domain/packed-lists';

/** Unpulled events are kept 4 days (Tencent's reliable-callback retention). */
export const EVENT_RETENTION_SECONDS = 4 * 24 * 3600;

/**
 * Events table, one item per event: pk `APP#<SubAppId>`, sk `EVT#<EventId>` (a second write of the same
 * event is refused, so deterministic IDs make every producer idempotent).
 *
 * Delivery state lives on the item and changes only by conditional writes:
 * - PUSH events start `PUSHING` (pushNext = the attempt number that may run next, pushLease = the lease of
 *   the attempt running now) and end `PUSHED` (acknowledged by a 2xx) or, after the retry window,
 *   `PENDING` (given up: pullable).
 * - PULL events (and PUSH without a URL) start `PENDING`: pullable. While pending they carry the index
 *   attributes `pullpk` = `APP#<SubAppId>`, `pullsk` = `<visibleAt ms, 15 digits>#<EventId>` (GSI
 *   `byVisibleAt`): a pull moves visibleAt 30 s ahead and sets a new handle, a confirm removes them (`CONFIRMED`).
 *   A pending event found past its retention by a pull leaves the index (`EXPIRED`; TTL deletes it later).
 * - While `PUSHING` an event carries `pushpk` = `PUSH#<shard 0-f>`, `pushsk` = `<due ms, 15 digits>#<EventId>`
 *   (sparse GSI `byPushDue`): when something must happen next (its first send, the end of the running attempt's
 *   lease, the next attempt's delay). The sweeper (functions/pusher.ts `sweep`) finds events long overdue there:
 *   a lost message or one dead-lettered after failing on infrastructure.
 */
export type EventState = 'PUSHING' | 'PUSHED' | 'PENDING' | 'CONFIRMED' | 'EXPIRED';

export interface StoredEvent {
  subAppId: number;
  eventId: string;
  eventType: string;
  /** Tencent's EventContent without EventHandle (EventType + the event's own field). */
  content: Record<string, unknown>;
  createTime: string;
  createdAtMs: number;
  delivery: 'PUSH' | 'PULL';
  /** The NotificationUrl snapshot of a PUSH event. */
  url?: string;
  state: EventState;
  pushNext?: number;
  pushLease?: number;
  pushError?: string;
  visibleAt?: number;
  handle?: string;
  pulls?: number;
  expiresAt: number;
  /** Producer facts (task, transition) for logs and tests. */
  taskId?: string;
  transition?: string;
}

const key = (subAppId: number, eventId: string) => ({ pk: `APP#${subAppId}`, sk: `EVT#${eventId}` });
export const pullSortKey = (visibleAt: number, eventId: string) =>
  `${String(visibleAt).padStart(15, '0')}#${eventId}`;
export const PUSH_SHARDS = 16;
export const pushPartition = (eventId: string) =>
  `PUSH#${createHash('md5').update(eventId).digest('hex')[0]}`;
const pushSortKey = (dueAt: number, eventId: string) =>
  `${String(Math.max(0, dueAt)).padStart(15, '0')}#${eventId}`;

function fromItem(i: Record<string, unknown>): StoredEvent {
  const { pk: _pk, sk: _sk, pullpk: _p, pullsk: _s, pushpk: _q, pushsk: _r, ...rest } = i;
  // Stored compacted (putOnce): delivered and pulled in full. Events stored before compaction read as they are.
  if (rest.content !== undefined) rest.content = expandValue(rest.content);
  return rest as unknown as StoredEvent;
}

/** The most an event's compacted content may take (DynamoDB items hold 400 KB, with the delivery fields). */
export const MAX_CONTENT_BYTES = 350 * 1024;

export class DynamoEventStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  private async updateIf(
    input: Omit<ConstructorParameters<typeof UpdateCommand>[0], 'TableName'>,
  ): Promise<Record<string, unknown> | undefined> {
    try {
      const out = await this.doc.send(
        new UpdateCommand({ ReturnValues: 'ALL_NEW', ...input, TableName: this.table }),
      );
      return out.Attributes ?? {};
    } catch (e) {
      if (isConditionFailure(e)) return undefined;
      throw e;
    }
  }

  /**
   * Stores the event once; returns false when it was stored before. The content is stored compacted (a
   * ProcedureStateChanged of 10,800 snapshots holds their URLs as a numbered range) and read back in full.
   * Content still over MAX_CONTENT_BYTES is refused with a PermanentError (the notifier logs and skips it).
   */
  async putOnce(e: StoredEvent): Promise<boolean> {
    const pending = e.state === 'PENDING';
    const content = compactValue(e.content);
    const bytes = jsonBytes(content);
    if (bytes > MAX_CONTENT_BYTES) {
      throw new PermanentError(
        ErrCode.Internal,
        `event ${e.eventId} is too large to store (${Math.ceil(bytes / 1024)} KB after compaction, at most ${MAX_CONTENT_BYTES / 1024} KB)`,
      );
    }
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.table,
          Item: {
            ...key(e.subAppId, e.eventId),
            ...e,
            content,
            ...(pending
              ? { pullpk: `APP#${e.subAppId}`, pullsk: pullSortKey(e.visibleAt ?? e.createdAtMs, e.eventId) }
              : {}),
            ...(e.state === 'PUSHING'
              ? { pushpk: pushPartition(e.eventId), pushsk: pushSortKey(e.createdAtMs, e.eventId) }
              : {}),
          },
          ConditionExpression: 'attribute_not_exists(sk)',
        }),
      );
      return true;
    } catch (err) {
      if (isConditionFailure(err)) return false;
      throw err;
    }
  }

  async get(subAppId: number, eventId: string): Promise<StoredEvent | undefined> {
    const out = await this.doc.send(
      new GetCommand({ TableName: this.table, Key: key(subAppId, eventId), ConsistentRead: true }),
    );
    return out.Item ? fromItem(out.Item) : undefined;
  }

  /**
   * Takes the push lease for attempt `attempt`: only when that attempt is next and no lease is live.
   * Returns the event (with the lease) or undefined when the condition did not hold.
   */
  async claimPush(
    subAppId: number,
    eventId: string,
    attempt: number,
    now: number,
    leaseUntil: number,
  ): Promise<StoredEvent | undefined> {
    const out = await this.updateIf({
      Key: key(subAppId, eventId),
      UpdateExpression: 'SET pushLease = :lease, pushpk = :qp, pushsk = :qs',
      ConditionExpression:
        '#st = :pushing AND pushNext = :n AND (attribute_not_exists(pushLease) OR pushLease < :now)',
      ExpressionAttributeNames: { '#st': 'state' },
      ExpressionAttributeValues: {
        ':lease': leaseUntil,
        ':pushing': 'PUSHING',
        ':n': attempt,
        ':now': now,
        ':qp': pushPartition(eventId),
        ':qs': pushSortKey(leaseUntil, eventId),
      },
    });
    return out ? fromItem(out) : undefined;
  }

  /**
   * The successor of an attempt whose bookkeeping was lost (its handler died after queueing this message and
   * its lease ran out) takes over: pushNext moves from `from` to `to`. Conditional, so it happens once.
   */
  async advancePush(
    subAppId: number,
    eventId: string,
    from: number,
    to: number,
    now: number,
  ): Promise<boolean> {
    const out = await this.updateIf({
      Key: key(subAppId, eventId),
      UpdateExpression: 'SET pushNext = :to',
      ConditionExpression:
        '#st = :pushing AND pushNext = :from AND (attribute_not_exists(pushLease) OR pushLease < :now)',
      ExpressionAttributeNames: { '#st': 'state' },
      ExpressionAttributeValues: { ':pushing': 'PUSHING', ':from': from, ':to': to, ':now': now },
      ReturnValues: 'NONE',
    });
    return out !== undefined;
  }

  /** A 2xx: the event is acknowledged and never pushed again. */
  async markPushed(
    subAppId: number,
    eventId: string,
    lease: number,
    now: number,
    attempt: number,
  ): Promise<boolean> {
    const out = await this.updateIf({
      Key: key(subAppId, eventId),
      UpdateExpression:
        'SET #st = :pushed, pushedAt = :now, pushAttempts = :n REMOVE pushLease, pushError, pushpk, pushsk',
      ConditionExpression: '#st = :pushing AND pushLease = :lease',
      ExpressionAttributeNames: { '#st': 'state' },
      ExpressionAttributeValues: {
        ':pushed': 'PUSHED',
        ':pushing': 'PUSHING',
        ':lease': lease,
        ':now': now,
        ':n': attempt,
      },
      ReturnValues: 'NONE',
    });
    return out !== undefined;
  }

  /** A failed attempt whose successor is already queued (due at `nextAt`): attempt + 1 may run next. */
  async recordFailure(
    subAppId: number,
    eventId: string,
    lease: number,
    attempt: number,
    error: string,
    nextAt?: number,
  ): Promise<boolean> {
    const out = await this.updateIf({
      Key: key(subAppId, eventId),
      UpdateExpression:
        'SET pushNext = :next, pushError = :err, pushAttempts = :n, pushpk = :qp, pushsk = :qs REMOVE pushLease',
      ConditionExpression: '#st = :pushing AND pushLease = :lease',
      ExpressionAttributeNames: { '#st': 'state' },
      ExpressionAttributeValues: {
        ':pushing': 'PUSHING',
        ':lease': lease,
        ':next': attempt + 1,
        ':n': attempt,
        ':err': error.slice(0, 500),
        ':qp': pushPartition(eventId),
        ':qs': pushSortKey(nextAt ?? lease, eventId),
      },
      ReturnValues: 'NONE',
    });
    return out !== undefined;
  }

  /** Push gave up: the event becomes pullable now, for the retention period from now (nothing is dropped). */
  giveUpPush(
    subAppId: number,
    eventId: string,
    lease: number,
    attempt: number,
    error: string,
    now: number,
  ): Promise<boolean> {
    return this.makePullable(subAppId, eventId, error, now, {
      set: ', pushAttempts = :n',
      condition: 'pushLease = :lease',
      values: { ':lease': lease, ':n': attempt },
    });
  }

  /**
   * The sweeper's give-up of an event stuck `PUSHING` (its messages lost or dead-lettered): pullable from now,
   * only while no attempt holds a live lease and the push has not moved on since the sweeper looked.
   */
  forceGiveUpPush(
    subAppId: number,
    eventId: string,
    seenPushNext: number,
    error: string,
    now: number,
  ): Promise<boolean> {
    return this.makePullable(subAppId, eventId, error, now, {
      set: '',
      condition:
        '(attribute_not_exists(pushNext) OR pushNext = :n) AND (attribute_not_exists(pushLease) OR pushLease < :now)',
      values: { ':n': seenPushNext },
    });
  }

  /** A `PUSHING` event (under the caller's extra condition) becomes `PENDING` and pullable from `now`. */
  private async makePullable(
    subAppId: number,
    eventId: string,
    error: string,
    now: number,
    extra: { set: string; condition: string; values: Record<string, unknown> },
  ): Promise<boolean> {
    const out = await this.updateIf({
      Key: key(subAppId, eventId),
      UpdateExpression: `SET #st = :pending, pushError = :err${extra.set}, pushGaveUpAt = :now, visibleAt = :now, pullpk = :pp, pullsk = :ps, expiresAt = :exp REMOVE pushLease, pushpk, pushsk`,
      ConditionExpression: `#st = :pushing AND ${extra.condition}`,
      ExpressionAttributeNames: { '#st': 'state' },
      ExpressionAttributeValues: {
        ':pending': 'PENDING',
        ':pushing': 'PUSHING',
        ':err': error.slice(0, 500),
        ':now': now,
        ':pp': `APP#${subAppId}`,
        ':ps': pullSortKey(now, eventId),
        ':exp': Math.floor(now / 1000) + EVENT_RETENTION_SECONDS,
        ...extra.values,
      },
      ReturnValues: 'NONE',
    });
    return out !== undefined;
  }

  /** Moves a stuck event's due time on (the sweeper re-sent its message), only if nothing moved it meanwhile. */
  async postponePush(subAppId: number, eventId: string, seenSk: string, dueAt: number): Promise<boolean> {
    const out = await this.updateIf({
      Key: key(subAppId, eventId),
      UpdateExpression: 'SET pushsk = :qs',
      ConditionExpression: '#st = :pushing AND pushsk = :seen',
      ExpressionAttributeNames: { '#st': 'state' },
      ExpressionAttributeValues: {
        ':pushing': 'PUSHING',
        ':seen': seenSk,
        ':qs': pushSortKey(dueAt, eventId),
      },
      ReturnValues: 'NONE',
    });
    return out !== undefined;
  }

  /** `PUSHING` events of one shard due before `before` (ms), most overdue first (index: keys only). */
  async overduePushes(
    shard: number,
    before: number,
    limit: number,
  ): Promise<Array<{ subAppId: number; eventId: string; pushsk: string }>> {
    const out = await this.doc.send(
      new QueryCommand({
        TableName: this.table,
        IndexName: 'byPushDue',
        KeyConditionExpression: 'pushpk = :p AND pushsk < :bound',
        ExpressionAttributeValues: {
          ':p': `PUSH#${shard.toString(16)}`,
          ':bound': String(Math.max(0, before)).padStart(15, '0'),
        },
        Limit: limit,
      }),
    );
    return (out.Items ?? []).map((i) => ({
      subAppId: Number(String(i.pk).slice(4)),
      eventId: String(i.sk).slice(4),
      pushsk: String(i.pushsk),
    }));
  }

  /**
   * Pending events of the app visible at `now`, oldest first (index: keys only); `after` (the last entry of
   * the previous page) continues the listing.
   */
  async visible(
    subAppId: number,
    now: number,
    limit: number,
    after?: { eventId: string; pullsk: string },
  ): Promise<Array<{ eventId: string; pullsk: string }>> {
    const out = await this.doc.send(
      new QueryCommand({
        TableName: this.table,
        IndexName: 'byVisibleAt',
        KeyConditionExpression: 'pullpk = :p AND pullsk < :bound',
        ExpressionAttributeValues: { ':p': `APP#${subAppId}`, ':bound': String(now + 1).padStart(15, '0') },
        Limit: limit,
        ExclusiveStartKey: after
          ? { ...key(subAppId, after.eventId), pullpk: `APP#${subAppId}`, pullsk: after.pullsk }
          : undefined,
      }),
    );
    return (out.Items ?? []).map((i) => ({ eventId: String(i.sk).slice(4), pullsk: String(i.pullsk) }));
  }

  /**
   * A pending event past its retention leaves the pull index (`EXPIRED`), so it can never hide newer events
   * from PullEvents while it waits for TTL. Conditional on the index entry the caller saw.
   */
  async expirePull(subAppId: number, eventId: string, seenSk: string, nowSeconds: number): Promise<boolean> {
    const out = await this.updateIf({
      Key: key(subAppId, eventId),
      UpdateExpression: 'SET #st = :expired REMOVE pullpk, pullsk',
      ConditionExpression: 'pullsk = :seen AND #st = :pending AND expiresAt <= :nowS',
      ExpressionAttributeNames: { '#st': 'state' },
      ExpressionAttributeValues: {
        ':expired': 'EXPIRED',
        ':pending': 'PENDING',
        ':seen': seenSk,
        ':nowS': nowSeconds,
      },
      ReturnValues: 'NONE',
    });
    return out !== undefined;
  }

  /**
   * Hands a visible event out: new handle, invisible until `until`. Conditional on the index entry the
   * caller saw, so two concurrent pulls never both get it.
   */
  async claimPull(
    subAppId: number,
    eventId: string,
    seenSk: string,
    handle: string,
    until: number,
    nowSeconds: number,
  ): Promise<StoredEvent | undefined> {
    const out = await this.updateIf({
      Key: key(subAppId, eventId),
      UpdateExpression:
        'SET handle = :h, visibleAt = :until, pullsk = :sk, pulls = if_not_exists(pulls, :zero) + :one',
      ConditionExpression: 'pullsk = :seen AND #st = :pending AND expiresAt > :nowS',
      ExpressionAttributeNames: { '#st': 'state' },
      ExpressionAttributeValues: {
        ':h': handle,
        ':until': until,
        ':sk': pullSortKey(until, eventId),
        ':zero': 0,
        ':one': 1,
        ':seen': seenSk,
        ':pending': 'PENDING',
        ':nowS': nowSeconds,
      },
    });
    return out ? fromItem(out) : undefined;
  }

  /**
   * Confirms a pulled event: only with its current handle, before the handle expires. Returns 'ok' or why not.
   */
  async confirm(
    subAppId: number,
    eventId: string,
    handle: string,
    now: number,
  ): Promise<'ok' | 'unknown' | 'superseded' | 'expired' | 'confirmed'> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: key(subAppId, eventId),
          UpdateExpression: 'SET #st = :confirmed, confirmedAt = :now REMOVE pullpk, pullsk',
          ConditionExpression: '#st = :pending AND handle = :h AND visibleAt > :now',
          ExpressionAttributeNames: { '#st': 'state' },
          ExpressionAttributeValues: {
            ':confirmed': 'CONFIRMED',
            ':pending': 'PENDING',
            ':h': handle,
            ':now': now,
          },
        }),
      );
      return 'ok';
    } catch (e) {
      if (!isConditionFailure(e)) throw e;
      const item = await this.get(subAppId, eventId);
      if (!item || !item.handle) return 'unknown';
      if (item.handle !== handle) return 'superseded';
      // Confirming twice with the same handle is not an error.
      if (item.state === 'CONFIRMED') return 'confirmed';
      return 'expired';
    }
  }
}
