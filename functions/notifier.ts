import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import { loadConfig } from '../src/config';
import { logger } from '../src/logger';
import { makeNotifierDeps } from '../src/composition';
import { notifyTaskChanges, type ItemImage } from '../src/services/events';

const deps = makeNotifierDeps(loadConfig());

const image = (img: Record<string, unknown> | undefined) =>
  img
    ? (unmarshall(img as Record<string, AttributeValue>) as ItemImage & Record<string, unknown>)
    : undefined;

/**
 * Tasks table stream → events in Tencent's EventContent shape, stored once each (deterministic IDs).
 * Delivery: the events table's stream (functions/pusher.ts) and PullEvents.
 */
export const handler = middy<DynamoDBStreamEvent, DynamoDBBatchResponse>()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .handler(async (event) => {
    const { failedSeq } = await notifyTaskChanges(
      deps,
      event.Records.map((r) => ({
        seq: r.dynamodb?.SequenceNumber ?? '',
        oldImage: image(r.dynamodb?.OldImage),
        newImage: image(r.dynamodb?.NewImage),
      })),
    );
    // The failed record and everything after it: the stream resumes from there.
    return { batchItemFailures: failedSeq !== undefined ? [{ itemIdentifier: failedSeq }] : [] };
  });
