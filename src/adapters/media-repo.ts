import { GetCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Media } from '../domain/media';
import type { MediaProbe } from '../media/probe';

/** Media table: pk `MEDIA#<FileId>`. Every read checks the app: another app's media does not exist. */
export class DynamoMediaRepository {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  /** The write of a new media, for a transaction of another store. */
  putRequest(media: Media): { TableName: string; Item: Record<string, unknown> } {
    return { TableName: this.table, Item: { pk: `MEDIA#${media.fileId}`, ...media } };
  }

  async put(media: Media): Promise<void> {
    await this.doc.send(
      new PutCommand({
        TableName: this.table,
        Item: { pk: `MEDIA#${media.fileId}`, ...media },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
  }

  async get(fileId: string, subAppId: number): Promise<Media | undefined> {
    const out = await this.doc.send(
      new GetCommand({ TableName: this.table, Key: { pk: `MEDIA#${fileId}` }, ConsistentRead: true }),
    );
    const m = out.Item as (Media & { pk: string }) | undefined;
    if (!m || m.subAppId !== subAppId) return undefined;
    const { pk: _pk, ...media } = m;
    return media;
  }

  async markReady(fileId: string, metaData: MediaProbe, now: string): Promise<void> {
    await this.doc.send(
      new UpdateCommand({
        TableName: this.table,
        Key: { pk: `MEDIA#${fileId}` },
        UpdateExpression: 'SET #s = :r, metaData = :m, updateTime = :now REMOVE failReason',
        ExpressionAttributeNames: { '#s': 'status' },
        ExpressionAttributeValues: { ':r': 'READY', ':m': metaData, ':now': now },
      }),
    );
  }

  async markFailed(fileId: string, reason: string, now: string): Promise<void> {
    await this.doc.send(
      new UpdateCommand({
        TableName: this.table,
        Key: { pk: `MEDIA#${fileId}` },
        UpdateExpression: 'SET #s = :f, failReason = :why, updateTime = :now',
        ConditionExpression: '#s <> :r',
        ExpressionAttributeNames: { '#s': 'status' },
        ExpressionAttributeValues: { ':f': 'FAILED', ':r': 'READY', ':why': reason, ':now': now },
      }),
    ).catch((e: unknown) => {
      if ((e as Error).name !== 'ConditionalCheckFailedException') throw e;
    });
  }
}
