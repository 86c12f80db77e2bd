import { ExecutionAlreadyExists, StartExecutionCommand, type SFNClient } from '@aws-sdk/client-sfn';
import type { FlowStarter } from '../services/ports';

/** Starts the task-flow state machine; the execution name is the TaskId, so a task never starts twice. */
export class SfnFlowStarter implements FlowStarter {
  constructor(
    private readonly sfn: SFNClient,
    private readonly stateMachineArn: string,
  ) {}
  async start(taskId: string, input: { taskId: string; subAppId: number }): Promise<'started' | 'exists'> {
    try {
      await this.sfn.send(
        new StartExecutionCommand({ stateMachineArn: this.stateMachineArn, name: taskId, input: JSON.stringify(input) }),
      );
      return 'started';
    } catch (e) {
      if (e instanceof ExecutionAlreadyExists || (e as Error).name === 'ExecutionAlreadyExists') return 'exists';
      throw e;
    }
  }
}
