/**
 * SQS emulator: `local-aws-sqs` (in-process, JSON + Query protocols), made persistent.
 *
 * What local-aws-sqs 2.0.2 does and does not do (read from its dist/index.js):
 *  - Keeps everything in memory; it has NO export/import of queue state, and the message list is a
 *    truly private field (a module-scoped WeakMap). Persistence is therefore added here by hooking
 *    the members its typings declare public on each Queue (`newRecord` — every message enters through
 *    it and it returns the live entry `{ visible, delayed, record }` — `delete`, `clearRecords`) and
 *    snapshotting the tracked entries to `<dataDir>/sqs/state.json` (atomically: tmp + rename) every
 *    `snapshotIntervalMs` when something changed, and on stop(). On start the queues (attributes,
 *    tags) are re-created and the messages re-inserted with their MessageId, body, attributes
 *    (ApproximateReceiveCount, SentTimestamp, ...) and remaining delay.
 *    Limits: messages in flight at the snapshot come back visible at once (their receipt handles stay
 *    usable for DeleteMessage: the emulator deletes by the MessageId inside the handle); one that had
 *    already reached its RedrivePolicy maxReceiveCount goes straight to the DLQ, as the emulator would
 *    have done when its visibility timeout ran out; the retention period restarts on restore; FIFO
 *    deduplication windows and sequence counters are not kept; a crash (no stop()) loses at most the
 *    last `snapshotIntervalMs` of changes. This depends on the library's internals (pinned 2.0.2).
 *  - RedrivePolicy IS implemented: when the visibility timeout of a received message runs out and its
 *    ApproximateReceiveCount >= maxReceiveCount, the message is moved to the DLQ (same MessageId, new
 *    receive count, attribute DeadLetterQueueSourceArn). So a message is handed out maxReceiveCount
 *    times, as on AWS; it reaches the DLQ one visibility timeout after the last failed receive.
 *  - DelaySeconds (queue and per message) and VisibilityTimeout are honoured; retention too.
 *  - Known bugs / gaps: ChangeMessageVisibility increments ApproximateReceiveCount (do not rely on it);
 *    ReceiveMessage ignores `MessageSystemAttributeNames` (SDK >= 3.6xx's name) and only returns
 *    system attributes for the deprecated `AttributeNames` — pass both; a long poll
 *    (WaitTimeSeconds > 0) returns only when MaxNumberOfMessages messages are collected or the wait
 *    ends, not as soon as one message arrives (it checks every 10 ms); an empty short poll takes ~40 ms.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { writeFile, rename } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import path from 'node:path';
import { createRequestHandler } from 'local-aws-sqs';

export const LOCAL_SQS_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' } as const;

export interface SqsEmulator {
  endpoint: string;
  stop(): Promise<void>;
}

export interface StartSqsOptions {
  port: number;
  /** State lives in `<dataDir>/sqs/state.json`. */
  dataDir: string;
  log?: (msg: string) => void;
  /** Region and account used in queue ARNs (default us-east-1 / 123456789012). */
  region?: string;
  accountId?: string;
  /** Snapshot period while something changes (default 1000 ms). */
  snapshotIntervalMs?: number;
}

type SqsService = ReturnType<typeof createRequestHandler>['service'];
type Queue = SqsService['Queues'][number];

interface SqsRecord {
  MessageId: string;
  ReceiptHandle: string;
  MessageBody: string;
  attributes: Record<string, string>;
  MessageAttributes?: Record<string, unknown>;
  MD5OfMessageBody?: string;
  MD5OfMessageAttributes?: string;
}
interface QueueEntry {
  visible: boolean;
  delayed: boolean;
  record: SqsRecord;
}
interface Tracked {
  entry: QueueEntry;
  delayedUntil: number;
}

interface SnapshotMessage {
  record: SqsRecord;
  inFlight: boolean;
  delayedUntil?: number;
}
interface SnapshotQueue {
  QueueName: string;
  Attributes: Record<string, string>;
  tags: Record<string, string>;
  messages: SnapshotMessage[];
}
interface Snapshot {
  version: 1;
  savedAt: string;
  queues: SnapshotQueue[];
}

/** Attributes CreateQueue accepts, as returned by GetQueueAttributes. */
const SETTABLE_ATTRIBUTES = [
  'DelaySeconds',
  'MaximumMessageSize',
  'MessageRetentionPeriod',
  'ReceiveMessageWaitTimeSeconds',
  'VisibilityTimeout',
  'RedrivePolicy',
  'RedriveAllowPolicy',
  'Policy',
  'KmsMasterKeyId',
  'KmsDataKeyReusePeriodSeconds',
  'SqsManagedSseEnabled',
  'FifoQueue',
  'ContentBasedDeduplication',
  'DeduplicationScope',
  'FifoThroughputLimit',
];

