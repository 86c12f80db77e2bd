import { eventId, eventsForChange, type ItemImage } from '../../src/services/events';

const task = (status: string, notifyMode?: ItemImage['notifyMode']): ItemImage => ({
  sk: '#TASK',
  taskId: 't1',
  subAppId: 1500000001,
  status,
  notifyMode,
});
const sub = (status: string, notifyMode: ItemImage['notifyMode'] = 'Change'): ItemImage => ({
  sk: 'SUB#0002',
  taskId: 't1',
  subAppId: 1500000001,
  status,
  notifyMode,
  index: 2,
});

describe('eventsForChange', () => {
  test('flow end produces one ProcedureStateChanged in Finish (default) and Change mode, none in None mode', () => {
    for (const mode of [undefined, 'Finish', 'Change'] as const) {
      const out = eventsForChange(task('PROCESSING', mode), task('FINISH', mode));
      expect(out).toEqual([
        { eventId: eventId('t1', 'FINISH'), eventType: 'ProcedureStateChanged', taskId: 't1', subAppId: 1500000001, transition: 'FINISH' },
      ]);
    }
    expect(eventsForChange(task('PROCESSING', 'None'), task('FINISH', 'None'))).toEqual([]);
  });

  test('subtask changes produce events only in Change mode, one per state reached', () => {
    expect(eventsForChange(sub('WAITING'), sub('PROCESSING')).map((e) => e.transition)).toEqual(['SUB#0002:PROCESSING']);
    expect(eventsForChange(sub('PROCESSING'), sub('SUCCESS')).map((e) => e.transition)).toEqual(['SUB#0002:SUCCESS']);
    expect(eventsForChange(sub('PROCESSING'), sub('FAIL')).map((e) => e.transition)).toEqual(['SUB#0002:FAIL']);
    expect(eventsForChange(sub('PROCESSING', 'Finish'), sub('SUCCESS', 'Finish'))).toEqual([]);
  });

  test('no event without a status change (progress writes, redelivered records), on insert of WAITING, or on removal', () => {
    expect(eventsForChange(sub('PROCESSING'), sub('PROCESSING'))).toEqual([]);
    expect(eventsForChange(undefined, task('WAITING'))).toEqual([]);
    expect(eventsForChange(task('FINISH'), undefined)).toEqual([]);
    expect(eventsForChange(task('WAITING'), task('PROCESSING'))).toEqual([]);
  });

  test('event IDs are deterministic per transition and distinct across transitions and tasks', () => {
    const a = eventsForChange(sub('PROCESSING'), sub('SUCCESS'))[0].eventId;
    expect(eventsForChange(sub('PROCESSING'), sub('SUCCESS'))[0].eventId).toBe(a);
    expect(eventsForChange(sub('WAITING'), sub('PROCESSING'))[0].eventId).not.toBe(a);
    expect(eventId('t2', 'SUB#0002:SUCCESS')).not.toBe(a);
    expect(a).toMatch(/^[0-9a-f]{32}$/);
  });
});
