import {
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
  type UpdateCommandInput,
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

  /**
   * A transaction's check that the media exists, is not being deleted (DeleteMedia's tombstone `deleteTime`)
   * and still has its original file: a task is stored only with it, so no task starts on a deleted source.
   */
  liveCheck(fileId: string): {
    TableName: string;
    Key: Record<string, unknown>;
    ConditionExpression: string;
  } {
    return {
      TableName: this.table,
      Key: { pk: `MEDIA#${fileId}` },
      ConditionExpression:
        'attribute_exists(pk) AND attribute_not_exists(deleteTime) AND attribute_not_exists(sourceDeleted)',
    };
  }

  private async updateLive(input: Omit<UpdateCommandInput, 'TableName' | 'Key'>, fileId: string) {
    try {
      await this.doc.send(
        new UpdateCommand({
          ...input,
          TableName: this.table,
          Key: { pk: `MEDIA#${fileId}` },
          ConditionExpression: `attribute_exists(pk) AND attribute_not_exists(deleteTime)${input.ConditionExpression ? ` AND (${input.ConditionExpression})` : ''}`,
        }),
      );
      return true;
    } catch (e) {
      if ((e as Error).name === 'ConditionalCheckFailedException') return false;
      throw e;
    }
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
    const newestFirst = (out.Items ?? []).sort((a, b) =>
      String(b.createTime).localeCompare(String(a.createTime)),
    );
    // A deleted media (tombstone) no longer owns the path: the newest live one does.
    for (const item of newestFirst) {
      const m = await this.get(String(item.pk).slice('MEDIA#'.length), subAppId);
      if (m) return m;
    }
    return undefined;
  }

  /** The other live media of this app whose original file is the object `key` (S3 rewrote the key). */
  async othersAtKey(key: string, subAppId: number, fileId: string): Promise<string[]> {
    const out = await this.doc.send(
      new QueryCommand({
        TableName: this.table,
        IndexName: 'byStoragePath',
        KeyConditionExpression: 'storagePath = :p',
        ExpressionAttributeValues: { ':p': `${subAppId}#/${key}` },
      }),
    );
    const ids = (out.Items ?? [])
      .map((i) => String(i.pk).slice('MEDIA#'.length))
      .filter((id) => id !== fileId);
    const live = await Promise.all(ids.map((id) => this.get(id, subAppId)));
    return ids.filter((_, i) => live[i] && !live[i]!.sourceDeleted);
  }

  /** PENDING → READY. False when the media does not exist or is being deleted (nothing is written). */
  markReady(fileId: string, metaData: MediaProbe, now: string): Promise<boolean> {
    return this.updateLive(
      {
        UpdateExpression: 'SET #s = :r, metaData = :m, updateTime = :now REMOVE failReason',
        ExpressionAttributeNames: { '#s': 'status' },
        ExpressionAttributeValues: { ':r': 'READY', ':m': metaData, ':now': now },
      },
      fileId,
    );
  }

  /**
   * Upload issue: records the task flow an upload started, or why it could not start it. False when the media
   * does not exist or is being deleted.
   */
  setProcedureResult(
    fileId: string,
    r: { procedureTaskId?: string; procedureError?: string },
    now: string,
  ): Promise<boolean> {
    return this.updateLive(
      {
        UpdateExpression: r.procedureTaskId
          ? 'SET procedureTaskId = :v, updateTime = :now REMOVE procedureError'
          : 'SET procedureError = :v, updateTime = :now',
        ExpressionAttributeValues: { ':v': r.procedureTaskId ?? r.procedureError ?? '', ':now': now },
      },
      fileId,
    );
  }

  /** → FAILED unless READY. False when it did not apply (READY, missing, or being deleted). */
  markFailed(fileId: string, reason: string, now: string): Promise<boolean> {
    return this.updateLive(
      {
        UpdateExpression: 'SET #s = :f, failReason = :why, updateTime = :now',
        ConditionExpression: '#s <> :r',
        ExpressionAttributeNames: { '#s': 'status' },
        ExpressionAttributeValues: { ':f': 'FAILED', ':r': 'READY', ':why': reason, ':now': now },
      },
      fileId,
    );
  }
}

/** A media's MediaStoragePath index key: `<SubAppId>#/<key>`. */
const storagePath = (m: Media) => `${m.subAppId}#/${m.key}`;