function messageIdOfReceiptHandle(handle: string): string | undefined {
  try {
    const text = Buffer.from(handle, 'base64').toString('utf8');
    const parsed = JSON.parse(text.slice(text.indexOf('{'))) as { MessageId?: unknown };
    return typeof parsed.MessageId === 'string' ? parsed.MessageId : undefined;
  } catch {
    return undefined;
  }
}

function readSnapshot(file: string): Snapshot | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  const parsed = JSON.parse(text) as Snapshot;
  if (parsed.version !== 1 || !Array.isArray(parsed.queues))
    throw new Error(`${file}: unknown SQS snapshot format`);
  return parsed;
}

/** Queues whose DLQ is another snapshot queue come after it (the emulator checks the DLQ exists). */
function orderForCreation(queues: SnapshotQueue[]): SnapshotQueue[] {
  const byName = new Map(queues.map((q) => [q.QueueName, q]));
  const done = new Set<string>();
  const out: SnapshotQueue[] = [];
  const visit = (q: SnapshotQueue, depth: number): void => {
    if (done.has(q.QueueName) || depth > queues.length) return;
    const rp = q.Attributes.RedrivePolicy;
    if (rp) {
      const dlqName =
        String((JSON.parse(rp) as { deadLetterTargetArn?: string }).deadLetterTargetArn ?? '')
          .split(':')
          .pop() ?? '';
      const dlq = byName.get(dlqName);
      if (dlq) visit(dlq, depth + 1);
    }
    if (!done.has(q.QueueName)) {
      done.add(q.QueueName);
      out.push(q);
    }
  };
  for (const q of queues) visit(q, 0);
  return out;
}

