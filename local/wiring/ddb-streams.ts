/**
 * DynamoDB Streams → handler, as a Lambda event-source mapping does it, against DynamoDB Local.
 *
 * - Finds the stream with DescribeTable (LatestStreamArn; waits while the table or stream is missing).
 * - Lists shards with DescribeStream (again every few seconds and whenever a shard ends) and reads a
 *   child shard only after its parent is finished; shards are read one after another.
 * - Checkpoints the last handled SequenceNumber per shard in `checkpointFile` (JSON, tmp + rename),
 *   after every batch, and resumes with AFTER_SEQUENCE_NUMBER: a clean stop neither loses nor repeats
 *   a record. `startingPosition` only matters the first time (no checkpoint file, or another stream):
 *   TRIM_HORIZON reads everything retained; LATEST skips what is already in the stream (it reads the
 *   open shards to their end once, without delivering, so the position can be checkpointed exactly).
 *   Shards found later always start at TRIM_HORIZON, as on AWS.
 * - Handler error: the same batch is retried after a backoff (250 ms doubling to 5 s) up to
 *   `maximumRetryAttempts` (default: forever, Lambda's -1), then skipped with a warning.
 *   With `reportBatchItemFailures`, `batchItemFailures` (SequenceNumbers) checkpoint before the
 *   earliest failed record and retry from it; an identifier not in the batch fails the whole batch.
 * - stop() waits for the handler in flight and its checkpoint.
 * Records are shaped as Lambda delivers them (DynamoDB JSON images, B as base64,
 * ApproximateCreationDateTime in seconds, eventVersion '1.1'); eventSourceARN is DynamoDB Local's
 * stream ARN.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type _Record as StreamSdkRecord,
  type AttributeValue as SdkAttributeValue,
  type Shard,
  type ShardIteratorType,
} from '@aws-sdk/client-dynamodb-streams';
import type { AttributeValue, DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';

export interface StreamMappingOptions {
  ddbEndpoint: string;
  tableName: string;
  batchSize: number;
  startingPosition: 'TRIM_HORIZON' | 'LATEST';
  /** Retries of a failing batch before it is skipped; undefined or -1: forever. */
  maximumRetryAttempts?: number;
  reportBatchItemFailures?: boolean;
  checkpointFile: string;
  handler: (event: DynamoDBStreamEvent) => Promise<DynamoDBBatchResponse | void>;
  /** Wait between polls when a poll brought nothing (default 100 ms: events must reach callbacks quickly). */
  pollIntervalMs?: number;
  region?: string;
  log?: (msg: string) => void;
}

export interface StreamMapping {
  stop(): Promise<void>;
}

interface ShardCheckpoint {
  /** Last SequenceNumber handled (or skipped). */
  seq?: string;
  /** Shard closed and read to its end. */
  done?: boolean;
}
interface CheckpointState {
  version: 1;
  streamArn: string;
  shards: Record<string, ShardCheckpoint>;
}

interface ShardReader {
  shardId: string;
  iterator?: string;
  buffer: DynamoDBRecord[];
  /** Consecutive failed attempts for the record at the head of the buffer. */
  attempts: number;
  headSeq?: string;
  retryAt: number;
}

const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };
const SHARD_REFRESH_MS = 5_000;
const BACKOFF_MIN_MS = 250;
const BACKOFF_MAX_MS = 5_000;

function errorName(err: unknown): string {
  return err instanceof Error ? err.name : '';
}

/** SDK attribute values → Lambda's DynamoDB JSON (binary as base64). */
function toLambdaValue(v: SdkAttributeValue): AttributeValue {
  if (v.S !== undefined) return { S: v.S };
  if (v.N !== undefined) return { N: v.N };
  if (v.B !== undefined) return { B: Buffer.from(v.B).toString('base64') };
  if (v.SS !== undefined) return { SS: v.SS };
  if (v.NS !== undefined) return { NS: v.NS };
  if (v.BS !== undefined) return { BS: v.BS.map((b) => Buffer.from(b).toString('base64')) };
  if (v.M !== undefined) return { M: toLambdaImage(v.M) };
  if (v.L !== undefined) return { L: v.L.map(toLambdaValue) };
  if (v.NULL !== undefined) return { NULL: v.NULL };
  if (v.BOOL !== undefined) return { BOOL: v.BOOL };
  return { NULL: true }; // unreachable: every AttributeValue has one of the members above
}
function toLambdaImage(m: Record<string, SdkAttributeValue>): Record<string, AttributeValue> {
  const out: Record<string, AttributeValue> = {};
  for (const [k, v] of Object.entries(m)) out[k] = toLambdaValue(v);
  return out;
}

