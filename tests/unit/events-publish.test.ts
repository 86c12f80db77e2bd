import { marshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBStreamEvent } from 'aws-lambda';
import {
  eventId,
  eventsForChange,
  notifierBatch,
  notifyTaskChanges,
  publishEvent,
  PoisonRecordError,
  type NotifierDeps,
} from '../../src/services/events';
import { fileUploadEventContent } from '../../src/services/upload-registration';
import type { StoredEvent } from '../../src/adapters/event-store';
import { DEFAULT_EVENT_CONFIG, type EventConfig } from '../../src/services/event-config';
import type { Subtask, Task } from '../../src/domain/task';

function deps(config: Partial<EventConfig>, now = 1_700_000_000_000) {
  const stored = new Map<string, StoredEvent>();
  const d = {
    events: {
      putOnce: async (e: StoredEvent) => {
        if (stored.has(e.eventId)) return false;
        stored.set(e.eventId, e);
        return true;
      },
    },
    configs: { get: async () => ({ ...DEFAULT_EVENT_CONFIG, ...config }), update: async () => undefined },
    clock: () => now,
  };
  return { d, stored };
}

describe('publishEvent', () => {
  test('PUSH with a URL: pending push with the URL snapshot; stored once per event ID', async () => {
    const { d, stored } = deps({ mode: 'PUSH', notificationUrl: 'https://hooks.example.com/vod' });
    const e = {
      subAppId: 7,
      eventId: 'abc',
      eventType: 'ProcedureStateChanged' as const,
      content: { TaskId: 't' },
    };
    expect(await publishEvent(d, e)).toBe('stored');
    expect(await publishEvent(d, e)).toBe('duplicate');
    expect(stored.get('abc')).toMatchObject({
      delivery: 'PUSH',
      url: 'https://hooks.example.com/vod',
      state: 'PUSHING',
      pushNext: 1,
      content: { EventType: 'ProcedureStateChanged', ProcedureStateChangeEvent: { TaskId: 't' } },
      expiresAt: 1_700_000_000 + 4 * 24 * 3600,
    });
  });

  test('PULL, and PUSH without a URL: pullable at once (nothing is lost for want of a URL)', async () => {
    for (const c of [
      { mode: 'PULL' as const, notificationUrl: 'https://x.example.com' },
      { mode: 'PUSH' as const },
    ]) {
      const { d, stored } = deps(c);
      await publishEvent(d, { subAppId: 7, eventId: 'e', eventType: 'ProcedureStateChanged', content: {} });
      expect(stored.get('e')).toMatchObject({
        delivery: 'PULL',
        state: 'PENDING',
        visibleAt: 1_700_000_000_000,
      });
      expect(stored.get('e')?.url).toBeUndefined();
    }
  });

  test('NewFileUpload only when UploadMediaCompleteEventSwitch is ON, carried as FileUploadEvent', async () => {
    const upload = {
      subAppId: 7,
      eventId: 'up1',
      eventType: 'NewFileUpload' as const,
      content: { FileId: 'f1' },
    };
    const off = deps({ mode: 'PULL' });
    expect(await publishEvent(off.d, upload)).toBe('switched-off');
    expect(off.stored.size).toBe(0);
    const on = deps({ mode: 'PULL', uploadMediaCompleteEventSwitch: 'ON' });
    expect(await publishEvent(on.d, upload)).toBe('stored');
    expect(on.stored.get('up1')?.content).toEqual({
      EventType: 'NewFileUpload',
      FileUploadEvent: { FileId: 'f1' },
    });
  });
});

