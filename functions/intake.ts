import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { loadConfig } from '../src/config';
import { logger } from '../src/logger';
import { makeAppsService, makeFlowDeps, makeFlowStarter } from '../src/composition';
import { scheduleApp } from '../src/services/scheduler';
import { reapApp } from '../src/services/reaper';

const config = loadConfig();
const flow = makeFlowDeps(config);
const flows = makeFlowStarter(config);
const apps = makeAppsService(config);

const schedule = (subAppId: number) =>
  scheduleApp(
    { tasks: flow.tasks, flows, clock: flow.clock, logger },
    subAppId,
    config.maxConcurrentFlowsPerApp,
  );

const reap = (subAppId: number) =>
  reapApp(
    { tasks: flow.tasks, flows, flow, clock: flow.clock, logger, graceSeconds: config.reaperGraceSeconds },
    subAppId,
  );

type IntakeEvent = SQSEvent | { sweep: true };

/**
 * Intake queue consumer: each message `{subAppId}` asks to start that app's waiting flows (priority, cap).
 * The scheduled sweep (`{sweep: true}`) does it for every app, so a lost message only delays a task; it
 * first reaps the app's tasks whose flow execution died outside its own Catch (src/services/reaper.ts), so
 * their slots go to the waiting tasks.
 */
export const handler = middy<IntakeEvent, SQSBatchResponse | { swept: number }>()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .handler(async (event) => {
    if ('sweep' in event) {
      const list = await apps.listApps();
      for (const a of list) {
        await reap(a.subAppId).catch((e: unknown) =>
          logger.error('sweep: reaping failed', { subAppId: a.subAppId, error: e as Error }),
        );
        await schedule(a.subAppId).catch((e: unknown) =>
          logger.error('sweep: scheduling failed', { subAppId: a.subAppId, error: e as Error }),
        );
      }
      return { swept: list.length };
    }
    const byApp = new Map<number, string[]>();
    const failures: string[] = [];
    for (const r of event.Records) {
      try {
        const id = Number((JSON.parse(r.body) as { subAppId?: unknown }).subAppId);
        if (!Number.isInteger(id)) throw new Error('no subAppId');
        byApp.set(id, [...(byApp.get(id) ?? []), r.messageId]);
      } catch {
        logger.warn('intake: dropping a malformed message', { messageId: r.messageId });
      }
    }
    for (const [subAppId, ids] of byApp) {
      try {
        await schedule(subAppId);
      } catch (e) {
        logger.error('intake: scheduling failed', { subAppId, error: e as Error });
        failures.push(...ids);
      }
    }
    return { batchItemFailures: failures.map((itemIdentifier) => ({ itemIdentifier })) };
  });
