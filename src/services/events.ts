import { createHash } from 'node:crypto';
import type { SubtaskStatus, TaskStatus, NotifyMode } from '../domain/task';

/**
 * From tasks-table changes to Tencent events. Each event's ID is derived from the transition itself
 * (task + what changed + to which state), so stream redelivery and retries can never create a duplicate:
 * the store refuses an ID it already has.
 */
export interface TransitionEvent {
  eventId: string;
  eventType: 'ProcedureStateChanged';
  taskId: string;
  subAppId: number;
  /** What caused it, e.g. `FINISH` or `SUB#0002:SUCCESS`. */
  transition: string;
}

export interface ItemImage {
  sk: string;
  taskId: string;
  subAppId: number;
  status: string;
  notifyMode?: NotifyMode;
  index?: number;
}

export const eventId = (taskId: string, transition: string): string =>
  createHash('sha256').update(`${taskId}\n${transition}`).digest('hex').slice(0, 32);

/** The events a change of one tasks-table item produces. */
export function eventsForChange(oldImage: ItemImage | undefined, newImage: ItemImage | undefined): TransitionEvent[] {
  if (!newImage || newImage.status === oldImage?.status) return [];
  const mode = newImage.notifyMode ?? 'Finish';
  if (mode === 'None') return [];
  const make = (transition: string): TransitionEvent => ({
    eventId: eventId(newImage.taskId, transition),
    eventType: 'ProcedureStateChanged',
    taskId: newImage.taskId,
    subAppId: newImage.subAppId,
    transition,
  });
  if (newImage.sk === '#TASK') {
    return (newImage.status as TaskStatus) === 'FINISH' ? [make('FINISH')] : [];
  }
  if (newImage.sk.startsWith('SUB#') && mode === 'Change') {
    const s = newImage.status as SubtaskStatus;
    if (s === 'PROCESSING' || s === 'SUCCESS' || s === 'FAIL') return [make(`${newImage.sk}:${s}`)];
  }
  return [];
}