describe('event derivation', () => {
  test('an EditMedia task reaching FINISH maps to EditMediaComplete', () => {
    const img = { sk: '#TASK', taskId: 'e1', subAppId: 1, status: 'FINISH', taskType: 'EditMedia' as const };
    expect(eventsForChange({ ...img, status: 'PROCESSING' }, img)).toEqual([
      {
        eventId: eventId('e1', 'FINISH'),
        eventType: 'EditMediaComplete',
        taskId: 'e1',
        subAppId: 1,
        transition: 'FINISH',
      },
    ]);
  });

  const task: Task = {
    taskId: 't1',
    subAppId: 1,
    taskType: 'Procedure',
    status: 'PROCESSING',
    createTime: '',
    priority: 0,
    notifyMode: 'Change',
    subtaskCount: 2,
    sessionContext: 'order-42',
  };
  const sub = (index: number, status: Subtask['status']): Subtask => ({
    taskId: 't1',
    index,
    kind: 'Transcode',
    status,
    input: {},
    template: {},
    progress: 0,
    errCode: 0,
    message: '',
  });
  const img = (index: number, status: string) => ({
    ...sub(index, status as Subtask['status']),
    sk: `SUB#000${index}`,
    subAppId: 1,
    notifyMode: 'Change' as const,
  });

  test('a subtask event shows the subtask as it was at its transition, with SessionContext', async () => {
    const { d, stored } = deps({ mode: 'PULL' });
    const nd: NotifierDeps = {
      ...d,
      // By the time the record is read, subtask 0 has already succeeded.
      tasks: { get: async () => ({ task, subtasks: [sub(0, 'SUCCESS'), sub(1, 'PROCESSING')] }) },
      procedureTask: async (t, subs) => ({
        TaskId: t.taskId,
        SessionContext: t.sessionContext,
        States: subs.map((s) => s.status),
      }),
      pullUploadTask: async () => ({}),
    };
    const out = await notifyTaskChanges(nd, [
      { seq: '1', oldImage: img(0, 'WAITING'), newImage: img(0, 'PROCESSING') },
    ]);
    expect(out).toEqual({});
    const e = stored.get(eventId('t1', 'SUB#0000:PROCESSING'))!;
    expect(e.content).toEqual({
      EventType: 'ProcedureStateChanged',
      ProcedureStateChangeEvent: {
        TaskId: 't1',
        SessionContext: 'order-42',
        States: ['PROCESSING', 'PROCESSING'],
      },
    });
  });

  test('a failing record is reported as the place to resume; the others are stored', async () => {
    const { d, stored } = deps({ mode: 'PULL' });
    const failing = eventId('t1', 'SUB#0001:SUCCESS');
    const nd: NotifierDeps = {
      ...d,
      events: {
        putOnce: async (e) => {
          if (e.eventId === failing) throw new Error('throttled');
          return d.events.putOnce(e);
        },
      },
      tasks: { get: async () => ({ task, subtasks: [sub(0, 'SUCCESS'), sub(1, 'SUCCESS')] }) },
      procedureTask: async (t) => ({ TaskId: t.taskId }),
      pullUploadTask: async () => ({}),
    };
    const out = await notifyTaskChanges(nd, [
      { seq: '1', oldImage: img(0, 'PROCESSING'), newImage: img(0, 'SUCCESS') },
      { seq: '2', oldImage: img(1, 'PROCESSING'), newImage: img(1, 'SUCCESS') },
      {
        seq: '3',
        oldImage: { ...img(0, 'SUCCESS'), sk: '#TASK', status: 'PROCESSING' },
        newImage: { ...img(0, 'SUCCESS'), sk: '#TASK', status: 'FINISH' },
      },
    ]);
    expect(out).toEqual({ failedSeq: '2' });
    expect([...stored.keys()].sort()).toEqual(
      [eventId('t1', 'SUB#0000:SUCCESS'), eventId('t1', 'FINISH')].sort(),
    );
  });
});

describe('PullUpload tasks: PullComplete', () => {
  const pullTask: Task = {
    taskId: 'p1',
    subAppId: 3,
    taskType: 'PullUpload',
    status: 'FINISH',
    createTime: '',
    priority: 0,
    subtaskCount: 0,
    notifyMode: 'Finish',
    sessionContext: 'pull-ctx',
  };
  const image = (status: string, extra: Record<string, unknown> = {}) => ({
    sk: '#TASK',
    taskId: 'p1',
    subAppId: 3,
    status,
    taskType: 'PullUpload' as const,
    ...extra,
  });

  test('FINISH is one PullComplete (never ProcedureStateChanged), whatever notify mode the item carries', () => {
    for (const notifyMode of [undefined, 'None', 'Change'] as const) {
      expect(eventsForChange(image('PROCESSING', { notifyMode }), image('FINISH', { notifyMode }))).toEqual([
        {
          eventId: eventId('p1', 'FINISH'),
          eventType: 'PullComplete',
          taskId: 'p1',
          subAppId: 3,
          transition: 'FINISH',
        },
      ]);
    }
    expect(eventsForChange(image('WAITING'), image('PROCESSING'))).toEqual([]);
  });

  test("the event is Tencent's EventContent with PullCompleteEvent = the PullUploadTask view, SessionContext included", async () => {
    const { d, stored } = deps({ mode: 'PULL' });
    const nd: NotifierDeps = {
      ...d,
      tasks: { get: async () => ({ task: pullTask, subtasks: [] }) },
      procedureTask: async () => {
        throw new Error('a PullUpload task has no ProcedureTask');
      },
      pullUploadTask: async (t) => ({
        TaskId: t.taskId,
        Status: t.status,
        ErrCode: 0,
        FileId: '5285890812345678901',
        SessionContext: t.sessionContext,
      }),
    };
    expect(
      await notifyTaskChanges(nd, [{ seq: '1', oldImage: image('PROCESSING'), newImage: image('FINISH') }]),
    ).toEqual({});
    expect([...stored.values()].map((e) => [e.eventType, e.content])).toEqual([
      [
        'PullComplete',
        {
          EventType: 'PullComplete',
          PullCompleteEvent: {
            TaskId: 'p1',
            Status: 'FINISH',
            ErrCode: 0,
            FileId: '5285890812345678901',
            SessionContext: 'pull-ctx',
          },
        },
      ],
    ]);
  });
});

