import {
  BatchGetCommand,
  DeleteCommand,
  GetCommand,
  PutCommand,
  type DynamoDBDocumentClient,
  type UpdateCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { queryAll, queryPages } from './dynamo-query';
import { applyIf, isConditionFailure } from './dynamo-conditions';
import type { Media } from '../domain/media';
import type { SubtaskKind } from '../domain/task';

/**
 * The media library on the media table (next to the media items `MEDIA#<FileId>`):
 *   output items `OUTPUT#<FileId>#<Kind>#<Definition>`: one per output a flow produced, so outputs of one
 *     flow's concurrent subtasks never write the same item, each output has the whole 400 KB item to itself,
 *     and the media item keeps only the string set `outputKeys` (ADD/DELETE are atomic);
 *   GSI `byApp` (subAppId, createTime) over media items only (output items carry no createTime): SearchMedia.
 */
export interface OutputRecord {
  fileId: string;
  subAppId: number;
  kind: SubtaskKind;
  definition: number;
  /** The task and the time its subtask ended: of two outputs of one kind and definition the later one stays. */
  taskId: string;
  finishTime: string;
  /** The folder of its objects in the media bucket (`<SubAppId>/<FileId>/<kind>/<Definition>/`). */
  prefix: string;
  /** The subtask's Output, packed (see media-library packOutput). */
  output: Record<string, unknown>;
}

export const outputKey = (kind: string, definition: number) => `${kind}#${definition}`;
const outputPk = (fileId: string, key: string) => `OUTPUT#${fileId}#${key}`;
const mediaPk = (fileId: string) => `MEDIA#${fileId}`;
export const MEDIA_BY_APP_INDEX = 'byApp';

export class DynamoMediaLibraryRepository {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  private applyIf(input: UpdateCommandInput): Promise<boolean> {
    return applyIf(this.doc, input);
  }

  /**
   * The media item as stored, tombstone included (DeleteMedia must be able to finish an interrupted deletion);
   * `deleted`: a finished deletion (its tombstone only waits for TTL).
   */
  async getRaw(fileId: string): Promise<(Media & { deleted?: boolean }) | undefined> {
    const out = await this.doc.send(
      new GetCommand({ TableName: this.table, Key: { pk: mediaPk(fileId) }, ConsistentRead: true }),
    );
    if (!out.Item || !String(out.Item.pk).startsWith('MEDIA#')) return undefined;
    const { pk: _pk, storagePath: _path, sourceDeleteTime: _sdt, expiresAt, ...media } = out.Item;
    return { ...(media as Media), ...(media.deleteTime && expiresAt !== undefined ? { deleted: true } : {}) };
  }

  /**
   * Writes an output unless a later one of the same kind and definition is already recorded (idempotent: the
   * same record written twice is the same item). Returns false when a later output won.
   */
  async putOutput(rec: OutputRecord): Promise<boolean> {
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.table,
          Item: { pk: outputPk(rec.fileId, outputKey(rec.kind, rec.definition)), ...rec },
          ConditionExpression: 'attribute_not_exists(pk) OR finishTime <= :ft',
          ExpressionAttributeValues: { ':ft': rec.finishTime },
        }),
      );
      return true;
    } catch (e) {
      if (isConditionFailure(e)) return false;
      throw e;
    }
  }

  /** Adds an output's key to its media. False when the media no longer exists (deleted meanwhile). */
  attachOutput(fileId: string, key: string, now: string): Promise<boolean> {
    return this.applyIf({
      TableName: this.table,
      Key: { pk: mediaPk(fileId) },
      UpdateExpression: 'ADD outputKeys :k SET updateTime = :now',
      ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(deleteTime)',
      ExpressionAttributeValues: { ':k': new Set([key]), ':now': now },
    });
  }

  /** Sets the cover unless a later cover is set already. */
  setCover(fileId: string, url: string, time: string): Promise<boolean> {
    return this.applyIf({
      TableName: this.table,
      Key: { pk: mediaPk(fileId) },
      UpdateExpression: 'SET coverUrl = :u, coverTime = :t',
      ConditionExpression:
        'attribute_exists(pk) AND attribute_not_exists(deleteTime) AND (attribute_not_exists(coverTime) OR coverTime <= :t)',
      ExpressionAttributeValues: { ':u': url, ':t': time },
    });
  }

  /** Removes the cover a given output set (a later cover stays). */
  async clearCover(fileId: string, url: string, now: string): Promise<void> {
    await this.applyIf({
      TableName: this.table,
      Key: { pk: mediaPk(fileId) },
      UpdateExpression: 'REMOVE coverUrl, coverTime SET updateTime = :now',
      ConditionExpression: 'attribute_exists(pk) AND coverUrl = :u',
      ExpressionAttributeValues: { ':u': url, ':now': now },
    });
  }

  async getOutputs(fileId: string, keys: string[]): Promise<OutputRecord[]> {
    return this.batchGet(keys.map((k) => outputPk(fileId, k)));
  }

  /** Output records of many media at once (BatchGet, 100 keys a call, unprocessed keys retried). */
  async batchGet(pks: string[]): Promise<OutputRecord[]> {
    const found: OutputRecord[] = [];
    for (let i = 0; i < pks.length; i += 100) {
      let keys: Array<Record<string, unknown>> = pks.slice(i, i + 100).map((pk) => ({ pk }));
      for (let attempt = 0; keys.length > 0; attempt++) {
        const out = await this.doc.send(
          new BatchGetCommand({ RequestItems: { [this.table]: { Keys: keys, ConsistentRead: true } } }),
        );
        for (const item of out.Responses?.[this.table] ?? []) {
          const { pk: _pk, ...rec } = item;
          found.push(rec as OutputRecord);
        }
        keys = (out.UnprocessedKeys?.[this.table]?.Keys as Array<Record<string, unknown>> | undefined) ?? [];
        if (keys.length > 0) await new Promise((r) => setTimeout(r, Math.min(1000, 50 * 2 ** attempt)));
      }
    }
    return found;
  }

  /** Removes an output: its item, then its key on the media. */
  async removeOutput(fileId: string, key: string, now: string): Promise<void> {
    await this.doc.send(new DeleteCommand({ TableName: this.table, Key: { pk: outputPk(fileId, key) } }));
    await this.applyIf({
      TableName: this.table,
      Key: { pk: mediaPk(fileId) },
      UpdateExpression: 'DELETE outputKeys :k SET updateTime = :now',
      ConditionExpression: 'attribute_exists(pk)',
      ExpressionAttributeValues: { ':k': new Set([key]), ':now': now },
    });
  }

  async deleteOutputItem(fileId: string, key: string): Promise<void> {
    await this.doc.send(new DeleteCommand({ TableName: this.table, Key: { pk: outputPk(fileId, key) } }));
  }

  /**
   * The tombstone: from now on the media does not exist for any read, no task can be stored on it (the task
   * store's media check) and the upload trigger writes nothing to it. True when this call set it (a deletion
   * that was interrupted finds it set already).
   */
  markDeleting(fileId: string, subAppId: number, now: string): Promise<boolean> {
    return this.applyIf({
      TableName: this.table,
      Key: { pk: mediaPk(fileId) },
      UpdateExpression: 'SET deleteTime = :now',
      ConditionExpression: 'attribute_exists(pk) AND subAppId = :app AND attribute_not_exists(deleteTime)',
      ExpressionAttributeValues: { ':now': now, ':app': subAppId },
    });
  }

  /** Takes back the tombstone this deletion set (it was refused: a task of the media is unfinished). */
  async unmarkDeleting(fileId: string, time: string): Promise<void> {
    await this.applyIf({
      TableName: this.table,
      Key: { pk: mediaPk(fileId) },
      UpdateExpression: 'REMOVE deleteTime',
      ConditionExpression: 'deleteTime = :t AND attribute_not_exists(expiresAt)',
      ExpressionAttributeValues: { ':t': time },
    });
  }

  /**
   * The end of a deletion: the tombstone stays (TTL `expiresAt`) so that a late S3 redelivery of the upload
   * cannot create the media again (its put is conditional on no item).
   */
  async finishDeleting(fileId: string, expiresAt: number): Promise<void> {
    await this.applyIf({
      TableName: this.table,
      Key: { pk: mediaPk(fileId) },
      UpdateExpression: 'SET expiresAt = :e REMOVE outputKeys',
      ConditionExpression: 'attribute_exists(deleteTime)',
      ExpressionAttributeValues: { ':e': expiresAt },
    });
  }

  /**
   * Marks the original file deleted before it is deleted (no task can be stored on the media from then on).
   * True when this call set it.
   */
  markSourceDeleted(fileId: string, now: string): Promise<boolean> {
    return this.applyIf({
      TableName: this.table,
      Key: { pk: mediaPk(fileId) },
      UpdateExpression: 'SET sourceDeleted = :t, sourceDeleteTime = :now, updateTime = :now',
      ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(sourceDeleted)',
      ExpressionAttributeValues: { ':t': true, ':now': now },
    });
  }

  /** Takes back markSourceDeleted of this call (the deletion was refused). */
  async unmarkSourceDeleted(fileId: string, time: string): Promise<void> {
    await this.applyIf({
      TableName: this.table,
      Key: { pk: mediaPk(fileId) },
      UpdateExpression: 'REMOVE sourceDeleted, sourceDeleteTime',
      ConditionExpression: 'sourceDeleteTime = :t',
      ExpressionAttributeValues: { ':t': time },
    });
  }

  /**
   * Visits an app's media in creation order (index `byApp`), page by page, until `visit` returns false.
   * `after` is inclusive and `before` exclusive, as Tencent's TimeRange.
   */
  async scanApp(
    q: { subAppId: number; after?: string; before?: string; order: 'Asc' | 'Desc' },
    visit: (media: Media) => boolean,
  ): Promise<void> {
    const names: Record<string, string> = { '#a': 'subAppId', '#d': 'deleteTime' };
    const values: Record<string, unknown> = { ':a': q.subAppId };
    let cond = '#a = :a';
    if (q.after || q.before) names['#c'] = 'createTime';
    // Stored times are `toISOString()` (…sssZ); `before` is exclusive.
    if (q.after && q.before) {
      cond += ' AND #c BETWEEN :from AND :to';
      values[':from'] = q.after;
      values[':to'] = q.before;
    } else if (q.after) {
      cond += ' AND #c >= :from';
      values[':from'] = q.after;
    } else if (q.before) {
      cond += ' AND #c < :to';
      values[':to'] = q.before;
    }
    const pages = queryPages(this.doc, {
      TableName: this.table,
      IndexName: MEDIA_BY_APP_INDEX,
      KeyConditionExpression: cond,
      FilterExpression: 'attribute_not_exists(#d)',
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
      ScanIndexForward: q.order === 'Asc',
    });
    for await (const page of pages) {
      for (const item of page) {
        if (q.before && String(item.createTime) >= q.before) continue; // BETWEEN is inclusive
        const { pk: _pk, storagePath: _path, ...media } = item;
        if (!visit(media as unknown as Media)) return;
      }
    }
  }
}

/** Index `byFileId` of the tasks table (task items only: subtasks and markers carry no fileId). */
export const TASKS_BY_FILE_INDEX = 'byFileId';

/** Which tasks of a media have not finished: DeleteMedia refuses to pull a media from under a running flow. */
export class DynamoFileTasks {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async unfinished(fileId: string, subAppId: number): Promise<string[]> {
    const items = await queryAll(this.doc, {
      TableName: this.table,
      IndexName: TASKS_BY_FILE_INDEX,
      KeyConditionExpression: 'fileId = :f',
      // Task items only (`sk` #TASK): other items of the table that carry a fileId are not tasks.
      FilterExpression: 'sk = :task AND subAppId = :a AND #s IN (:w, :p)',
      ExpressionAttributeNames: { '#s': 'status' },
      ExpressionAttributeValues: {
        ':f': fileId,
        ':task': '#TASK',
        ':a': subAppId,
        ':w': 'WAITING',
        ':p': 'PROCESSING',
      },
    });
    return items.map((item) => String(item.taskId ?? String(item.pk).replace(/^TASK#/, '')));
  }
}