function toLambdaRecord(r: StreamSdkRecord, streamArn: string, region: string): DynamoDBRecord {
  const d = r.dynamodb ?? {};
  const created = d.ApproximateCreationDateTime;
  const dynamodb: NonNullable<DynamoDBRecord['dynamodb']> = {
    ApproximateCreationDateTime: created
      ? Math.floor(new Date(created).getTime() / 1000)
      : Math.floor(Date.now() / 1000),
  };
  if (d.Keys) dynamodb.Keys = toLambdaImage(d.Keys);
  if (d.NewImage) dynamodb.NewImage = toLambdaImage(d.NewImage);
  if (d.OldImage) dynamodb.OldImage = toLambdaImage(d.OldImage);
  dynamodb.SequenceNumber = d.SequenceNumber;
  dynamodb.SizeBytes = d.SizeBytes;
  dynamodb.StreamViewType = d.StreamViewType;
  const record: DynamoDBRecord = {
    eventID: r.eventID,
    eventName: r.eventName,
    eventVersion: '1.1',
    eventSource: 'aws:dynamodb',
    awsRegion: region,
    dynamodb,
    eventSourceARN: streamArn,
  };
  if (r.userIdentity?.PrincipalId || r.userIdentity?.Type) {
    record.userIdentity = { type: r.userIdentity.Type, principalId: r.userIdentity.PrincipalId };
  }
  return record;
}

function readCheckpoint(file: string): CheckpointState | undefined {
  try {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as CheckpointState;
    return parsed.version === 1 && typeof parsed.streamArn === 'string' ? parsed : undefined;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new Error(`cannot read stream checkpoint ${file}: ${(err as Error).message}`);
  }
}

