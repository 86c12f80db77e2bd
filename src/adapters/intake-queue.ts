import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { IntakeQueue } from '../services/ports';

/** Intake kicks on SQS: `{"subAppId": N}` tells the scheduler to look at that app's waiting tasks. */
export class SqsIntakeQueue implements IntakeQueue {
  constructor(
    private readonly sqs: SQSClient,
    private readonly queueUrl: string,
  ) {}
  async kick(subAppId: number): Promise<void> {
    await this.sqs.send(
      new SendMessageCommand({ QueueUrl: this.queueUrl, MessageBody: JSON.stringify({ subAppId }) }),
    );
  }
}
