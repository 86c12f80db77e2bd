import {
  GetCommand,
  PutCommand,
  ScanCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import { FIRST_SUB_APP_ID, type App, type AppKey, type AppsRepository } from '../domain/apps';

/** Apps table layout: pk `APP#<SubAppId>` | `KEY#<SecretId>` | `COUNTER#SubAppId`. */
export class DynamoAppsRepository implements AppsRepository {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async nextSubAppId(): Promise<number> {
    const out = await this.doc.send(
      new UpdateCommand({
        TableName: this.table,
        Key: { pk: 'COUNTER#SubAppId' },
        UpdateExpression: 'ADD #v :one',
        ExpressionAttributeNames: { '#v': 'value' },
        ExpressionAttributeValues: { ':one': 1 },
        ReturnValues: 'UPDATED_NEW',
      }),
    );
    return FIRST_SUB_APP_ID - 1 + Number(out.Attributes?.value);
  }

  async putApp(app: App): Promise<void> {
    await this.doc.send(
      new PutCommand({
        TableName: this.table,
        Item: { pk: `APP#${app.subAppId}`, type: 'app', ...app },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
  }

  async getApp(subAppId: number): Promise<App | undefined> {
    const out = await this.doc.send(
      new GetCommand({ TableName: this.table, Key: { pk: `APP#${subAppId}` } }),
    );
    return out.Item ? toApp(out.Item) : undefined;
  }

  async listApps(): Promise<App[]> {
    return (await this.scanType('app')).map(toApp).sort((a, b) => a.subAppId - b.subAppId);
  }

  async putKey(key: AppKey): Promise<void> {
    await this.doc.send(
      new PutCommand({
        TableName: this.table,
        Item: { pk: `KEY#${key.secretId}`, type: 'key', ...key },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
  }

  async getKey(secretId: string): Promise<AppKey | undefined> {
    const out = await this.doc.send(
      new GetCommand({ TableName: this.table, Key: { pk: `KEY#${secretId}` }, ConsistentRead: true }),
    );
    return out.Item ? toKey(out.Item) : undefined;
  }

  async listKeys(subAppId: number): Promise<AppKey[]> {
    return (await this.scanType('key')).map(toKey).filter((k) => k.subAppId === subAppId);
  }

  async revokeKey(secretId: string): Promise<void> {
    await this.doc.send(
      new UpdateCommand({
        TableName: this.table,
        Key: { pk: `KEY#${secretId}` },
        UpdateExpression: 'SET #s = :revoked',
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeNames: { '#s': 'status' },
        ExpressionAttributeValues: { ':revoked': 'revoked' },
      }),
    );
  }

  private async scanType(type: string): Promise<Record<string, unknown>[]> {
    const items: Record<string, unknown>[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const out = await this.doc.send(
        new ScanCommand({
          TableName: this.table,
          FilterExpression: '#t = :t',
          ExpressionAttributeNames: { '#t': 'type' },
          ExpressionAttributeValues: { ':t': type },
          ExclusiveStartKey: start,
        }),
      );
      items.push(...(out.Items ?? []));
      start = out.LastEvaluatedKey;
    } while (start);
    return items;
  }
}

function toApp(i: Record<string, unknown>): App {
  return { subAppId: Number(i.subAppId), name: String(i.name), createdAt: String(i.createdAt) };
}
function toKey(i: Record<string, unknown>): AppKey {
  return {
    secretId: String(i.secretId),
    subAppId: Number(i.subAppId),
    secretKeyCipher: String(i.secretKeyCipher),
    status: i.status === 'revoked' ? 'revoked' : 'active',
    createdAt: String(i.createdAt),
  };
}
