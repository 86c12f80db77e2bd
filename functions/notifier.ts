import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import { loadConfig } from '../src/config';
import { logger } from '../src/logger';
import { makeNotifierDeps } from '../src/composition';
import { notifierBatch } from '../src/services/events';

const deps = makeNotifierDeps(loadConfig());

/**
 * Tasks table stream → events in Tencent's EventContent shape, stored once each (deterministic IDs).
 * Delivery: the events table's stream (functions/pusher.ts) and PullEvents. The stream retries without limit
 * from the earliest record that failed transiently (ReportBatchItemFailures); a record that can never succeed
 * is logged and skipped alone (see notifierBatch).
 */
export const handler = middy<DynamoDBStreamEvent, DynamoDBBatchResponse>()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .handler((event) => notifierBatch(deps, event));
