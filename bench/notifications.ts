/**
 * (e) Notification latency on the local system: from a subtask's final DynamoDB write (its SUCCESS, in
 * TasksNotifyMode=Change) to its ProcedureStateChanged event reaching a local HTTP receiver (PUSH), and to
 * its being returned by PullEvents (PULL). Flows are written one after another with a pause, so the figure is
 * latency, not queueing. Targets locally: push p50 < 300 ms, p99 < 1 s; pullable within 500 ms.
 */
import * as http from 'node:http';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchWriteCommand, DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { LocalCredentials } from '../local/runtime';
import { eventId } from '../src/services/events';
import { pct, vodClient } from './lib';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Writes a 1-subtask Change-mode flow up to the subtask's SUCCESS; returns when that write returned. */
async function flowToSuccess(
  doc: DynamoDBDocumentClient,
  table: string,
  subAppId: number,
  taskId: string,
): Promise<number> {
  const base = { subAppId, notifyMode: 'Change', expiresAt: Math.floor(Date.now() / 1000) + 86_400, taskId };
  await doc.send(
    new BatchWriteCommand({
      RequestItems: {
        [table]: [
          {
            PutRequest: {
              Item: {
                pk: `TASK#${taskId}`,
                sk: '#TASK',
                taskType: 'Procedure',
                status: 'PROCESSING',
                createTime: new Date().toISOString(),
                priority: 0,
                subtaskCount: 1,
                ...base,
              },
            },
          },
          {
            PutRequest: {
              Item: {
                pk: `TASK#${taskId}`,
                sk: 'SUB#0000',
                index: 0,
                kind: 'Transcode',
                status: 'PROCESSING',
                input: { Definition: 100010 },
                template: {},
                progress: 0,
                errCode: 0,
                message: '',
                ...base,
              },
            },
          },
        ],
      },
    }),
  );
  await doc.send(
    new UpdateCommand({
      TableName: table,
      Key: { pk: `TASK#${taskId}`, sk: 'SUB#0000' },
      UpdateExpression: 'SET #s = :s, progress = :p',
      ExpressionAttributeNames: { '#s': 'status' },
      ExpressionAttributeValues: { ':s': 'SUCCESS', ':p': 100 },
    }),
  );
  return performance.now();
}

export async function benchNotifications(opts: {
  credentials: LocalCredentials;
  tasksTable: string;
  quick: boolean;
}): Promise<void> {
  const c = opts.credentials;
  const n = opts.quick ? 20 : 100;
  const arrivals = new Map<string, number>();
  const receiver = http.createServer((req, res) => {
    const id = String(req.headers['x-openvod-event-id'] ?? '');
    arrivals.set(id, arrivals.get(id) ?? performance.now());
    req.resume();
    req.on('end', () => res.writeHead(200).end('ok'));
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(receiver.address() as { port: number }).port}/bench`;
  const client = vodClient(c);
  const doc = DynamoDBDocumentClient.from(
    new DynamoDBClient({
      region: 'us-east-1',
      endpoint: c.DynamoDBEndpoint,
      credentials: { accessKeyId: 'l', secretAccessKey: 'l' },
    }),
  );
  try {
    // PUSH
    await client.ModifyEventConfig({ Mode: 'PUSH', NotificationUrl: url, SignKey: 'BenchKey1' });
    const push: number[] = [];
    for (let i = 0; i < n; i++) {
      const taskId = `bench-push-${Date.now()}-${i}`;
      const written = await flowToSuccess(doc, opts.tasksTable, c.SubAppId, taskId);
      const id = eventId(taskId, 'SUB#0000:SUCCESS');
      const end = written + 10_000;
      while (!arrivals.has(id) && performance.now() < end) await sleep(5);
      push.push((arrivals.get(id) ?? Infinity) - written);
      await sleep(150 + Math.random() * 100);
    }
    console.log(
      `(e) notification latency, subtask's final write → event at a local receiver (PUSH, ${n} flows): p50 ${pct(push, 50).toFixed(0)} ms, p99 ${pct(push, 99).toFixed(0)} ms, max ${Math.max(...push).toFixed(0)} ms (target p50 < 300 ms, p99 < 1 s)`,
    );
    // PULL
    await client.ModifyEventConfig({ Mode: 'PULL' });
    const pull: number[] = [];
    for (let i = 0; i < n; i++) {
      const taskId = `bench-pull-${Date.now()}-${i}`;
      const written = await flowToSuccess(doc, opts.tasksTable, c.SubAppId, taskId);
      const id = eventId(taskId, 'SUB#0000:SUCCESS');
      let at = Infinity;
      const handles: string[] = [];
      while (at === Infinity && performance.now() - written < 10_000) {
        const r = await client.PullEvents({});
        for (const e of r.EventSet ?? []) {
          handles.push(e.EventHandle!);
          if (e.EventHandle!.startsWith(`${id}.`)) at = performance.now();
        }
      }
      if (handles.length) await client.ConfirmEvents({ EventHandles: handles.slice(0, 16) });
      pull.push(at - written);
      await sleep(150 + Math.random() * 100);
    }
    console.log(
      `    subtask's final write → returned by PullEvents (a client long-polling all along, ${n} flows): p50 ${pct(pull, 50).toFixed(0)} ms, p99 ${pct(pull, 99).toFixed(0)} ms, max ${Math.max(...pull).toFixed(0)} ms (target < 500 ms)`,
    );
  } finally {
    doc.destroy();
    receiver.close();
  }
}

/** Standalone: `tsx bench/notifications.ts` runs only this part. */
if (require.main === module) {
  void (async () => {
    const { mkdtempSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const path = await import('node:path');
    const { startLocal } = await import('../local/runtime');
    process.env.OPENVOD_LOG_LEVEL = 'SILENT';
    const work = mkdtempSync(path.join(tmpdir(), 'openvod-bench-notify-'));
    const sys = await startLocal({
      port: 3700 + Math.floor(Math.random() * 50) * 5,
      dataDir: path.join(work, 'data'),
    });
    try {
      await benchNotifications({
        credentials: sys.credentials,
        tasksTable: sys.model.physicalNames.TasksTable,
        quick: process.env.BENCH_QUICK === '1',
      });
    } finally {
      await sys.stop();
      rmSync(work, { recursive: true, force: true });
    }
    process.exit(0);
  })();
}