export async function startSqs(opts: StartSqsOptions): Promise<SqsEmulator> {
  const log = opts.log ?? (() => undefined);
  const started = Date.now();
  const dir = path.resolve(opts.dataDir, 'sqs');
  mkdirSync(dir, { recursive: true });
  const stateFile = path.join(dir, 'state.json');
  const snapshot = readSnapshot(stateFile);
  const hostname = '127.0.0.1';

  const { service, requestHandler } = createRequestHandler({
    port: opts.port,
    hostname,
    region: opts.region ?? 'us-east-1',
    accountId: opts.accountId ?? '123456789012',
    emulateQueueCreationLifecycle: false,
    queues: snapshot
      ? orderForCreation(snapshot.queues).map((q) => ({
          QueueName: q.QueueName,
          Attributes: q.Attributes,
          tags: q.tags,
        }))
      : [],
  });

  // ---- tracking of live messages (see the file comment) ----
  const tracked = new WeakMap<Queue, Map<string, Tracked>>();
  let dirty = false;

  const instrument = (queue: Queue): Map<string, Tracked> => {
    let map = tracked.get(queue);
    if (map) return map;
    const entries = new Map<string, Tracked>();
    map = entries;
    tracked.set(queue, entries);

    const origNewRecord = queue.newRecord;
    queue.newRecord = (msg: Record<string, unknown>, delay?: number): unknown => {
      const entry = origNewRecord(msg, delay) as QueueEntry;
      const id = entry.record.MessageId;
      // A redrive keeps the MessageId: the message has left its source queue.
      for (const other of service.Queues) {
        if (other !== queue) tracked.get(other)?.delete(id);
      }
      const delaySeconds = delay === undefined || Number.isNaN(delay) ? queue.DelaySeconds : delay;
      entries.set(id, { entry, delayedUntil: Date.now() + delaySeconds * 1000 });
      dirty = true;
      return entry;
    };
    const origDelete = queue.delete.bind(queue);
    queue.delete = (receiptHandle: string): boolean => {
      const ok = origDelete(receiptHandle);
      const id = messageIdOfReceiptHandle(receiptHandle);
      if (ok && id) entries.delete(id);
      dirty = true;
      return ok;
    };
    const origClear = queue.clearRecords.bind(queue);
    queue.clearRecords = (): void => {
      origClear();
      entries.clear();
      dirty = true;
    };
    return entries;
  };
  const instrumentAll = (): void => {
    for (const q of service.Queues) instrument(q);
  };
  instrumentAll();

  // ---- restore messages ----
  if (snapshot) {
    let restored = 0;
    const now = Date.now();
    const queueByName = (name: string): Queue | undefined => service.Queues.find((q) => q.QueueName === name);
    for (const sq of snapshot.queues) {
      const queue = queueByName(sq.QueueName);
      if (!queue) continue;
      for (const m of sq.messages) {
        const receiveCount = Number(m.record.attributes.ApproximateReceiveCount ?? '0');
        const dlqName = queue.RedrivePolicy?.deadLetterTargetArn.split(':').pop();
        const dlq = dlqName ? queueByName(dlqName) : undefined;
        if (m.inFlight && queue.RedrivePolicy && dlq && receiveCount >= queue.RedrivePolicy.maxReceiveCount) {
          // What the emulator does when the visibility timeout of such a message runs out.
          dlq.setRecord(
            {
              MessageBody: m.record.MessageBody,
              MessageAttributes: m.record.MessageAttributes,
              MessageSystemAttributes: {
                DeadLetterQueueSourceArn: {
                  DataType: 'String',
                  StringValue: `arn:aws:sqs:${service.REGION}:${service.ACCOUNT_ID}:${queue.QueueName}`,
                },
              },
            },
            m.record.MessageId,
          );
        } else {
          const record: SqsRecord = {
            ...m.record,
            ReceiptHandle: '',
            attributes: { ...m.record.attributes },
          };
          const delaySeconds = m.delayedUntil && m.delayedUntil > now ? (m.delayedUntil - now) / 1000 : 0;
          queue.newRecord(record as unknown as Record<string, unknown>, delaySeconds);
        }
        restored++;
      }
    }
    log(`SQS: restored ${snapshot.queues.length} queue(s), ${restored} message(s) from ${stateFile}`);
  }
  dirty = false;

  // ---- snapshots ----
  const buildSnapshot = (): Snapshot => {
    instrumentAll();
    const now = Date.now();
    const queues: SnapshotQueue[] = [];
    for (const queue of service.Queues) {
      const all = (queue.getAttributes(['All']) ?? {}) as Record<string, string>;
      const Attributes: Record<string, string> = {};
      for (const name of SETTABLE_ATTRIBUTES)
        if (all[name] !== undefined) Attributes[name] = String(all[name]);
      const retentionMs = queue.MessageRetentionPeriod * 1000;
      const messages: SnapshotMessage[] = [];
      for (const { entry, delayedUntil } of tracked.get(queue)?.values() ?? []) {
        if (Number(entry.record.attributes.SentTimestamp) + retentionMs < now) continue;
        messages.push({
          record: entry.record,
          inFlight: !entry.visible,
          ...(entry.delayed && delayedUntil > now ? { delayedUntil } : {}),
        });
      }
      queues.push({ QueueName: queue.QueueName, Attributes, tags: { ...queue.Tags }, messages });
    }
    return { version: 1, savedAt: new Date(now).toISOString(), queues };
  };
  const tmpFile = `${stateFile}.tmp`;
  let writing: Promise<void> | undefined;
  const snapshotAsync = async (): Promise<void> => {
    if (!dirty || writing) return;
    dirty = false;
    const text = JSON.stringify(buildSnapshot());
    writing = writeFile(tmpFile, text)
      .then(() => rename(tmpFile, stateFile))
      .catch((err: unknown) => {
        dirty = true;
        log(`SQS: snapshot failed: ${(err as Error).message}`);
      })
      .finally(() => {
        writing = undefined;
      });
    await writing;
  };
  const timer = setInterval(() => void snapshotAsync(), opts.snapshotIntervalMs ?? 1000);
  timer.unref();

  // ---- HTTP server ----
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    instrumentAll();
    dirty = true;
    res.on('finish', () => {
      instrumentAll();
      dirty = true;
    });
    requestHandler(req, res).catch((err: unknown) => {
      log(`SQS: request failed: ${(err as Error).message}`);
      if (!res.headersSent) res.statusCode = 500;
      res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, hostname, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  if (address && typeof address === 'object') service.PORT = address.port;
  const endpoint = `http://${hostname}:${service.PORT}`;
  log(`SQS (local-aws-sqs) ready on ${endpoint} in ${Date.now() - started} ms (state: ${stateFile})`);

  let stopping: Promise<void> | undefined;
  return {
    endpoint,
    stop(): Promise<void> {
      stopping ??= (async () => {
        clearInterval(timer);
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeAllConnections(); // long polls would otherwise hold close() for up to 20 s
        await closed;
        if (writing) await writing;
        writeFileSync(tmpFile, JSON.stringify(buildSnapshot()));
        renameSync(tmpFile, stateFile);
        // Drop the in-memory messages so their timers (visibility, delay, retention) stop.
        for (const q of service.Queues) q.clearRecords();
        log('SQS stopped');
      })();
      return stopping;
    },
  };
}
