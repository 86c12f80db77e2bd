import { GetCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import {
  DEFAULT_EVENT_CONFIG,
  type EventConfig,
  type EventConfigChanges,
  type EventConfigRepository,
  type StoredSignKey,
} from '../services/event-config';

/**
 * Event configuration of an app, in the events table: pk `APP#<SubAppId>`, sk `#CONFIG`. The SignKey is held
 * sealed in `signKeyCipher`; items written before it was encrypted hold it in plain `signKey`, read as such
 * until SignKey is next set (which removes the plain field).
 */
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
      signKey: storedSignKey(i),
    };
  }

  /** Changes only the given fields (concurrent changes of different fields both hold). */
  async update(subAppId: number, changes: EventConfigChanges, updateTime: string): Promise<void> {
    const { signKey, ...plain } = changes;
    const set: Record<string, unknown> = { ...plain, updateTime };
    const remove: string[] = [];
    if (signKey !== undefined) {
      remove.push('signKey');
      if (signKey === null) remove.push('signKeyCipher');
      else set.signKeyCipher = signKey.sealed;
    }
    const entries = Object.entries(set).filter(([, v]) => v !== undefined);
    const names = [...entries.map(([k]) => k), ...remove];
    await this.doc.send(
      new UpdateCommand({
        TableName: this.table,
        Key: { pk: `APP#${subAppId}`, sk: '#CONFIG' },
        UpdateExpression:
          `SET ${entries.map((_, i) => `#f${i} = :v${i}`).join(', ')}` +
          (remove.length ? ` REMOVE ${remove.map((_, j) => `#f${entries.length + j}`).join(', ')}` : ''),
        ExpressionAttributeNames: Object.fromEntries(names.map((k, i) => [`#f${i}`, k])),
        ExpressionAttributeValues: Object.fromEntries(entries.map(([, v], i) => [`:v${i}`, v])),
      }),
    );
  }
}

function storedSignKey(i: Record<string, unknown>): StoredSignKey {
  if (typeof i.signKeyCipher === 'string' && i.signKeyCipher) return { sealed: i.signKeyCipher };
  if (typeof i.signKey === 'string' && i.signKey) return { legacyPlaintext: i.signKey };
  return undefined;
}
