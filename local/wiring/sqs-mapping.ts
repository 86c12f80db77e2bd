/**
 * SQS → handler, as a Lambda event-source mapping does it, against the local SQS emulator.
 *
 * - One poller per mapping, handler calls one at a time (Lambda would run several pollers and
 *   concurrent batches; ordering and throughput differ, semantics do not).
 * - Polling: ReceiveMessage with WaitTimeSeconds 0, then `pollIntervalMs` (100 ms) of sleep when the
 *   queue was empty. Not a long poll on purpose: local-aws-sqs answers a long poll only when
 *   MaxNumberOfMessages messages are there or the wait is over, which would add up to the whole wait
 *   to every notification; its "short" poll still collects for ~40 ms. stop() is therefore prompt.
 * - `maximumBatchingWindowMs`: keeps receiving until `batchSize` messages or the window is over.
 * - After the handler: success → DeleteMessageBatch for all; throws → nothing deleted (the messages
 *   come back after the queue's VisibilityTimeout); with `reportBatchItemFailures`, the returned
 *   `batchItemFailures` stay and the others are deleted (an identifier not in the batch fails the batch).
 * - Redrive: local-aws-sqs applies the queue's RedrivePolicy itself (moves a message to the DLQ when
 *   the visibility timeout of its maxReceiveCount-th receive runs out), so when the queue has one the
 *   `dlq` option is not used. Without a RedrivePolicy on the queue, `dlq` makes the mapping do it: a
 *   message received more than `maxReceiveCount` times is sent to the DLQ (body, message attributes)
 *   and deleted, without reaching the handler.
 * - System attributes: the emulator only honours the deprecated `AttributeNames`, so both it and
 *   `MessageSystemAttributeNames` are sent.
 */
import {
  DeleteMessageBatchCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
  type Message,
  type MessageAttributeValue,
} from '@aws-sdk/client-sqs';
import type {
  SQSBatchResponse,
  SQSEvent,
  SQSMessageAttributes,
  SQSRecord,
  SQSRecordAttributes,
} from 'aws-lambda';

export interface SqsMappingOptions {
  sqsEndpoint: string;
  queueUrl: string;
  queueArn: string;
  /** Messages per handler call (1-10 without a batching window; up to 10000 with one). */
  batchSize: number;
  maximumBatchingWindowMs?: number;
  reportBatchItemFailures?: boolean;
  handler: (event: SQSEvent) => Promise<SQSBatchResponse | void>;
  /** Used only when the queue itself has no RedrivePolicy (see the file comment). */
  dlq?: { queueUrl: string; maxReceiveCount: number };
  /** Sleep after an empty receive (default 100 ms). */
  pollIntervalMs?: number;
  region?: string;
  log?: (msg: string) => void;
}

export interface SqsMapping {
  stop(): Promise<void>;
}

const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };

function toLambdaMessageAttributes(
  attrs: Record<string, MessageAttributeValue> | undefined,
): SQSMessageAttributes {
  const out: SQSMessageAttributes = {};
  for (const [name, v] of Object.entries(attrs ?? {})) {
    out[name] = {
      ...(v.StringValue !== undefined ? { stringValue: v.StringValue } : {}),
      ...(v.BinaryValue !== undefined ? { binaryValue: Buffer.from(v.BinaryValue).toString('base64') } : {}),
      stringListValues: v.StringListValues ?? [],
      binaryListValues: (v.BinaryListValues ?? []).map((b) => Buffer.from(b).toString('base64')),
      dataType: v.DataType ?? 'String',
    };
  }
  return out;
}

const PASSED_ATTRIBUTES = [
  'AWSTraceHeader',
  'SequenceNumber',
  'MessageGroupId',
  'MessageDeduplicationId',
  'DeadLetterQueueSourceArn',
] as const;

function toLambdaRecord(m: Message, queueArn: string, region: string): SQSRecord {
  const a = m.Attributes ?? {};
  const attributes: SQSRecordAttributes = {
    ApproximateReceiveCount: a.ApproximateReceiveCount ?? '1',
    SentTimestamp: a.SentTimestamp ?? String(Date.now()),
    SenderId: a.SenderId ?? 'AIDAIENQZJOLO23YVJ4VO',
    ApproximateFirstReceiveTimestamp: a.ApproximateFirstReceiveTimestamp || String(Date.now()),
  };
  for (const name of PASSED_ATTRIBUTES) {
    const v = (a as Record<string, string | undefined>)[name];
    if (v !== undefined) attributes[name] = v;
  }
  const record: SQSRecord = {
    messageId: m.MessageId ?? '',
    receiptHandle: m.ReceiptHandle ?? '',
    body: m.Body ?? '',
    attributes,
    messageAttributes: toLambdaMessageAttributes(m.MessageAttributes),
    md5OfBody: m.MD5OfBody ?? '',
    eventSource: 'aws:sqs',
    eventSourceARN: queueArn,
    awsRegion: region,
  };
  if (m.MD5OfMessageAttributes) record.md5OfMessageAttributes = m.MD5OfMessageAttributes;
  return record;
}

