/**
 * The local emulators (DynamoDB Local, s3rver, local-aws-sqs) and the event-source wiring
 * (DynamoDB Streams mapping, SQS mapping, S3 notifications), end to end on free ports.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import {
  BatchWriteItemCommand,
  CreateTableCommand,
  DeleteItemCommand,
  DescribeTableCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import {
  CreateBucketCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  PutObjectCommand,
  PutObjectTaggingCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { DynamoDBRecord, S3EventRecord, SQSRecord } from 'aws-lambda';
import { startDynamoDb } from '../../local/emulators/dynamodb';
import { localS3ClientOptions, startS3 } from '../../local/emulators/s3';
import { startSqs } from '../../local/emulators/sqs';
import { startStreamMapping } from '../../local/wiring/ddb-streams';
import { makeS3NotificationDispatcher } from '../../local/wiring/s3-notifications';
import { startSqsMapping } from '../../local/wiring/sqs-mapping';

jest.setTimeout(60_000);

const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
const region = 'us-east-1';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = addr && typeof addr === 'object' ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

async function waitFor(
  what: string,
  cond: () => boolean | Promise<boolean>,
  timeoutMs = 10_000,
): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const root = mkdtempSync(path.join(os.tmpdir(), 'openvod-wiring-'));
const logs: string[] = [];
const log = (m: string): void => {
  logs.push(m);
};
const cleanups: Array<() => Promise<void>> = [];

afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
  rmSync(root, { recursive: true, force: true });
});

describe('DynamoDB Local + streams mapping', () => {
  const dataDir = path.join(root, 'ddb');
  let endpoint = '';
  let ddb: DynamoDBClient;
  let stopDdb: () => Promise<void>;
  let streamArn = '';
  const table = 'tasks';

  beforeAll(async () => {
    const t0 = Date.now();
    const emu = await startDynamoDb({ port: await freePort(), dataDir, log });
    log(`test: DynamoDB Local start-up ${Date.now() - t0} ms`);
    endpoint = emu.endpoint;
    stopDdb = () => emu.stop();
    cleanups.push(() => stopDdb());
    ddb = new DynamoDBClient({ endpoint, region, credentials });
    cleanups.push(async () => ddb.destroy());
    await ddb.send(
      new CreateTableCommand({
        TableName: table,
        AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
        BillingMode: 'PAY_PER_REQUEST',
        StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' },
      }),
    );
    streamArn = (await ddb.send(new DescribeTableCommand({ TableName: table }))).Table?.LatestStreamArn ?? '';
    expect(streamArn).toMatch(/stream/);
  });

  it('delivers INSERT/MODIFY/REMOVE shaped as Lambda does, resumes from its checkpoint without redelivery', async () => {
    const checkpointFile = path.join(dataDir, 'checkpoints', 'tasks-notifier.json');
    const got: DynamoDBRecord[] = [];
    const mappingOpts = {
      ddbEndpoint: endpoint,
      tableName: table,
      batchSize: 10,
      startingPosition: 'TRIM_HORIZON' as const,
      checkpointFile,
      pollIntervalMs: 100,
      log,
      handler: async (e: { Records: DynamoDBRecord[] }) => {
        got.push(...e.Records);
      },
    };
    let mapping = startStreamMapping(mappingOpts);
    try {
      await ddb.send(
        new PutItemCommand({
          TableName: table,
          Item: { pk: { S: 't1' }, state: { S: 'WAITING' }, n: { N: '1' }, bin: { B: Buffer.from('hi') } },
        }),
      );
      await ddb.send(
        new UpdateItemCommand({
          TableName: table,
          Key: { pk: { S: 't1' } },
          UpdateExpression: 'SET #s = :s',
          ExpressionAttributeNames: { '#s': 'state' },
          ExpressionAttributeValues: { ':s': { S: 'PROCESSING' } },
        }),
      );
      await ddb.send(new DeleteItemCommand({ TableName: table, Key: { pk: { S: 't1' } } }));
      await waitFor('3 stream records', () => got.length >= 3);
    } finally {
      await mapping.stop();
    }
    expect(got.map((r) => r.eventName)).toEqual(['INSERT', 'MODIFY', 'REMOVE']);
    const nowS = Date.now() / 1000;
    for (const r of got) {
      expect(r).toEqual({
        eventID: expect.any(String),
        eventName: expect.any(String),
        eventVersion: '1.1',
        eventSource: 'aws:dynamodb',
        awsRegion: 'us-east-1',
        dynamodb: expect.objectContaining({
          ApproximateCreationDateTime: expect.any(Number),
          Keys: { pk: { S: 't1' } },
          SequenceNumber: expect.stringMatching(/^\d+$/),
          SizeBytes: expect.any(Number),
          StreamViewType: 'NEW_AND_OLD_IMAGES',
        }),
        eventSourceARN: streamArn,
      });
      expect(Math.abs((r.dynamodb?.ApproximateCreationDateTime ?? 0) - nowS)).toBeLessThan(120);
    }
    const [ins, mod, rem] = got;
    expect(ins.dynamodb?.NewImage).toEqual({
      pk: { S: 't1' },
      state: { S: 'WAITING' },
      n: { N: '1' },
      bin: { B: Buffer.from('hi').toString('base64') },
    });
    expect(ins.dynamodb?.OldImage).toBeUndefined();
    expect(mod.dynamodb?.OldImage?.state).toEqual({ S: 'WAITING' });
    expect(mod.dynamodb?.NewImage?.state).toEqual({ S: 'PROCESSING' });
    expect(rem.dynamodb?.OldImage?.state).toEqual({ S: 'PROCESSING' });
    expect(rem.dynamodb?.NewImage).toBeUndefined();

    // Restart with the same checkpoint: nothing old again, new writes delivered.
    got.length = 0;
    mapping = startStreamMapping(mappingOpts);
    try {
      await ddb.send(new PutItemCommand({ TableName: table, Item: { pk: { S: 'marker' } } }));
      await waitFor('the record written after the restart', () => got.length >= 1);
      await sleep(300);
    } finally {
      await mapping.stop();
    }
    expect(got.map((r) => `${r.eventName} ${r.dynamodb?.Keys?.pk.S}`)).toEqual(['INSERT marker']);
  });

  it('retries a batch whose handler failed, and honours batchItemFailures (LATEST start)', async () => {
    // Failing once.
    const calls: string[][] = [];
    let failures = 0;
    const m1 = startStreamMapping({
      ddbEndpoint: endpoint,
      tableName: table,
      batchSize: 10,
      startingPosition: 'LATEST',
      checkpointFile: path.join(dataDir, 'checkpoints', 'fail-once.json'),
      pollIntervalMs: 100,
      log,
      handler: async (e) => {
        calls.push(e.Records.map((r) => r.dynamodb?.Keys?.pk.S ?? ''));
        if (failures++ === 0) throw new Error('boom');
      },
    });
    // Partial failure: r2 is reported failed once.
    const partialCalls: string[][] = [];
    let partialFailed = false;
    const m2 = startStreamMapping({
      ddbEndpoint: endpoint,
      tableName: table,
      batchSize: 10,
      startingPosition: 'LATEST',
      reportBatchItemFailures: true,
      checkpointFile: path.join(dataDir, 'checkpoints', 'partial.json'),
      pollIntervalMs: 100,
      log,
      handler: async (e) => {
        partialCalls.push(e.Records.map((r) => r.dynamodb?.Keys?.pk.S ?? ''));
        const r2 = e.Records.find((r) => r.dynamodb?.Keys?.pk.S === 'r2');
        if (!partialFailed && r2) {
          partialFailed = true;
          return { batchItemFailures: [{ itemIdentifier: r2.dynamodb?.SequenceNumber ?? '' }] };
        }
      },
    });
    try {
      await sleep(500); // LATEST: let both mappings take their position first
      await ddb.send(
        new BatchWriteItemCommand({
          RequestItems: {
            [table]: ['r1', 'r2', 'r3'].map((pk) => ({ PutRequest: { Item: { pk: { S: pk } } } })),
          },
        }),
      );
      const delivered = (c: string[][]): string[] => c.flat();
      await waitFor('r1..r3 after a thrown error', () =>
        ['r1', 'r2', 'r3'].every((k) => delivered(calls.slice(1)).includes(k)),
      );
      await waitFor('r3 after the partial failure', () => {
        const f = partialCalls.findIndex((c) => c.includes('r2'));
        return f >= 0 && delivered(partialCalls.slice(f + 1)).includes('r3');
      });
      await sleep(300);
    } finally {
      await Promise.all([m1.stop(), m2.stop()]);
    }
    // LATEST skipped what was written before; the failed batch came again, whole, then the rest.
    expect(calls[0][0]).toBe('r1');
    expect(calls[1]).toEqual(calls[0]);
    expect(calls.slice(1).flat()).toEqual(['r1', 'r2', 'r3']);
    // Checkpointed before r2 (r1 never again), retried from r2 with what followed it in the batch.
    const failing = partialCalls.findIndex((c) => c.includes('r2'));
    const afterR2 = partialCalls[failing].slice(partialCalls[failing].indexOf('r2'));
    expect(partialCalls[failing + 1].slice(0, afterR2.length)).toEqual(afterR2);
    expect(partialCalls.flat().filter((k) => k === 'r1')).toEqual(['r1']);
    expect(partialCalls.flat().filter((k) => k === 'r2')).toEqual(['r2', 'r2']);
    expect(partialCalls.slice(failing + 1).flat()).toEqual(['r2', 'r3']);
    expect(logs.some((l) => l.includes('handler failed (attempt 1)'))).toBe(true);
  });

  it('keeps the data across a DynamoDB Local restart on the same dataDir', async () => {
    await ddb.send(
      new PutItemCommand({ TableName: table, Item: { pk: { S: 'durable' }, v: { S: 'kept' } } }),
    );
    await stopDdb();
    const emu = await startDynamoDb({ port: await freePort(), dataDir, log });
    stopDdb = () => emu.stop();
    const client = new DynamoDBClient({ endpoint: emu.endpoint, region, credentials });
    try {
      const res = await client.send(new GetItemCommand({ TableName: table, Key: { pk: { S: 'durable' } } }));
      expect(res.Item?.v).toEqual({ S: 'kept' });
    } finally {
      client.destroy();
    }
  });

  it('fails with one actionable line when Java is missing', async () => {
    const emptyDir = path.join(root, 'empty-path');
    mkdirSync(emptyDir, { recursive: true });
    const savedPath = process.env.PATH;
    process.env.PATH = emptyDir;
    try {
      const err = await startDynamoDb({ port: await freePort(), dataDir: path.join(root, 'nojava') }).then(
        async (unexpected) => {
          await unexpected.stop();
          return undefined;
        },
        (e: unknown) => e as Error,
      );
      expect(err).toBeInstanceOf(Error);
      expect(err?.message).toMatch(
        /^Java not found: DynamoDB Local needs a Java runtime \(apt-get install -y default-jre-headless/,
      );
      expect(err?.message).not.toContain('\n');
    } finally {
      process.env.PATH = savedPath;
    }
  });
});

describe('s3rver + S3 notifications', () => {
  let s3: S3Client;
  let endpoint = '';
  const got: S3EventRecord[] = [];
  const otherRule: S3EventRecord[] = [];
  let dispatcher: ReturnType<typeof makeS3NotificationDispatcher>;
  const bucket = 'media';

  beforeAll(async () => {
    dispatcher = makeS3NotificationDispatcher(
      [
        {
          bucket,
          events: ['s3:ObjectCreated:*'],
          prefix: 'uploads/',
          handler: async (e) => {
            got.push(...e.Records);
          },
        },
        {
          bucket,
          events: ['s3:ObjectCreated:Put'],
          suffix: '.never',
          handler: async (e) => {
            otherRule.push(...e.Records);
          },
        },
      ],
      log,
    );
    const t0 = Date.now();
    const emu = await startS3({
      port: await freePort(),
      dataDir: path.join(root, 's3'),
      onObjectCreated: dispatcher,
      log,
    });
    log(`test: s3rver start-up ${Date.now() - t0} ms`);
    endpoint = emu.endpoint;
    cleanups.push(() => emu.stop());
    s3 = new S3Client({ ...localS3ClientOptions, endpoint });
    cleanups.push(async () => s3.destroy());
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  });

  it('emits AWS-shaped ObjectCreated records for PutObject, multipart Upload and presigned PUT', async () => {
    const putKey = 'uploads/my vidéo 1.mp4';
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: putKey, Body: 'hello world' }));

    const bigKey = 'uploads/big café.bin';
    const size = 6 * 1024 * 1024 + 1234;
    const upload = new Upload({
      client: s3,
      params: {
        Bucket: bucket,
        Key: bigKey,
        Body: Readable.from([Buffer.alloc(size - 1234, 7), Buffer.alloc(1234, 8)]),
      },
    });
    await upload.done();

    const preKey = 'uploads/pre signed ü.txt';
    const url = await getSignedUrl(s3, new PutObjectCommand({ Bucket: bucket, Key: preKey }), {
      expiresIn: 300,
    });
    expect(url).not.toContain('x-amz-checksum');
    const put = await fetch(url, { method: 'PUT', body: 'from a browser' });
    expect(put.status).toBe(200);

    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'elsewhere/x.txt', Body: 'x' }));
    await waitFor('3 notifications', () => got.length >= 3);
    await dispatcher.drain();

    expect(got.map((r) => [r.eventName, r.s3.object.key, r.s3.object.size])).toEqual([
      ['ObjectCreated:Put', 'uploads/my+vid%C3%A9o+1.mp4', 11],
      ['ObjectCreated:CompleteMultipartUpload', 'uploads/big+caf%C3%A9.bin', size],
      ['ObjectCreated:Put', 'uploads/pre+signed+%C3%BC.txt', 14],
    ]);
    expect(otherRule).toEqual([]);
    for (const r of got) {
      expect(r).toMatchObject({
        eventVersion: '2.1',
        eventSource: 'aws:s3',
        awsRegion: 'us-east-1',
        eventTime: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
        s3: {
          s3SchemaVersion: '1.0',
          configurationId: 'media-0',
          bucket: { name: bucket, arn: 'arn:aws:s3:::media' },
          object: {
            eTag: expect.stringMatching(/^[0-9a-f]{32}(-\d+)?$/),
            sequencer: expect.stringMatching(/^[0-9A-F]+$/),
          },
        },
      });
      expect(decodeURIComponent(r.s3.object.key.replace(/\+/g, ' '))).toMatch(/^uploads\//);
    }
    expect(decodeURIComponent(got[0].s3.object.key.replace(/\+/g, ' '))).toBe(putKey);

    // Round trips with the SDK.
    const body = await (
      await s3.send(new GetObjectCommand({ Bucket: bucket, Key: putKey }))
    ).Body?.transformToString();
    expect(body).toBe('hello world');
    expect((await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: bigKey }))).ContentLength).toBe(size);
    const getUrl = await getSignedUrl(s3, new GetObjectCommand({ Bucket: bucket, Key: preKey }), {
      expiresIn: 300,
    });
    expect(await (await fetch(getUrl)).text()).toBe('from a browser');
    await s3.send(
      new PutObjectTaggingCommand({
        Bucket: bucket,
        Key: putKey,
        Tagging: { TagSet: [{ Key: 'procedure', Value: 'P1' }] },
      }),
    );
    expect((await s3.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: putKey }))).TagSet).toEqual([
      { Key: 'procedure', Value: 'P1' },
    ]);
  });

  it('refuses aws-chunked bodies from a client without localS3ClientOptions instead of storing them corrupted', async () => {
    const quiet = {
      debug: () => undefined,
      info: () => undefined,
      warn: () => undefined,
      error: () => undefined,
    };
    const plain = new S3Client({ endpoint, region, forcePathStyle: true, credentials, logger: quiet });
    try {
      await expect(
        plain.send(
          new PutObjectCommand({
            Bucket: bucket,
            Key: 'uploads/stream.txt',
            Body: Readable.from([Buffer.from('abc')]),
            ContentLength: 3,
          }),
        ),
      ).rejects.toThrow(/aws-chunked/);
    } finally {
      plain.destroy();
    }
    // A stream body with the local options is stored as sent.
    await s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: 'other/stream.txt',
        Body: Readable.from([Buffer.from('abc')]),
        ContentLength: 3,
      }),
    );
    const text = await (
      await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'other/stream.txt' }))
    ).Body?.transformToString();
    expect(text).toBe('abc');
  });
});

describe('local-aws-sqs + SQS mapping', () => {
  const dataDir = path.join(root, 'sqs');
  let sqs: SQSClient;
  let endpoint = '';
  let stopSqs: () => Promise<void>;

  beforeAll(async () => {
    const t0 = Date.now();
    const emu = await startSqs({ port: await freePort(), dataDir, log });
    log(`test: SQS start-up ${Date.now() - t0} ms`);
    endpoint = emu.endpoint;
    stopSqs = () => emu.stop();
    cleanups.push(() => stopSqs());
    sqs = new SQSClient({ endpoint, region, credentials });
    cleanups.push(async () => sqs.destroy());
  });

  it('deletes handled messages, retries a reported failure and lets it land in the DLQ', async () => {
    const dlqUrl = (await sqs.send(new CreateQueueCommand({ QueueName: 'intake-dlq' }))).QueueUrl ?? '';
    const dlqArn =
      (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: dlqUrl, AttributeNames: ['QueueArn'] })))
        .Attributes?.QueueArn ?? '';
    const queueUrl =
      (
        await sqs.send(
          new CreateQueueCommand({
            QueueName: 'intake',
            Attributes: {
              VisibilityTimeout: '1',
              RedrivePolicy: JSON.stringify({ maxReceiveCount: 2, deadLetterTargetArn: dlqArn }),
            },
          }),
        )
      ).QueueUrl ?? '';
    const queueArn =
      (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] })))
        .Attributes?.QueueArn ?? '';
    await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: [
          {
            Id: 'a',
            MessageBody: 'good-1',
            MessageAttributes: { kind: { DataType: 'String', StringValue: 'task' } },
          },
          { Id: 'b', MessageBody: 'bad' },
          { Id: 'c', MessageBody: 'good-2' },
        ],
      }),
    );

    const seen: SQSRecord[] = [];
    const mapping = startSqsMapping({
      sqsEndpoint: endpoint,
      queueUrl,
      queueArn,
      batchSize: 10,
      reportBatchItemFailures: true,
      dlq: { queueUrl: dlqUrl, maxReceiveCount: 2 },
      log,
      handler: async (e) => {
        seen.push(...e.Records);
        return {
          batchItemFailures: e.Records.filter((r) => r.body === 'bad').map((r) => ({
            itemIdentifier: r.messageId,
          })),
        };
      },
    });
    let dlqMessages: Array<{ Body?: string; MessageId?: string }> = [];
    try {
      await waitFor(
        'the bad message in the DLQ',
        async () => {
          const res = await sqs.send(
            new ReceiveMessageCommand({ QueueUrl: dlqUrl, MaxNumberOfMessages: 10, AttributeNames: ['All'] }),
          );
          dlqMessages = res.Messages ?? [];
          return dlqMessages.length > 0;
        },
        15_000,
      );
      await sleep(300);
    } finally {
      await mapping.stop();
    }
    const count = (body: string): number => seen.filter((r) => r.body === body).length;
    expect(count('good-1')).toBe(1);
    expect(count('good-2')).toBe(1);
    expect(count('bad')).toBe(2);
    expect(dlqMessages.map((m) => m.Body)).toEqual(['bad']);
    expect(dlqMessages[0].MessageId).toBe(seen.find((r) => r.body === 'bad')?.messageId);
    const attrs = (
      await sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl: queueUrl,
          AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
        }),
      )
    ).Attributes;
    expect(attrs).toMatchObject({
      ApproximateNumberOfMessages: '0',
      ApproximateNumberOfMessagesNotVisible: '0',
    });

    const first = seen.find((r) => r.body === 'good-1');
    expect(first).toEqual({
      messageId: expect.any(String),
      receiptHandle: expect.any(String),
      body: 'good-1',
      attributes: {
        ApproximateReceiveCount: '1',
        SentTimestamp: expect.stringMatching(/^\d{13}$/),
        SenderId: expect.any(String),
        ApproximateFirstReceiveTimestamp: expect.stringMatching(/^\d{13}$/),
      },
      messageAttributes: {
        kind: { stringValue: 'task', stringListValues: [], binaryListValues: [], dataType: 'String' },
      },
      md5OfBody: expect.stringMatching(/^[0-9a-f]{32}$/),
      md5OfMessageAttributes: expect.stringMatching(/^[0-9a-f]{32}$/),
      eventSource: 'aws:sqs',
      eventSourceARN: queueArn,
      awsRegion: 'us-east-1',
    });
    expect(seen.filter((r) => r.body === 'bad').map((r) => r.attributes.ApproximateReceiveCount)).toEqual([
      '1',
      '2',
    ]);
  });

  it('keeps queues and messages (with their delay) across a restart', async () => {
    const queueUrl =
      (
        await sqs.send(
          new CreateQueueCommand({ QueueName: 'durable', Attributes: { VisibilityTimeout: '5' } }),
        )
      ).QueueUrl ?? '';
    const sent = await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'survives' }));
    const delayed = await sqs.send(
      new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'later', DelaySeconds: 2 }),
    );
    const sentAt = Date.now();
    await stopSqs();
    const emu = await startSqs({ port: await freePort(), dataDir, log });
    stopSqs = () => emu.stop();
    const client = new SQSClient({ endpoint: emu.endpoint, region, credentials });
    try {
      const url = emu.endpoint + new URL(queueUrl).pathname;
      const attrs = (
        await client.send(
          new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['VisibilityTimeout'] }),
        )
      ).Attributes;
      expect(attrs?.VisibilityTimeout).toBe('5');
      const dlqAttrs = (
        await client.send(
          new GetQueueAttributesCommand({
            QueueUrl: `${emu.endpoint}/123456789012/intake`,
            AttributeNames: ['RedrivePolicy'],
          }),
        )
      ).Attributes;
      expect(JSON.parse(dlqAttrs?.RedrivePolicy ?? '{}')).toMatchObject({ maxReceiveCount: 2 });

      const now = await client.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10 }));
      expect((now.Messages ?? []).map((m) => [m.MessageId, m.Body])).toEqual([[sent.MessageId, 'survives']]);
      let later: Array<{ MessageId?: string; Body?: string }> = [];
      await waitFor(
        'the delayed message',
        async () => {
          later =
            (await client.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10 })))
              .Messages ?? [];
          return later.length > 0;
        },
        5_000,
      );
      expect(Date.now() - sentAt).toBeGreaterThanOrEqual(1900);
      expect(later.map((m) => [m.MessageId, m.Body])).toEqual([[delayed.MessageId, 'later']]);
    } finally {
      client.destroy();
    }
  });
});
