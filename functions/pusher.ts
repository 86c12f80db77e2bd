import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { DynamoDBBatchResponse, DynamoDBStreamEvent, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { loadConfig } from '../src/config';
import { logger } from '../src/logger';
import { makeDeliveryDeps } from '../src/composition';
import { deliverOne, parsePushMessage, sweepPushes, type PushMessage } from '../src/services/delivery';

const deps = makeDeliveryDeps(loadConfig());

/**
 * Events table stream → delivery queue. Storing an event is what commits it to delivery: every INSERT of a
 * PUSH event becomes the message of its first attempt, and a failed send is retried by the stream (the
 * records from the failed one on), so an event stored but not yet enqueued is still delivered.
 * Duplicated messages are harmless: an attempt runs only with the event's push lease.
 */
export const enqueue = middy<DynamoDBStreamEvent, DynamoDBBatchResponse>()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .handler(async (event) => {
    const sends = event.Records.map(async (r) => {
      const img = r.dynamodb?.NewImage;
      if (r.eventName !== 'INSERT' || !img?.sk?.S?.startsWith('EVT#') || img.state?.S !== 'PUSHING') return;
      const m: PushMessage = { subAppId: Number(img.subAppId?.N), eventId: img.sk.S.slice(4), attempt: 1 };
      await deps.queue.send(m, 0);
    });
    const results = await Promise.allSettled(sends);
    const failed = results.findIndex((r) => r.status === 'rejected');
    if (failed < 0) return { batchItemFailures: [] };
    logger.error('could not enqueue an event push; the stream retries from it', {
      error: (results[failed] as PromiseRejectedResult).reason as Error,
    });
    return { batchItemFailures: [{ itemIdentifier: event.Records[failed].dynamodb?.SequenceNumber ?? '' }] };
  });

/**
 * Delivery queue → HTTP POST, one attempt per message, all messages of a batch at once (each with its own
 * timeout), so a slow receiver holds up no other app's callbacks. A failed attempt queues its successor
 * with a delay and the message is done; only an infrastructure error keeps the message for a retry.
 */
export const deliver = middy<SQSEvent, SQSBatchResponse>()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .handler(async (event) => {
    const results = await Promise.allSettled(
      event.Records.map(async (r) => {
        const m = parsePushMessage(r.body);
        if (m) return deliverOne(deps, m);
        // Poison: no retry can make it a push message. Kept in the dead-letter queue, never retried.
        logger.error('malformed delivery message; dead-lettered', { body: r.body.slice(0, 500) });
        await deps.queue.deadLetter({ malformed: r.body.slice(0, 10_000), messageId: r.messageId });
        return 'stale' as const;
      }),
    );
    const batchItemFailures = results.flatMap((r, i) => {
      if (r.status === 'fulfilled') return [];
      logger.error('event push failed on infrastructure; the message is retried', {
        error: r.reason as Error,
      });
      return [{ itemIdentifier: event.Records[i].messageId }];
    });
    return { batchItemFailures };
  });

/**
 * Every 5 minutes: PUSHING events long overdue (never enqueued, message lost or dead-lettered on
 * infrastructure errors) are sent again, or given up to pull once past the retry window.
 */
export const sweep = middy<unknown, { resent: number; gaveUp: number }>()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .handler(async () => {
    const out = await sweepPushes(deps);
    if (out.resent || out.gaveUp) logger.warn('event push sweep acted', out);
    return out;
  });
