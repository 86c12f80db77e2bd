import { GetCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DEFAULT_EVENT_CONFIG, type EventConfig, type EventConfigRepository } from '../services/event-config';

/** Event configuration of an app, in the events table: pk `APP#<SubAppId>`, sk `#CONFIG`. */
export class DynamoEventConfigRepository implements EventConfigRepository {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async get(subAppId: number): Promise<EventConfig> {
    const out = await this.doc.send(
      new GetCommand({
        TableName: this.table,
        Key: { pk: `APP#${subAppId}`, sk: '#CONFIG' },
        ConsistentRead: true,
      }),
    );
    const i = out.Item ?? {};
    return {
      mode: (i.mode as EventConfig['mode']) ?? DEFAULT_EVENT_CONFIG.mode,
      notificationUrl: (i.notificationUrl as string) ?? DEFAULT_EVENT_CONFIG.notificationUrl,
      uploadMediaCompleteEventSwitch: (i.uploadMediaCompleteEventSwitch as 'ON' | 'OFF') ?? 'OFF',
      deleteMediaCompleteEventSwitch: (i.deleteMediaCompleteEventSwitch as 'ON' | 'OFF') ?? 'OFF',
      persistenceCompleteEventSwitch: (i.persistenceCompleteEventSwitch as 'ON' | 'OFF') ?? 'OFF',
      signKey: (i.signKey as string) ?? '',
    };
  }

  /** Changes only the given fields (concurrent changes of different fields both hold). */
  async update(subAppId: number, changes: Partial<EventConfig>, updateTime: string): Promise<void> {
    const entries = Object.entries({ ...changes, updateTime }).filter(([, v]) => v !== undefined);
    await this.doc.send(
      new UpdateCommand({
        TableName: this.table,
        Key: { pk: `APP#${subAppId}`, sk: '#CONFIG' },
        UpdateExpression: `SET ${entries.map((_, i) => `#f${i} = :v${i}`).join(', ')}`,
        ExpressionAttributeNames: Object.fromEntries(entries.map(([k], i) => [`#f${i}`, k])),
        ExpressionAttributeValues: Object.fromEntries(entries.map(([, v], i) => [`:v${i}`, v])),
      }),
    );
  }
}