describe('poison records (the stream is retried without limit)', () => {
  const base = {
    taskId: 't9',
    subAppId: 1,
    taskType: 'Procedure',
    status: 'FINISH',
    notifyMode: 'Finish',
  };
  const task9: Task = {
    taskId: 't9',
    subAppId: 1,
    taskType: 'Procedure',
    status: 'FINISH',
    createTime: '',
    priority: 0,
    subtaskCount: 0,
    notifyMode: 'Finish',
  };
  const rec = (seq: string, newImage: Record<string, unknown> | undefined, oldStatus = 'PROCESSING') => ({
    eventID: seq,
    eventName: 'MODIFY' as const,
    dynamodb: {
      SequenceNumber: seq,
      NewImage: newImage ? (marshall(newImage) as never) : undefined,
      OldImage: marshall({ ...base, sk: '#TASK', status: oldStatus }) as never,
    },
  });

  function notifier(failOn?: string) {
    const { d, stored } = deps({ mode: 'PULL' });
    const errors: string[] = [];
    const nd: NotifierDeps = {
      ...d,
      events: {
        putOnce: async (e) => {
          if (e.taskId === failOn) throw new Error('ProvisionedThroughputExceeded');
          return d.events.putOnce(e);
        },
      },
      tasks: { get: async (id) => ({ task: { ...task9, taskId: id }, subtasks: [] }) },
      procedureTask: async (t) => ({ TaskId: t.taskId }),
      pullUploadTask: async () => ({}),
      logError: (msg, extra) => errors.push(`${msg} ${String(extra.seq)}`),
    };
    return { nd, stored, errors };
  }

  test('a malformed image (unreadable, or missing taskId / subAppId) is logged and skipped alone; the batch completes', async () => {
    const { nd, stored, errors } = notifier();
    const event = {
      Records: [
        rec('1', { ...base, sk: '#TASK', taskId: 'a' }),
        rec('2', { ...base, sk: '#TASK', taskId: '' }),
        rec('3', { ...base, sk: '#TASK', subAppId: 'seven', taskId: 'c' }),
        {
          ...rec('4', undefined),
          dynamodb: { SequenceNumber: '4', NewImage: { sk: {} } as never },
        },
        rec('5', { ...base, sk: '#TASK', taskId: 'e' }),
      ],
    } as unknown as DynamoDBStreamEvent;
    const out = await notifierBatch(nd, event);
    expect(out).toEqual({ batchItemFailures: [] });
    expect([...stored.values()].map((e) => e.taskId).sort()).toEqual(['a', 'e']);
    expect(errors.sort()).toEqual([
      'notifier skipped a record it can never handle 2',
      'notifier skipped a record it can never handle 3',
      'notifier skipped a record it can never handle 4',
    ]);
  });

  test('a transient error still reports its record as the place to resume (behind a poison record)', async () => {
    const { nd, stored } = notifier('c');
    const event = {
      Records: [
        rec('1', { ...base, sk: '#TASK', taskId: '' }),
        rec('2', { ...base, sk: '#TASK', taskId: 'b' }),
        rec('3', { ...base, sk: '#TASK', taskId: 'c' }),
        rec('4', { ...base, sk: '#TASK', taskId: 'd' }),
      ],
    } as unknown as DynamoDBStreamEvent;
    expect(await notifierBatch(nd, event)).toEqual({ batchItemFailures: [{ itemIdentifier: '3' }] });
    expect([...stored.values()].map((e) => e.taskId).sort()).toEqual(['b', 'd']);
  });

  test('an event that fails validation is a PoisonRecordError, never retried as transient', async () => {
    const { d } = deps({ mode: 'PULL' });
    await expect(
      publishEvent(d, { subAppId: 1, eventId: 'bad id!', eventType: 'ProcedureStateChanged', content: {} }),
    ).rejects.toBeInstanceOf(PoisonRecordError);
  });
});

describe('NewFileUpload content', () => {
  test("FileUploadEvent carries the upload's SessionContext (OpenVOD extension)", () => {
    const media = {
      fileId: '5285890800000000001',
      subAppId: 1,
      status: 'READY' as const,
      name: 'clip',
      bucket: 'b',
      key: 'uploads/1/clip.mp4',
      sessionContext: 'order-7',
      createTime: '2026-01-01T00:00:00Z',
      updateTime: '2026-01-01T00:00:00Z',
    };
    expect(fileUploadEventContent(media, 'https://m/clip.mp4')).toMatchObject({
      FileId: media.fileId,
      SessionContext: 'order-7',
    });
    expect(fileUploadEventContent({ ...media, sessionContext: undefined }, 'u').SessionContext).toBe('');
  });
});
