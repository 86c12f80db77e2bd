import {
  DescribeExecutionCommand,
  ExecutionAlreadyExists,
  StartExecutionCommand,
  type SFNClient,
} from '@aws-sdk/client-sfn';
import type { FlowStarter } from '../services/ports';
import type { ExecutionState, FlowInspector } from '../services/reaper';

/** Starts the task-flow state machine; the execution name is the TaskId, so a task never starts twice. */
export class SfnFlowStarter implements FlowStarter, FlowInspector {
  constructor(
    private readonly sfn: SFNClient,
    private readonly stateMachineArn: string,
  ) {}
  async start(taskId: string, input: { taskId: string; subAppId: number }): Promise<'started' | 'exists'> {
    try {
      await this.sfn.send(
        new StartExecutionCommand({
          stateMachineArn: this.stateMachineArn,
          name: taskId,
          input: JSON.stringify(input),
        }),
      );
      return 'started';
    } catch (e) {
      if (e instanceof ExecutionAlreadyExists || (e as Error).name === 'ExecutionAlreadyExists')
        return 'exists';
      throw e;
    }
  }

  /** The execution named TaskId: arn:aws:states:<region>:<account>:execution:<stateMachineName>:<TaskId>. */
  executionArn(taskId: string): string {
    return `${this.stateMachineArn.replace(':stateMachine:', ':execution:')}:${taskId}`;
  }

  /** The state of the task's execution; MISSING when none was started under its name. */
  async describe(taskId: string): Promise<ExecutionState> {
    try {
      const out = await this.sfn.send(
        new DescribeExecutionCommand({ executionArn: this.executionArn(taskId) }),
      );
      return {
        status: (out.status ?? 'RUNNING') as ExecutionState['status'],
        error: out.error,
        cause: out.cause,
        stopDate: out.stopDate?.toISOString(),
      };
    } catch (e) {
      if ((e as Error).name === 'ExecutionDoesNotExist') return { status: 'MISSING' };
      throw e;
    }
  }
}