export function startSqsMapping(opts: SqsMappingOptions): SqsMapping {
  const log = opts.log ?? (() => undefined);
  const region = opts.region ?? 'us-east-1';
  const pollIntervalMs = opts.pollIntervalMs ?? 100;
  const windowMs = opts.maximumBatchingWindowMs ?? 0;
  const batchSize = Math.max(
    1,
    windowMs > 0 ? Math.min(opts.batchSize, 10_000) : Math.min(opts.batchSize, 10),
  );
  const queueName = opts.queueUrl.split('/').pop() ?? opts.queueUrl;
  const name = `sqs mapping ${queueName}`;
  const sqs = new SQSClient({
    endpoint: opts.sqsEndpoint,
    region,
    credentials: LOCAL_CREDENTIALS,
    maxAttempts: 2,
  });

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

  const receive = async (max: number): Promise<Message[]> => {
    const res = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: opts.queueUrl,
        MaxNumberOfMessages: Math.min(10, max),
        WaitTimeSeconds: 0,
        AttributeNames: ['All'],
        MessageSystemAttributeNames: ['All'],
        MessageAttributeNames: ['All'],
      }),
    );
    return res.Messages ?? [];
  };

  const deleteAll = async (messages: SQSRecord[]): Promise<void> => {
    for (let i = 0; i < messages.length; i += 10) {
      const chunk = messages.slice(i, i + 10);
      const res = await sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: opts.queueUrl,
          Entries: chunk.map((m, j) => ({ Id: String(j), ReceiptHandle: m.receiptHandle })),
        }),
      );
      for (const f of res.Failed ?? []) {
        log(
          `${name}: could not delete message ${chunk[Number(f.Id)]?.messageId}: ${f.Code} ${f.Message ?? ''}`,
        );
      }
    }
  };

  /** Mapping-side redrive (only when the queue has no RedrivePolicy of its own). */
  let mappingDlq: { queueUrl: string; maxReceiveCount: number } | undefined;
  const redrive = async (m: Message): Promise<void> => {
    if (!mappingDlq) return;
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: mappingDlq.queueUrl,
        MessageBody: m.Body ?? '',
        ...(m.MessageAttributes && Object.keys(m.MessageAttributes).length
          ? { MessageAttributes: m.MessageAttributes }
          : {}),
      }),
    );
    await sqs.send(new DeleteMessageCommand({ QueueUrl: opts.queueUrl, ReceiptHandle: m.ReceiptHandle }));
    log(
      `${name}: message ${m.MessageId} received ${m.Attributes?.ApproximateReceiveCount} times: moved to ${mappingDlq.queueUrl}`,
    );
  };

  const handle = async (records: SQSRecord[]): Promise<void> => {
    let res: SQSBatchResponse | void;
    try {
      res = await opts.handler({ Records: records });
    } catch (err) {
      log(
        `${name}: handler failed for ${records.length} message(s); they return after the visibility timeout: ${(err as Error).message}`,
      );
      return;
    }
    if (
      opts.reportBatchItemFailures &&
      res &&
      Array.isArray(res.batchItemFailures) &&
      res.batchItemFailures.length
    ) {
      const failed = new Set(res.batchItemFailures.map((f) => f.itemIdentifier));
      if ([...failed].some((id) => !records.some((r) => r.messageId === id))) {
        log(`${name}: batchItemFailures names a message not in the batch: the whole batch failed`);
        return;
      }
      await deleteAll(records.filter((r) => !failed.has(r.messageId)));
      return;
    }
    await deleteAll(records);
  };

  const loop = (async () => {
    // Does the emulator redrive for us?
    while (!stopped) {
      try {
        const attrs = await sqs.send(
          new GetQueueAttributesCommand({ QueueUrl: opts.queueUrl, AttributeNames: ['RedrivePolicy'] }),
        );
        if (opts.dlq && !attrs.Attributes?.RedrivePolicy) mappingDlq = opts.dlq;
        break;
      } catch (err) {
        log(`${name}: cannot read the queue yet (${(err as Error).message}); retrying in 1 s`);
        await sleep(1000);
      }
    }
    while (!stopped) {
      try {
        const batch: Message[] = [];
        const windowEnd = Date.now() + windowMs;
        for (;;) {
          const got = await receive(batchSize - batch.length);
          for (const m of got) {
            if (
              mappingDlq &&
              Number(m.Attributes?.ApproximateReceiveCount ?? '0') > mappingDlq.maxReceiveCount
            )
              await redrive(m);
            else batch.push(m);
          }
          if (
            stopped ||
            batch.length >= batchSize ||
            Date.now() >= windowEnd ||
            (got.length === 0 && batch.length === 0)
          )
            break;
          if (got.length === 0) await sleep(Math.min(pollIntervalMs, Math.max(0, windowEnd - Date.now())));
        }
        if (batch.length) {
          // Even when stopping: the messages are invisible now, so hand them over rather than wait.
          await handle(batch.map((m) => toLambdaRecord(m, opts.queueArn, region)));
        } else {
          await sleep(pollIntervalMs);
        }
      } catch (err) {
        if (stopped) break;
        log(`${name}: ${(err as Error).message}; retrying in 1 s`);
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
        sqs.destroy();
      })();
      return stopping;
    },
  };
}
