import { PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { TransitionEvent } from '../services/events';

/** Unpulled events are kept 4 days (Tencent's reliable-callback retention). */
export const EVENT_RETENTION_SECONDS = 4 * 24 * 3600;

/** Events table: pk `APP#<SubAppId>`, sk `EVT#<EventId>`; a second write of the same event is refused. */
export class DynamoEventStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  /** Stores the event once; returns false when it was stored before. */
  async putOnce(e: TransitionEvent & { content: object; createTime: string }, nowSeconds: number): Promise<boolean> {
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.table,
          Item: { pk: `APP#${e.subAppId}`, sk: `EVT#${e.eventId}`, ...e, expiresAt: nowSeconds + EVENT_RETENTION_SECONDS },
          ConditionExpression: 'attribute_not_exists(sk)',
        }),
      );
      return true;
    } catch (err) {
      if ((err as Error).name === 'ConditionalCheckFailedException') return false;
      throw err;
    }
  }
}
