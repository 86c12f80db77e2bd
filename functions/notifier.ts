import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import { loadConfig } from '../src/config';
import { logger } from '../src/logger';
import { sharedClients } from '../src/adapters/clients';
import { DynamoEventStore } from '../src/adapters/event-store';
import { DynamoTaskStore } from '../src/adapters/task-store';
import { DynamoMediaRepository } from '../src/adapters/media-repo';
import { eventsForChange, type ItemImage } from '../src/services/events';
import { procedureTask } from '../src/services/task-view';

const config = loadConfig();
const clients = sharedClients(config);
const events = new DynamoEventStore(clients.doc, config.tables.events);
const tasks = new DynamoTaskStore(clients.doc, config.tables.tasks);
const media = new DynamoMediaRepository(clients.doc, config.tables.media);

const image = (img: Record<string, unknown> | undefined): ItemImage | undefined =>
  img ? (unmarshall(img as Record<string, AttributeValue>) as ItemImage) : undefined;

/**
 * Tasks table stream → ProcedureStateChanged events in Tencent's EventContent shape, stored once each
 * (deterministic IDs). Delivery (HTTP push, PullEvents) is built on the events table.
 */
export const handler = middy<DynamoDBStreamEvent, DynamoDBBatchResponse>()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .handler(async (event) => {
    for (const r of event.Records) {
      try {
        const found = eventsForChange(image(r.dynamodb?.OldImage), image(r.dynamodb?.NewImage));
        for (const e of found) {
          const t = await tasks.get(e.taskId);
          if (!t) continue;
          const content = {
            EventHandle: e.eventId,
            EventType: e.eventType,
            ProcedureStateChangeEvent: await procedureTask(t.task, t.subtasks, media),
          };
          const stored = await events.putOnce({ ...e, content, createTime: new Date().toISOString() }, Math.floor(Date.now() / 1000));
          logger.info('event', { eventId: e.eventId, taskId: e.taskId, transition: e.transition, stored });
        }
      } catch (err) {
        logger.error('notifier failed on a record', { error: err as Error, seq: r.dynamodb?.SequenceNumber });
        // Report this record and everything after it: the stream resumes from here.
        return { batchItemFailures: [{ itemIdentifier: r.dynamodb?.SequenceNumber ?? '' }] };
      }
    }
    return { batchItemFailures: [] };
  });
