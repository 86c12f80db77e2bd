/**
 * Long subtask outputs on DynamoDB Local: a 3-hour SampleSnapshot every second (10,800 URLs) is stored
 * compactly on its subtask item and read back whole by DescribeTaskDetail, and its ProcedureStateChanged event
 * (built from the subtask as the stream carries it) is stored compactly and pulled whole. An output too large
 * even compacted is refused with 70000 before anything is written, and the subtask can then end FAIL.
 */
import { randomBytes } from 'node:crypto';
import { GetCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoTaskStore, MAX_OUTPUT_BYTES } from '../../src/adapters/task-store';
import { DynamoMediaRepository } from '../../src/adapters/media-repo';
import { DynamoEventStore } from '../../src/adapters/event-store';
import { DynamoEventConfigRepository } from '../../src/adapters/event-config-repo';
import { classify } from '../../src/domain/errors';
import type { Subtask, SubtaskKind, Task } from '../../src/domain/task';
import { describeTaskDetail, procedureTask } from '../../src/services/task-view';
import { eventId, notifyTaskChanges, type ChangeRecord } from '../../src/services/events';
import { pullEvents } from '../../src/services/pull';
import { startDynamoWithTables } from '../helpers/dynamo';

jest.setTimeout(60_000);

const APP = 1500000301;
let stop: () => Promise<void>;
let doc: DynamoDBDocumentClient;
let tasks: DynamoTaskStore;
let media: DynamoMediaRepository;
let events: DynamoEventStore;

beforeAll(async () => {
  const db = await startDynamoWithTables(['TasksTable', 'MediaTable', 'EventsTable'], 'openvod-outsize-');
  stop = db.stop;
  doc = db.doc;
  tasks = new DynamoTaskStore(doc, 'TasksTable');
  media = new DynamoMediaRepository(doc, 'MediaTable');
  events = new DynamoEventStore(doc, 'EventsTable');
}, 60_000);

afterAll(async () => {
  await stop?.();
});

const base = `http://127.0.0.1:3002/openvod-dev-media/${APP}/5000000000000000301`;
const now = () => new Date().toISOString();

/** A PROCESSING task of one subtask of `kind`, and the attempt that runs it. */
async function running(taskId: string, kind: SubtaskKind): Promise<{ task: Task; attempt: string }> {
  const task: Task = {
    taskId,
    subAppId: APP,
    taskType: 'Procedure',
    status: 'WAITING',
    fileId: '5000000000000000301',
    createTime: now(),
    priority: 0,
    notifyMode: 'Change',
    subtaskCount: 1,
  };
  const sub: Subtask = {
    taskId,
    index: 0,
    kind,
    status: 'WAITING',
    input: { Definition: 10 },
    template: {},
    progress: 0,
    errCode: 0,
    message: '',
  };
  await tasks.create(task, [sub], { expiresAt: 0 });
  expect(await tasks.markProcessing(taskId, now())).toBe('PROCESSING');
  const attempt = (await tasks.startSubtask(taskId, 0, now(), `${taskId}-a`))!;
  return { task, attempt };
}

const rawSubtask = async (taskId: string) =>
  (await doc.send(new GetCommand({ TableName: 'TasksTable', Key: { pk: `TASK#${taskId}`, sk: 'SUB#0000' } })))
    .Item!;

const resultOf = async (taskId: string, field: string) => {
  const d = (await describeTaskDetail({ tasks, media }, APP, taskId)) as {
    ProcedureTask: { MediaProcessResultSet: Array<Record<string, Record<string, unknown>>> };
  };
  return d.ProcedureTask.MediaProcessResultSet[0][field];
};

