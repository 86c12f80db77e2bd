import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { loadConfig } from '../src/config';
import { logger } from '../src/logger';
import { makeFlowDeps } from '../src/composition';
import { failAll, finalizeTask, markProcessing, planSubtasks, type FlowRef } from '../src/services/flow';
import { asTransient, classify } from '../src/domain/errors';

const deps = makeFlowDeps(loadConfig());

type FlowEvent = FlowRef & {
  action?: 'mark' | 'plan' | 'failAll' | 'finalize';
  error?: { Error?: string; Cause?: string };
};

/** Task-flow state machine steps that are not media work (see statemachines/task-flow.asl.json). */
export const handler = middy<FlowEvent, unknown>()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .handler(async (event) => {
    logger.appendKeys({ taskId: event.taskId, subAppId: event.subAppId });
    try {
      return await step(event);
    } catch (e) {
      // Transient failures (throttling, a dependency briefly down) get the state machine's Retry.
      const c = classify(e);
      throw c.transient ? asTransient(e, c.message) : e;
    }
  });

function step(event: FlowEvent) {
  switch (event.action ?? 'mark') {
    case 'mark':
      return markProcessing(deps, event);
    case 'plan':
      return planSubtasks(deps, event);
    case 'failAll':
      return failAll(deps, {
        ...event,
        message: `the task flow stopped before this subtask ended (${event.error?.Error ?? 'error'}); submit the task again`,
      });
    case 'finalize':
      return finalizeTask(deps, event);
  }
}