export function startStreamMapping(opts: StreamMappingOptions): StreamMapping {
  const log = opts.log ?? (() => undefined);
  const region = opts.region ?? 'us-east-1';
  const pollIntervalMs = opts.pollIntervalMs ?? 100;
  const maxRetries =
    opts.maximumRetryAttempts === undefined || opts.maximumRetryAttempts < 0
      ? Infinity
      : opts.maximumRetryAttempts;
  const batchSize = Math.max(1, Math.min(opts.batchSize, 1000));
  const name = `stream mapping ${opts.tableName}`;
  const clientConfig = { endpoint: opts.ddbEndpoint, region, credentials: LOCAL_CREDENTIALS, maxAttempts: 2 };
  const ddb = new DynamoDBClient(clientConfig);
  const streams = new DynamoDBStreamsClient(clientConfig);

  let stopped = false;
  let wake: (() => void) | undefined;
  const sleep = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      if (stopped) return resolve();
      const t = setTimeout(done, ms);
      function done(): void {
        clearTimeout(t);
        wake = undefined;
        resolve();
      }
      wake = done;
    });

  mkdirSync(path.dirname(path.resolve(opts.checkpointFile)), { recursive: true });
  let state: CheckpointState | undefined;
  const saveCheckpoint = (): void => {
    if (!state) return;
    const tmp = `${opts.checkpointFile}.tmp`;
    writeFileSync(tmp, JSON.stringify(state, null, 1));
    renameSync(tmp, opts.checkpointFile);
  };

  const getStreamArn = async (): Promise<string> => {
    let warned = false;
    while (!stopped) {
      try {
        const t = await ddb.send(new DescribeTableCommand({ TableName: opts.tableName }));
        const arn = t.Table?.LatestStreamArn;
        if (arn && t.Table?.StreamSpecification?.StreamEnabled !== false) return arn;
        if (!warned) log(`${name}: table has no stream enabled yet; waiting`);
      } catch (err) {
        if (errorName(err) !== 'ResourceNotFoundException') throw err;
        if (!warned) log(`${name}: table not found yet; waiting`);
      }
      warned = true;
      await sleep(1000);
    }
    return '';
  };

  const listShards = async (streamArn: string): Promise<Shard[]> => {
    const shards: Shard[] = [];
    let exclusiveStartShardId: string | undefined;
    do {
      const res = await streams.send(
        new DescribeStreamCommand({ StreamArn: streamArn, ExclusiveStartShardId: exclusiveStartShardId }),
      );
      shards.push(...(res.StreamDescription?.Shards ?? []));
      exclusiveStartShardId = res.StreamDescription?.LastEvaluatedShardId;
    } while (exclusiveStartShardId && !stopped);
    return shards;
  };

  const getIterator = async (
    streamArn: string,
    shardId: string,
    type: ShardIteratorType,
    seq?: string,
  ): Promise<string | undefined> => {
    const res = await streams.send(
      new GetShardIteratorCommand({
        StreamArn: streamArn,
        ShardId: shardId,
        ShardIteratorType: type,
        SequenceNumber: seq,
      }),
    );
    return res.ShardIterator;
  };

  /** First start with LATEST: move the checkpoint of every open shard to its current end. */
  const fastForward = async (streamArn: string, shards: Shard[], st: CheckpointState): Promise<void> => {
    for (const shard of shards) {
      const id = shard.ShardId;
      if (!id) continue;
      if (shard.SequenceNumberRange?.EndingSequenceNumber) {
        st.shards[id] = { done: true };
        continue;
      }
      let iterator = await getIterator(streamArn, id, 'TRIM_HORIZON');
      let last: string | undefined;
      while (iterator && !stopped) {
        const res = await streams.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 1000 }));
        const recs = res.Records ?? [];
        if (recs.length) last = recs[recs.length - 1].dynamodb?.SequenceNumber ?? last;
        iterator = res.NextShardIterator;
        if (!recs.length) break;
      }
      st.shards[id] = last ? { seq: last } : {};
      if (!iterator && !stopped) st.shards[id].done = true;
    }
  };

  const readers = new Map<string, ShardReader>();

  /** Hand the head of the reader's buffer to the handler once; checkpoint, or schedule the retry. */
  const deliver = async (streamArn: string, st: CheckpointState, reader: ShardReader): Promise<void> => {
    const batch = reader.buffer.slice(0, batchSize);
    const headSeq = batch[0].dynamodb?.SequenceNumber;
    if (headSeq !== reader.headSeq) {
      reader.headSeq = headSeq;
      reader.attempts = 0;
    }
    let failedAt = -1; // index of the first record to retry; -1: all succeeded
    let reason = '';
    try {
      const res = await opts.handler({ Records: batch });
      if (
        opts.reportBatchItemFailures &&
        res &&
        Array.isArray(res.batchItemFailures) &&
        res.batchItemFailures.length
      ) {
        const indexes = res.batchItemFailures.map((f) =>
          batch.findIndex((r) => r.dynamodb?.SequenceNumber === f.itemIdentifier),
        );
        failedAt = indexes.some((i) => i < 0) ? 0 : Math.min(...indexes);
        reason = indexes.some((i) => i < 0)
          ? 'batchItemFailures names a record not in the batch: the whole batch failed'
          : `batchItemFailures from ${batch[failedAt].dynamodb?.SequenceNumber}`;
      }
    } catch (err) {
      failedAt = 0;
      reason = err instanceof Error ? err.message : String(err);
    }
    const checkpointThrough = (count: number): void => {
      if (count <= 0) return;
      const seq = batch[count - 1].dynamodb?.SequenceNumber;
      st.shards[reader.shardId] = { ...st.shards[reader.shardId], seq };
      reader.buffer.splice(0, count);
      saveCheckpoint();
    };
    if (failedAt < 0) {
      checkpointThrough(batch.length);
      reader.attempts = 0;
      reader.headSeq = undefined;
      return;
    }
    checkpointThrough(failedAt);
    if (failedAt > 0) {
      // Progress: the failed record is now the head, with its first failure counted.
      reader.headSeq = batch[failedAt].dynamodb?.SequenceNumber;
      reader.attempts = 0;
    }
    reader.attempts++;
    if (reader.attempts > maxRetries) {
      const rest = batch.length - failedAt;
      log(
        `${name}: WARNING skipping ${rest} record(s) of shard ${reader.shardId} (${batch[failedAt].dynamodb?.SequenceNumber}…) after ${reader.attempts - 1} retries: ${reason}`,
      );
      checkpointThrough(rest);
      reader.attempts = 0;
      reader.headSeq = undefined;
      return;
    }
    const backoff = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** Math.min(reader.attempts - 1, 10));
    log(`${name}: handler failed (attempt ${reader.attempts}), retrying in ${backoff} ms: ${reason}`);
    reader.retryAt = Date.now() + backoff;
  };

  const run = async (): Promise<void> => {
    const streamArn = await getStreamArn();
    if (stopped) return;
    const previous = readCheckpoint(opts.checkpointFile);
    let firstStart = false;
    if (previous && previous.streamArn === streamArn) {
      state = previous;
    } else {
      if (previous)
        log(
          `${name}: checkpoint is for another stream (${previous.streamArn}); starting at TRIM_HORIZON of ${streamArn}`,
        );
      firstStart = !previous;
      state = { version: 1, streamArn, shards: {} };
    }
    const st = state;
    let shards = await listShards(streamArn);
    if (firstStart && opts.startingPosition === 'LATEST') await fastForward(streamArn, shards, st);
    saveCheckpoint();
    log(`${name}: reading ${streamArn} (${shards.length} shard(s))`);
    let shardsAt = Date.now();

    while (!stopped) {
      if (Date.now() - shardsAt > SHARD_REFRESH_MS) {
        shards = await listShards(streamArn);
        shardsAt = Date.now();
      }
      const known = new Set(shards.map((s) => s.ShardId));
      const isDone = (id: string | undefined): boolean =>
        !id || !known.has(id) || st.shards[id]?.done === true;
      let progressed = false;
      let nextRetryAt = Infinity;
      for (const shard of shards) {
        if (stopped) break;
        const id = shard.ShardId;
        if (!id || isDone(id) || !isDone(shard.ParentShardId)) continue;
        let reader = readers.get(id);
        if (!reader) {
          reader = { shardId: id, buffer: [], attempts: 0, retryAt: 0 };
          readers.set(id, reader);
        }
        try {
          if (reader.buffer.length) {
            if (Date.now() < reader.retryAt) {
              nextRetryAt = Math.min(nextRetryAt, reader.retryAt);
              continue;
            }
            await deliver(streamArn, st, reader);
            progressed = true;
            continue;
          }
          if (!reader.iterator) {
            const seq = st.shards[id]?.seq;
            reader.iterator = seq
              ? await getIterator(streamArn, id, 'AFTER_SEQUENCE_NUMBER', seq)
              : await getIterator(streamArn, id, 'TRIM_HORIZON');
            if (!reader.iterator) {
              st.shards[id] = { ...st.shards[id], done: true };
              saveCheckpoint();
              readers.delete(id);
              shardsAt = 0;
              continue;
            }
          }
          const res = await streams.send(
            new GetRecordsCommand({ ShardIterator: reader.iterator, Limit: batchSize }),
          );
          if (stopped) break; // not delivered, not checkpointed: read again after a restart
          const recs = res.Records ?? [];
          reader.iterator = res.NextShardIterator;
          for (const r of recs) reader.buffer.push(toLambdaRecord(r, streamArn, region));
          if (recs.length) {
            progressed = true;
            await deliver(streamArn, st, reader);
          }
          if (!reader.iterator && !reader.buffer.length) {
            // Closed shard read to its end: its children may start.
            st.shards[id] = { ...st.shards[id], done: true };
            saveCheckpoint();
            readers.delete(id);
            shardsAt = 0;
            progressed = true;
          }
        } catch (err) {
          const n = errorName(err);
          if (n === 'ExpiredIteratorException') {
            reader.iterator = undefined;
          } else if (n === 'TrimmedDataAccessException') {
            log(
              `${name}: WARNING shard ${id}: checkpoint ${st.shards[id]?.seq} is past the retention window; reading from TRIM_HORIZON`,
            );
            st.shards[id] = { ...st.shards[id], seq: undefined };
            reader.iterator = undefined;
          } else if (n === 'ResourceNotFoundException') {
            log(`${name}: shard ${id} no longer exists; marking it finished`);
            st.shards[id] = { ...st.shards[id], done: true };
            saveCheckpoint();
            readers.delete(id);
          } else {
            throw err;
          }
        }
      }
      if (!progressed && !stopped) {
        const wait = Number.isFinite(nextRetryAt)
          ? Math.max(0, Math.min(pollIntervalMs, nextRetryAt - Date.now()))
          : pollIntervalMs;
        await sleep(wait);
      }
    }
  };

  const loop = (async () => {
    while (!stopped) {
      try {
        await run();
        return;
      } catch (err) {
        if (stopped) return;
        log(`${name}: ${(err as Error).message}; restarting the poller in 1 s`);
        readers.clear();
        await sleep(1000);
      }
    }
  })();

  let stopping: Promise<void> | undefined;
  return {
    stop(): Promise<void> {
      stopping ??= (async () => {
        stopped = true;
        wake?.();
        await loop;
        ddb.destroy();
        streams.destroy();
      })();
      return stopping;
    },
  };
}
