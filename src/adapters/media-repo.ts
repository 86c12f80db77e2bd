import {
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
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
    return {
      TableName: this.table,
      Item: { pk: `MEDIA#${media.fileId}`, ...media, storagePath: storagePath(media) },
    };
  }

  async put(media: Media): Promise<void> {
    await this.doc.send(
      new PutCommand({
        TableName: this.table,
        Item: { pk: `MEDIA#${media.fileId}`, ...media, storagePath: storagePath(media) },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
  }

  async get(fileId: string, subAppId: number): Promise<Media | undefined> {
    const out = await this.doc.send(
      new GetCommand({ TableName: this.table, Key: { pk: `MEDIA#${fileId}` }, ConsistentRead: true }),
    );
    const m = out.Item as (Media & { pk: string; storagePath?: string }) | undefined;
    // A media being deleted (DeleteMedia's tombstone) no longer exists.
    if (!m || m.subAppId !== subAppId || m.deleteTime) return undefined;
    const { pk: _pk, storagePath: _path, ...media } = m;
    return media;
  }

  /**
   * The media of this app whose MediaStoragePath is `path` (`/<key>`: its object key in the media bucket), the
   * newest when the key was written more than once. Index `byStoragePath` (storagePath `<SubAppId>#/<key>`).
   */
  async getByStoragePath(path: string, subAppId: number): Promise<Media | undefined> {
    const out = await this.doc.send(
      new QueryCommand({
        TableName: this.table,
        IndexName: 'byStoragePath',
        KeyConditionExpression: 'storagePath = :p',
        ExpressionAttributeValues: { ':p': `${subAppId}#${path}` },
      }),
    );
    const newest = (out.Items ?? []).sort((a, b) =>
      String(b.createTime).localeCompare(String(a.createTime)),
    )[0];
    return newest ? this.get(String(newest.pk).slice('MEDIA#'.length), subAppId) : undefined;
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

  /** Upload issue: records the task flow an upload started, or why it could not start it. */
  async setProcedureResult(
    fileId: string,
    r: { procedureTaskId?: string; procedureError?: string },
    now: string,
  ): Promise<void> {
    await this.doc.send(
      new UpdateCommand({
        TableName: this.table,
        Key: { pk: `MEDIA#${fileId}` },
        UpdateExpression: r.procedureTaskId
          ? 'SET procedureTaskId = :v, updateTime = :now REMOVE procedureError'
          : 'SET procedureError = :v, updateTime = :now',
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeValues: { ':v': r.procedureTaskId ?? r.procedureError ?? '', ':now': now },
      }),
    );
  }

  async markFailed(fileId: string, reason: string, now: string): Promise<void> {
    await this.doc
      .send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: `MEDIA#${fileId}` },
          UpdateExpression: 'SET #s = :f, failReason = :why, updateTime = :now',
          ConditionExpression: '#s <> :r',
          ExpressionAttributeNames: { '#s': 'status' },
          ExpressionAttributeValues: { ':f': 'FAILED', ':r': 'READY', ':why': reason, ':now': now },
        }),
      )
      .catch((e: unknown) => {
        if ((e as Error).name !== 'ConditionalCheckFailedException') throw e;
      });
  }
}

/** A media's MediaStoragePath index key: `<SubAppId>#/<key>`. */
const storagePath = (m: Media) => `${m.subAppId}#/${m.key}`;
