/**
 * Helpers for the notification tests: a programmable callback receiver that verifies both signatures of
 * every request, and a writer of task-flow transitions straight into the tasks table (what the task flow
 * writes, without running ffmpeg).
 */
import { createHash, createHmac } from 'node:crypto';
import * as http from 'node:http';
import { BatchWriteCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { eventId } from '../../src/services/events';

export interface Received {
  path: string;
  at: number;
  eventId: string;
  body: Record<string, unknown>;
  /** Both signatures verified against the SignKey (false when missing or wrong). */
  tencentOk: boolean;
  hmacOk: boolean;
  /** What the receiver answered: a status, or 'hang' (no answer). */
  answered: number | 'hang';
}

export interface Receiver {
  url: string;
  got: Received[];
  /** Decides the answer per request; default 200. */
  behaviour: Map<string, (n: number) => number | 'hang'>;
  close(): Promise<void>;
}

export function verifyTencent(
  body: Record<string, unknown>,
  signKey: string,
  nowS = Math.floor(Date.now() / 1000),
): boolean {
  const t = body.T;
  if (typeof t !== 'number' || t < nowS) return false;
  return body.Sign === createHash('md5').update(`${signKey}${t}`).digest('hex');
}

export function verifyHmac(raw: string, header: string | undefined, signKey: string): boolean {
  const m = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(header ?? '');
  if (!m) return false;
  if (Math.abs(Date.now() / 1000 - Number(m[1])) > 300) return false;
  return createHmac('sha256', signKey).update(`${m[1]}.${raw}`).digest('hex') === m[2];
}

export async function startReceiver(signKey: string): Promise<Receiver> {
  const got: Received[] = [];
  const counts = new Map<string, number>();
  const behaviour = new Map<string, (n: number) => number | 'hang'>();
  const hanging: http.ServerResponse[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const path = req.url ?? '/';
      const n = (counts.get(path) ?? 0) + 1;
      counts.set(path, n);
      const answer = behaviour.get(path)?.(n) ?? 200;
      let body: Record<string, unknown> = {};
      try {
        body = JSON.parse(raw) as Record<string, unknown>;
      } catch {
        // recorded as an empty body
      }
      got.push({
        path,
        at: Date.now(),
        eventId: String(req.headers['x-openvod-event-id'] ?? ''),
        body,
        tencentOk: verifyTencent(body, signKey),
        hmacOk: verifyHmac(raw, req.headers['x-openvod-signature'] as string | undefined, signKey),
        answered: answer,
      });
      if (answer === 'hang') {
        hanging.push(res);
        return;
      }
      res.writeHead(answer, { 'content-type': 'text/plain' }).end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}`,
    got,
    behaviour,
    close: () =>
      new Promise<void>((r) => {
        for (const h of hanging) h.destroy();
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/**
 * A Change-mode flow of `subtasks` subtasks, written as the task flow writes it: task PROCESSING, subtasks
 * WAITING, then all subtasks → PROCESSING at the same moment, → SUCCESS at the same moment, task → FINISH.
 * Returns the IDs of the events it must produce. `onFinalWrite` is told when each subtask's last write happened.
 */
export async function writeFlow(
  doc: DynamoDBDocumentClient,
  table: string,
  subAppId: number,
  taskId: string,
  subtasks: number,
  opts: {
    notifyMode?: 'Change' | 'Finish' | 'None';
    onSubtaskDone?: (eventId: string, at: number) => void;
  } = {},
): Promise<string[]> {
  const notifyMode = opts.notifyMode ?? 'Change';
  const base = { subAppId, notifyMode, expiresAt: Math.floor(Date.now() / 1000) + 86_400 };
  const idx = Array.from({ length: subtasks }, (_, i) => i);
  const sk = (i: number) => `SUB#${String(i).padStart(4, '0')}`;
  const items: Array<Record<string, unknown>> = [
    {
      pk: `TASK#${taskId}`,
      sk: '#TASK',
      taskId,
      taskType: 'Procedure',
      status: 'PROCESSING',
      createTime: new Date().toISOString(),
      priority: 0,
      subtaskCount: subtasks,
      sessionContext: `ctx-${taskId}`,
      ...base,
    },
    ...idx.map((i) => ({
      pk: `TASK#${taskId}`,
      sk: sk(i),
      taskId,
      index: i,
      kind: 'Transcode',
      status: 'WAITING',
      input: { Definition: 100010 },
      template: {},
      progress: 0,
      errCode: 0,
      message: '',
      ...base,
    })),
  ];
  for (let i = 0; i < items.length; i += 25) {
    await doc.send(
      new BatchWriteCommand({
        RequestItems: { [table]: items.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } })) },
      }),
    );
  }
  const ids: string[] = [];
  for (const status of ['PROCESSING', 'SUCCESS']) {
    await Promise.all(
      idx.map(async (i) => {
        await doc.send(
          new UpdateCommand({
            TableName: table,
            Key: { pk: `TASK#${taskId}`, sk: sk(i) },
            UpdateExpression: 'SET #s = :s, progress = :p',
            ExpressionAttributeNames: { '#s': 'status' },
            ExpressionAttributeValues: { ':s': status, ':p': status === 'SUCCESS' ? 100 : 0 },
          }),
        );
        if (status === 'SUCCESS') opts.onSubtaskDone?.(eventId(taskId, `${sk(i)}:SUCCESS`), Date.now());
      }),
    );
    if (notifyMode === 'Change') for (const i of idx) ids.push(eventId(taskId, `${sk(i)}:${status}`));
  }
  await doc.send(
    new UpdateCommand({
      TableName: table,
      Key: { pk: `TASK#${taskId}`, sk: '#TASK' },
      UpdateExpression: 'SET #s = :s, finishTime = :t',
      ExpressionAttributeNames: { '#s': 'status' },
      ExpressionAttributeValues: { ':s': 'FINISH', ':t': new Date().toISOString() },
    }),
  );
  if (notifyMode !== 'None') ids.push(eventId(taskId, 'FINISH'));
  return ids;
}
