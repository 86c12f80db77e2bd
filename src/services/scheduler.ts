import type { DynamoTaskStore } from '../adapters/task-store';
import type { Logger } from '@aws-lambda-powertools/logger';
import { isoNow, type Clock, type FlowStarter } from './ports';

/**
 * Intake: starts an app's WAITING task flows, highest TasksPriority first then oldest, while fewer than
 * `cap` of its flows are running. The waiting index in DynamoDB is the queue of record; SQS messages are
 * only "look at this app" kicks (sent at submission and when a flow finishes), so none can be lost.
 */
export async function scheduleApp(
  deps: { tasks: DynamoTaskStore; flows: FlowStarter; clock: Clock; logger: Logger },
  subAppId: number,
  cap: number,
): Promise<{ started: string[] }> {
  const started: string[] = [];
  for (;;) {
    const next = await deps.tasks.listWaiting(subAppId, 5);
    if (next.length === 0) break;
    if (!(await deps.tasks.acquireSlot(subAppId, cap))) break;
    let dispatched = false;
    for (const candidate of next) {
      if (!(await deps.tasks.claimForDispatch(candidate.taskId, isoNow(deps.clock), subAppId))) continue; // another pass took it
      const input = { taskId: candidate.taskId, subAppId };
      try {
        await deps.flows.start(candidate.taskId, input);
      } catch (e) {
        // A timeout may hide an execution that was created: ask once more (the same name answers 'exists')
        // before giving the slot back, so the slot count cannot drift.
        const again = await deps.flows.start(candidate.taskId, input).catch(() => undefined);
        if (!again) {
          const task = await deps.tasks.getTask(candidate.taskId);
          if (task) await deps.tasks.unclaim(task);
          await deps.tasks.releaseSlot(subAppId);
          throw e;
        }
      }
      started.push(candidate.taskId);
      dispatched = true;
      break;
    }
    if (!dispatched) {
      // Only entries other passes claimed meanwhile (the index lags a little): they need no slot.
      await deps.tasks.releaseSlot(subAppId);
      break;
    }
  }
  if (started.length) deps.logger.info('flows started', { subAppId, started });
  return { started };
}
