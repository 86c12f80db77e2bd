/**
 * Entrypoint of the Fargate worker container: runs ONE subtask, described by the OPENVOD_SUBTASK
 * environment variable (JSON {taskId, subAppId, index}), with the same code as the worker Lambda.
 * Exit 0: the subtask ended (SUCCESS, or FAIL recorded with its ErrCode). Exit 1: a transient failure that
 * the state machine's Catch turns into a FAIL with ErrCode 70000.
 */
import { loadConfig } from '../../src/config';
import { logger } from '../../src/logger';
import { makeWorkerDeps } from '../../src/composition';
import { runSubtask } from '../../src/services/worker';

async function main(): Promise<number> {
  const raw = process.env.OPENVOD_SUBTASK;
  if (!raw) {
    console.error('OPENVOD_SUBTASK is not set');
    return 2;
  }
  const ref = JSON.parse(raw) as { taskId: string; subAppId: number; index: number };
  logger.appendKeys({ taskId: ref.taskId, subAppId: ref.subAppId, subtask: ref.index, engine: 'fargate' });
  const result = await runSubtask(makeWorkerDeps(loadConfig()), {
    taskId: ref.taskId,
    subAppId: Number(ref.subAppId),
    index: Number(ref.index),
  });
  logger.info('fargate subtask ended', { status: result.status });
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`worker failed: ${(err as Error).message}`);
    process.exit(1);
  },
);
