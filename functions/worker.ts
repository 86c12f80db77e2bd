import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { loadConfig } from '../src/config';
import { logger } from '../src/logger';
import { makeWorkerDeps } from '../src/composition';
import { ingest, recordFailure, runSubtask } from '../src/services/worker';
import type { FlowRef } from '../src/services/flow';

const deps = makeWorkerDeps(loadConfig());

type WorkerEvent = FlowRef & {
  action: 'ingest' | 'run' | 'recordFailure';
  index?: number;
  error?: { Error?: string; Cause?: string };
};

/** The ffmpeg worker on Lambda. The Fargate container (layers/worker/entrypoint.ts) runs the same code. */
export const handler = middy<WorkerEvent, unknown>()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .handler(async (event) => {
    logger.appendKeys({ taskId: event.taskId, subAppId: event.subAppId, subtask: event.index });
    switch (event.action) {
      case 'ingest':
        return ingest(deps, event);
      case 'run':
        return runSubtask(deps, { ...event, index: Number(event.index) });
      case 'recordFailure':
        return recordFailure(deps, { ...event, index: Number(event.index) });
    }
  });
