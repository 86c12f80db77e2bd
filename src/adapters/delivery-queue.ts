import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { PushMessage } from '../services/delivery';

/** The callback delivery queue (one message per push attempt, delayed) and its dead-letter queue. */
export class SqsDeliveryQueue {
  constructor(
    private readonly sqs: SQSClient,
    private readonly queueUrl: string,
    private readonly dlqUrl: string,
  ) {}

  async send(m: PushMessage, delaySeconds: number): Promise<void> {
    await this.sqs.send(
      new SendMessageCommand({
        QueueUrl: this.queueUrl,
        MessageBody: JSON.stringify(m),
        DelaySeconds: delaySeconds,
      }),
    );
  }

  async deadLetter(body: object): Promise<void> {
    await this.sqs.send(new SendMessageCommand({ QueueUrl: this.dlqUrl, MessageBody: JSON.stringify(body) }));
  }
}
