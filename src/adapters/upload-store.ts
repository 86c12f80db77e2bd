import {
  DeleteCommand,
  GetCommand,
  PutCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import { isConditionFailure } from './dynamo-conditions';

/**
 * Upload sessions and one-time signature markers. They live in the tasks table, next to the SessionId
 * dedupe markers, because that table already expires items by TTL (`expiresAt`) and its stream ignores
 * items that are neither tasks nor subtasks:
 *   upload session:      pk `UPLOAD#<VodSessionKey>`, sk `#UPLOAD`
 *   one-time signature:  pk `UPLOADSIG#<sha256 of the signature>`, sk `#UPLOADSIG`
 */
export interface UploadSession {
  sessionKey: string;
  subAppId: number;
  /** The object key the upload goes to: `uploads/<SubAppId>/<VodSessionKey>/<MediaName>.<MediaType>`. */
  key: string;
  /** Assigned at apply: the trigger and CommitUpload register the object under this FileId. */
  fileId: string;
  mediaName: string;
  mediaType: string;
  procedure?: string;
  sessionContext?: string;
  sourceContext?: string;
  classId?: number;
  taskPriority?: number;
  taskNotifyMode?: 'Finish' | 'Change' | 'None';
  /** Multipart upload id, when the upload was applied for in parts. */
  uploadId?: string;
  /** Multipart: how many parts, of which size (PresignUploadParts presigns any of them again). */
  partCount?: number;
  partSize?: number;
  /** Where the session came from: `ApplyUpload` or `ClientUpload` (a signed client upload). */
  origin: 'ApplyUpload' | 'ClientUpload';
  createTime: string;
  /** Unix seconds after which CommitUpload refuses the session. */
  validUntil: number;
  committed: boolean;
}

const sessionKey = (id: string) => ({ pk: `UPLOAD#${id}`, sk: '#UPLOAD' });

export class DynamoUploadStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async putSession(s: UploadSession, ttlSeconds: number): Promise<void> {
    await this.doc.send(
      new PutCommand({
        TableName: this.table,
        Item: { ...sessionKey(s.sessionKey), ...s, expiresAt: s.validUntil + ttlSeconds },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
  }

  async getSession(id: string): Promise<UploadSession | undefined> {
    if (!/^[0-9a-f]{32}$/.test(id)) return undefined;
    const out = await this.doc.send(
      new GetCommand({ TableName: this.table, Key: sessionKey(id), ConsistentRead: true }),
    );
    if (!out.Item) return undefined;
    const { pk: _pk, sk: _sk, expiresAt: _e, ...s } = out.Item;
    return s as UploadSession;
  }

  /** Marks the session committed; false when it was committed before (a reused VodSessionKey). */
  async commit(id: string, now: string): Promise<boolean> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: sessionKey(id),
          UpdateExpression: 'SET committed = :t, commitTime = :now',
          ConditionExpression: 'attribute_exists(pk) AND committed = :f',
          ExpressionAttributeValues: { ':t': true, ':f': false, ':now': now },
        }),
      );
      return true;
    } catch (e) {
      if (isConditionFailure(e)) return false;
      throw e;
    }
  }

  /** Records a one-time signature's use; false when it was used before. */
  async useOnce(digest: string, expiresAt: number): Promise<boolean> {
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.table,
          Item: { pk: `UPLOADSIG#${digest}`, sk: '#UPLOADSIG', expiresAt },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return true;
    } catch (e) {
      if (isConditionFailure(e)) return false;
      throw e;
    }
  }

  /** Takes back useOnce (the request that used the signature failed before handing anything out). */
  async releaseOnce(digest: string): Promise<void> {
    await this.doc.send(
      new DeleteCommand({ TableName: this.table, Key: { pk: `UPLOADSIG#${digest}`, sk: '#UPLOADSIG' } }),
    );
  }

  /** Raw attributes of a task item that the task model does not carry (e.g. a PullUpload's procedure). */
  async getTaskExtras(taskId: string): Promise<Record<string, unknown> | undefined> {
    const out = await this.doc.send(
      new GetCommand({
        TableName: this.table,
        Key: { pk: `TASK#${taskId}`, sk: '#TASK' },
        ConsistentRead: true,
      }),
    );
    return out.Item;
  }

  /** Records on a task item the procedure task a PullUpload started (or why it could not). */
  async setTaskProcedure(
    taskId: string,
    r: { procedureTaskId?: string; procedureError?: string },
  ): Promise<void> {
    await this.doc.send(
      new UpdateCommand({
        TableName: this.table,
        Key: { pk: `TASK#${taskId}`, sk: '#TASK' },
        UpdateExpression: r.procedureTaskId ? 'SET procedureTaskId = :v' : 'SET procedureError = :v',
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeValues: { ':v': r.procedureTaskId ?? r.procedureError },
      }),
    );
  }
}
