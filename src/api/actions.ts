import { z } from 'zod';
import type { Logger } from '@aws-lambda-powertools/logger';
import { common, isoDateTime, parseParams } from './validation';
import { TASK_STATUSES, type TaskSummary } from '../domain/task';
import type { DynamoTasksRepository } from '../adapters/tasks-repo';
import { processMedia, type SubmitDeps } from '../services/submit';
import { describeTaskDetail } from '../services/task-view';
import type { DynamoTemplatesRepository } from '../adapters/templates-repo';
import { TEMPLATE_ACTIONS } from './actions-templates';
import { EVENT_ACTIONS, type EventApiDeps } from './actions-events';
import { UPLOAD_ACTIONS, type UploadServices } from './actions-upload';
import { MEDIA_ACTIONS } from './actions-media';
import type { MediaLibraryDeps } from '../services/media-library';

/** What an action handler gets: the caller's app (from its key) and the services. */
export interface ActionContext {
  subAppId: number;
  requestId: string;
  logger: Logger;
  services: ApiServices;
}

export interface ApiServices extends Omit<SubmitDeps, 'tasks'> {
  tasks: DynamoTasksRepository;
  taskStore: SubmitDeps['tasks'];
  /** Custom templates and task-flow templates of the apps (src/api/actions-templates.ts). */
  templates: DynamoTemplatesRepository;
  /** Event configuration and PullEvents/ConfirmEvents (src/api/actions-events.ts). */
  events?: EventApiDeps;
  /** ApplyUpload/CommitUpload/PullUpload (src/api/actions-upload.ts). */
  upload?: UploadServices;
  /** DescribeMediaInfos/DeleteMedia/SearchMedia (src/api/actions-media.ts). */
  library?: MediaLibraryDeps;
}

const describeTaskDetailSchema = z.object({ ...common, TaskId: z.string().min(1).max(128) }).strict();

export type ActionHandler = (ctx: ActionContext, params: unknown) => Promise<object>;

const timeRange = z.object({ After: isoDateTime.optional(), Before: isoDateTime.optional() }).strict();

const describeTasksSchema = z
  .object({
    ...common,
    Status: z.enum(TASK_STATUSES as [string, ...string[]]).optional(),
    FileId: z.string().min(1).max(64).optional(),
    CreateTime: timeRange.optional(),
    FinishTime: timeRange.optional(),
    Sort: z
      .object({ Field: z.enum(['CreateTime', 'FinishTime']), Order: z.enum(['Asc', 'Desc']) })
      .strict()
      .optional(),
    Limit: z.number().int().min(1).max(100).optional(),
    ScrollToken: z.string().max(2048).optional(),
  })
  .strict();

export function taskSimpleInfo(t: TaskSummary): object {
  return {
    TaskId: t.taskId,
    Status: t.status,
    FileId: t.fileId ?? '',
    TaskType: t.taskType,
    CreateTime: t.createTime,
    BeginProcessTime: t.beginProcessTime ?? '',
    FinishTime: t.finishTime ?? '',
    SessionId: t.sessionId ?? '',
    SessionContext: t.sessionContext ?? '',
  };
}

/** The implemented actions. Every other action of the VOD API answers UnsupportedOperation. */
export const ACTIONS: Record<string, ActionHandler> = {
  ...TEMPLATE_ACTIONS,
  ...EVENT_ACTIONS,
  ...UPLOAD_ACTIONS,
  ...MEDIA_ACTIONS,
  ProcessMedia(ctx, raw) {
    return processMedia({ ...ctx.services, tasks: ctx.services.taskStore }, ctx.subAppId, raw);
  },

  async DescribeTaskDetail(ctx, raw) {
    const p = parseParams(describeTaskDetailSchema, raw);
    return describeTaskDetail(
      { tasks: ctx.services.taskStore, media: ctx.services.media },
      ctx.subAppId,
      p.TaskId,
    );
  },

  async DescribeTasks(ctx, raw) {
    const p = parseParams(describeTasksSchema, raw);
    const out = await ctx.services.tasks.list({
      subAppId: ctx.subAppId,
      status: p.Status as TaskSummary['status'] | undefined,
      fileId: p.FileId,
      createTime: p.CreateTime && { after: p.CreateTime.After, before: p.CreateTime.Before },
      finishTime: p.FinishTime && { after: p.FinishTime.After, before: p.FinishTime.Before },
      sort: p.Sort ? { field: p.Sort.Field, order: p.Sort.Order } : { field: 'CreateTime', order: 'Desc' },
      limit: p.Limit ?? 10,
      scrollToken: p.ScrollToken || undefined,
    });
    return {
      TaskSet: out.tasks.map(taskSimpleInfo),
      ScrollToken: out.scrollToken ?? '',
      TotalCount: out.totalCount,
    };
  },
};