test('10,800 snapshot URLs are stored compactly and DescribeTaskDetail and the event answer all of them', async () => {
  const { attempt } = await running('big-sample', 'SampleSnapshot');
  const output = {
    Definition: 10,
    SampleType: 'Time',
    Interval: 1,
    ImageUrlSet: Array.from({ length: 10_800 }, (_, i) => `${base}/sampleSnapshot/10/${i + 1}.jpg`),
    WaterMarkDefinition: [],
  };
  expect(JSON.stringify(output).length).toBeGreaterThan(400 * 1024); // would not fit an item as it is
  expect(
    await tasks.endSubtask(
      'big-sample',
      0,
      { status: 'SUCCESS', errCode: 0, message: 'SUCCESS', output },
      now(),
      attempt,
    ),
  ).toBe(true);

  const item = await rawSubtask('big-sample');
  expect(JSON.stringify(item).length).toBeLessThan(2000);
  expect(await resultOf('big-sample', 'SampleSnapshotTask')).toMatchObject({
    Status: 'SUCCESS',
    ErrCode: 0,
    Progress: 100,
    Output: output,
  });

  // The notifier gets the subtask item as the stream carries it (compact) and stores a ProcedureStateChanged.
  const found = (await tasks.get('big-sample'))!;
  const image = item as NonNullable<ChangeRecord['newImage']>;
  const record: ChangeRecord = { seq: '1', oldImage: { ...image, status: 'PROCESSING' }, newImage: image };
  const logs: string[] = [];
  expect(
    await notifyTaskChanges(
      {
        events,
        configs: new DynamoEventConfigRepository(doc, 'EventsTable'),
        clock: Date.now,
        tasks: { get: async () => found },
        procedureTask: (t, s) => procedureTask(t, s, media),
        pullUploadTask: async () => ({}),
        log: (msg, extra) => logs.push(`${msg} ${JSON.stringify(extra)}`),
        logError: (msg, extra) => logs.push(`ERROR ${msg} ${JSON.stringify(extra)}`),
      },
      [record],
    ),
  ).toEqual({});
  expect(logs.join('\n')).toContain('"outcome":"stored"');
  const id = eventId('big-sample', 'SUB#0000:SUCCESS');
  const rawEvent = await doc.send(
    new GetCommand({ TableName: 'EventsTable', Key: { pk: `APP#${APP}`, sk: `EVT#${id}` } }),
  );
  expect(JSON.stringify(rawEvent.Item).length).toBeLessThan(4000);

  const pulled = (await pullEvents(
    { events, clock: Date.now, visibilityMs: 30_000, waitMs: 0 },
    APP,
    {},
  )) as {
    EventSet: Array<{
      EventType: string;
      ProcedureStateChangeEvent: {
        TaskId: string;
        MediaProcessResultSet: Array<{ Type: string; SampleSnapshotTask: { Output: unknown } }>;
      };
    }>;
  };
  expect(pulled.EventSet).toHaveLength(1);
  expect(pulled.EventSet[0].EventType).toBe('ProcedureStateChanged');
  const content = pulled.EventSet[0].ProcedureStateChangeEvent;
  expect(content.TaskId).toBe('big-sample');
  expect(content.MediaProcessResultSet[0].SampleSnapshotTask.Output).toEqual(output);
  // The push path reads the event through the same store.
  expect((await events.get(APP, id))?.content).toEqual({
    EventType: 'ProcedureStateChanged',
    ProcedureStateChangeEvent: content,
  });
});

test('PicInfoSet, regular and irregular, and sprites come back exactly', async () => {
  const pics = (offsets: number[]) => ({
    Definition: 10,
    PicInfoSet: offsets.map((ms) => ({
      TimeOffset: ms,
      Url: `${base}/snapshotByTimeOffset/10/${ms}.jpg`,
      WaterMarkDefinition: [],
    })),
  });
  const cases: Array<[string, SubtaskKind, string, Record<string, unknown>]> = [
    [
      'pics-regular',
      'SnapshotByTimeOffset',
      'SnapshotByTimeOffsetTask',
      pics(Array.from({ length: 200 }, (_, i) => i * 2000)),
    ],
    [
      'pics-irregular',
      'SnapshotByTimeOffset',
      'SnapshotByTimeOffsetTask',
      pics([0, 1500, 1501, 9999, 120_000, 3_600_000]),
    ],
    [
      'sprites',
      'ImageSprites',
      'ImageSpriteTask',
      {
        Definition: 10,
        Height: 90,
        Width: 160,
        TotalCount: 10_800,
        ImageUrlSet: Array.from({ length: 108 }, (_, i) => `${base}/imageSprite/10/sprite_${i + 1}.jpg`),
        WebVttUrl: `${base}/imageSprite/10/sprite.vtt`,
      },
    ],
  ];
  for (const [taskId, kind, field, output] of cases) {
    const { attempt } = await running(taskId, kind);
    await tasks.endSubtask(
      taskId,
      0,
      { status: 'SUCCESS', errCode: 0, message: 'SUCCESS', output },
      now(),
      attempt,
    );
    const back = (await resultOf(taskId, field)) as { Output: unknown };
    expect(back.Output).toEqual(output);
  }
});

test('an output too large even compacted is refused with 70000, nothing written; the subtask then ends FAIL', async () => {
  const { attempt } = await running('too-big', 'SampleSnapshot');
  // Names that are no numbered run: 10,800 × ~40 bytes.
  const output = {
    Definition: 10,
    ImageUrlSet: Array.from(
      { length: 10_800 },
      () => `${base}/sampleSnapshot/10/${randomBytes(16).toString('hex')}.jpg`,
    ),
  };
  const err = await tasks
    .endSubtask('too-big', 0, { status: 'SUCCESS', errCode: 0, message: 'SUCCESS', output }, now(), attempt)
    .then(
      () => undefined,
      (e: unknown) => e,
    );
  expect(classify(err)).toMatchObject({ transient: false, errCode: 70000 });
  expect((err as Error).message).toMatch(/too large to record \(\d+ KB after compaction, at most 350 KB\)/);
  expect(MAX_OUTPUT_BYTES).toBe(350 * 1024);
  expect((await rawSubtask('too-big')).status).toBe('PROCESSING');
  // What the worker does with a permanent error: the subtask ends FAIL with its code and message.
  const c = classify(err);
  expect(
    await tasks.endSubtask(
      'too-big',
      0,
      { status: 'FAIL', errCode: c.errCode, message: c.message },
      now(),
      attempt,
    ),
  ).toBe(true);
  expect(await resultOf('too-big', 'SampleSnapshotTask')).toMatchObject({
    Status: 'FAIL',
    ErrCode: 70000,
    ErrCodeExt: 'InternalError',
    Message: c.message,
    Output: null,
  });
});
