/**
 * Task-flow (procedure) templates of an app — Create/Reset/Delete/DescribeProcedureTemplate(s) — and starting
 * one by name (ProcessMediaByProcedure, and uploads that name a procedure). A started flow runs from snapshots
 * of its templates taken at submission (buildSubtasks), through the same task-creation path as ProcessMedia.
 *
 * Reference integrity: every custom template a task-flow template refers to must exist when it is saved, and
 * cannot be deleted while it is referred to. Both hold under concurrency: each save is one transaction that
 * marks the referred templates (their `usedBy` set), and a template delete is conditional on no mark.
 */
import { z } from 'zod';
import { ApiError } from '../domain/errors';
import { KIND_FIELDS, SUBTASK_KINDS, type NotifyMode, type TaskType } from '../domain/task';
import {
  CUSTOM_DEFINITION_BASE,
  MAX_PROCEDURE_CUSTOM_REFS,
  MissingTemplateRefError,
  PROCEDURE_LIMIT,
  ProcedureExistsError,
  ProcedureNotFoundError,
  TemplateLimitError,
  refKey,
  type ProcedureAiTasks,
  type TemplateRef,
} from '../domain/templates';
import { isPresetDefinition } from '../media/templates';
import type { DynamoTemplatesRepository, StoredProcedure } from '../adapters/templates-repo';
import { common, parseParams } from '../api/validation';
import {
  MAX_SUBTASKS,
  TEMPLATE_OF,
  buildSubtasks,
  mediaProcessTaskSchema,
  newTaskId,
  storeTask,
  usableMedia,
  type SubmitDeps,
} from './submit';
import { isoSeconds, kindWords } from './templates';

/** SessionId dedupe window of ProcessMediaByProcedure (Tencent: 7 days). */
export const PROCEDURE_SESSION_WINDOW_SECONDS = 7 * 24 * 3600;

export interface ProcedureDeps extends SubmitDeps {
  templates: DynamoTemplatesRepository;
}

// ---------------------------------------------------------------------------------------------------------------
// Validation.

const chars = (s: string) => [...s].length;
const procedureName = z
  .string()
  .refine((s) => chars(s) >= 1 && chars(s) <= 20, {
    message: 'a task-flow template name has 1 to 20 characters',
  })
  .refine((s) => ![...s].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f), {
    message: 'a task-flow template name has no control characters',
  });
const aiDefinition = z.number().int().positive();
const withDefinition = z.object({ Definition: aiDefinition }).strict();

/** The AI task fields: stored as given (for the AI issue), validated as objects with a Definition. */
const aiFields = {
  AiContentReviewTask: withDefinition.optional(),
  AiAnalysisTask: withDefinition.optional(),
  AiRecognitionTaskSet: z.array(withDefinition).max(100).optional(),
  AiRecognitionTask: withDefinition.optional(),
  ReviewAudioVideoTask: z
    .object({
      Definition: aiDefinition,
      ReviewContents: z
        .array(z.enum(['Media', 'Cover']))
        .max(2)
        .optional(),
    })
    .strict()
    .optional(),
  ImportMediaKnowledgeTaskSet: z
    .array(
      z
        .object({
          Definition: aiDefinition,
          KnowledgeBaseIds: z.array(z.string().min(1).max(128)).max(100).optional(),
        })
        .strict(),
    )
    .max(100)
    .optional(),
};
const AI_FIELDS = Object.keys(aiFields) as Array<keyof ProcedureAiTasks>;

const saveSchema = z
  .object({
    ...common,
    Name: procedureName,
    Comment: z.string().max(256).optional(),
    MediaProcessTask: mediaProcessTaskSchema.optional(),
    ...aiFields,
  })
  .strict();
type SaveParams = z.infer<typeof saveSchema>;

const nameSchema = z.object({ ...common, Name: procedureName }).strict();

const describeSchema = z
  .object({
    ...common,
    Names: z.array(z.string().max(64)).max(100).optional(),
    Type: z.enum(['Preset', 'Custom']).optional(),
    Offset: z.number().int().min(0).optional(),
    Limit: z.number().int().min(1).max(100).optional(),
    SortBy: z
      .array(
        z
          .object({
            Field: z.literal('CreateTime'),
            Order: z.string().refine((o) => /^(asc|desc)$/i.test(o), { message: 'Order is Asc or Desc' }),
          })
          .strict(),
      )
      .max(1)
      .optional(),
  })
  .strict();

const processByProcedureSchema = z
  .object({
    ...common,
    ProcedureName: z.string().min(1).max(64),
    FileId: z.string().min(1).max(64).optional(),
    MediaStoragePath: z
      .string()
      .max(1100)
      .refine((s) => s.startsWith('/') && s.length > 1, {
        message:
          'a MediaStoragePath is the media’s object key in the media bucket after a "/", like /uploads/1/a.mp4',
      })
      .optional(),
    TasksPriority: z.number().int().min(-10).max(10).optional(),
    TasksNotifyMode: z.enum(['Finish', 'Change', 'None']).optional(),
    SessionContext: z.string().max(1000).optional(),
    SessionId: z.string().max(50).optional(),
    ExtInfo: z.string().max(1000).optional(),
  })
  .strict();

/**
 * The validated content of a task-flow template, and the custom templates it refers to (each with the field
 * path of its first mention). Presets must exist as presets; any other Definition must be an app template.
 */
function content(p: SaveParams): {
  mediaProcessTask?: Record<string, unknown[]>;
  ai: ProcedureAiTasks;
  refs: TemplateRef[];
  paths: Map<string, string>;
} {
  const ai: ProcedureAiTasks = {};
  for (const f of AI_FIELDS) if (p[f] !== undefined) (ai as Record<string, unknown>)[f] = p[f];
  const refs: TemplateRef[] = [];
  const paths = new Map<string, string>();
  let mediaProcessTask: Record<string, unknown[]> | undefined;
  if (p.MediaProcessTask) {
    mediaProcessTask = {};
    let count = 0;
    for (const kind of SUBTASK_KINDS) {
      const field = KIND_FIELDS[kind].taskSet;
      const items = (p.MediaProcessTask as Record<string, Array<{ Definition: number }> | undefined>)[field];
      if (!items?.length) continue;
      mediaProcessTask[field] = items;
      count += items.length;
      const templateKind = TEMPLATE_OF[kind];
      for (const [i, item] of items.entries()) {
        const path = `MediaProcessTask.${field}.${i}.Definition`;
        if (isPresetDefinition(templateKind, item.Definition)) continue;
        if (item.Definition < CUSTOM_DEFINITION_BASE) {
          throw new ApiError(
            'InvalidParameterValue.Definition',
            `${path}: there is no ${kindWords(templateKind)} template ${item.Definition}.`,
          );
        }
        const ref = { kind: templateKind, definition: item.Definition };
        if (!paths.has(refKey(ref))) {
          paths.set(refKey(ref), path);
          refs.push(ref);
        }
      }
    }
    if (count === 0)
      throw new ApiError('InvalidParameter', 'MediaProcessTask must contain at least one task.');
    if (count > MAX_SUBTASKS) {
      throw new ApiError(
        'InvalidParameterValue.MediaProcessTask',
        `A task flow holds at most ${MAX_SUBTASKS} subtasks.`,
      );
    }
    if (refs.length > MAX_PROCEDURE_CUSTOM_REFS) {
      throw new ApiError(
        'InvalidParameterValue.MediaProcessTask',
        `A task-flow template refers to at most ${MAX_PROCEDURE_CUSTOM_REFS} distinct custom templates; this one refers to ${refs.length}.`,
      );
    }
  }
  return { mediaProcessTask, ai, refs, paths };
}

const hasTasks = (c: { mediaProcessTask?: unknown; ai: ProcedureAiTasks }) =>
  c.mediaProcessTask !== undefined || Object.keys(c.ai).length > 0;

function missingRef(e: MissingTemplateRefError, paths: Map<string, string>): ApiError {
  const path = paths.get(refKey(e.ref)) ?? 'MediaProcessTask';
  return new ApiError(
    'InvalidParameterValue.Definition',
    `${path}: there is no ${kindWords(e.ref.kind)} template ${e.ref.definition} in this app.`,
  );
}

const noSuchProcedure = (name: string, field = 'Name') =>
  new ApiError(
    `InvalidParameterValue.${field}`,
    `There is no task-flow template named "${name}" in this app.`,
  );

/** The templates repository's error about the task-flow template `name`, as the API answers it. */
function procedureRefusal(e: unknown, name: string, paths?: Map<string, string>): unknown {
  if (e instanceof ProcedureNotFoundError) return noSuchProcedure(name);
  if (e instanceof MissingTemplateRefError && paths) return missingRef(e, paths);
  return e;
}

// ---------------------------------------------------------------------------------------------------------------
// Actions.

export type ProcedureTemplateDeps = Pick<ProcedureDeps, 'templates' | 'clock'>;

/** CreateProcedureTemplate. */
export async function createProcedureTemplate(
  deps: ProcedureTemplateDeps,
  subAppId: number,
  raw: unknown,
): Promise<Record<string, never>> {
  const p = parseParams(saveSchema, raw);
  const c = content(p);
  if (!hasTasks(c)) {
    throw new ApiError('MissingParameter', 'A task-flow template needs MediaProcessTask (or an AI task).');
  }
  const now = isoSeconds(deps.clock);
  try {
    await deps.templates.createProcedure(subAppId, {
      name: p.Name,
      comment: p.Comment ?? '',
      mediaProcessTask: c.mediaProcessTask,
      ai: c.ai,
      refs: c.refs,
      createTime: now,
      updateTime: now,
    });
    return {};
  } catch (e) {
    if (e instanceof ProcedureExistsError) {
      throw new ApiError(
        'InvalidParameterValue.Name',
        `A task-flow template named "${p.Name}" already exists in this app; choose another name, or change it with ResetProcedureTemplate.`,
      );
    }
    if (e instanceof TemplateLimitError) {
      throw new ApiError(
        'LimitExceeded.TooMuchTemplate',
        `An app has at most ${PROCEDURE_LIMIT} task-flow templates; delete one (DeleteProcedureTemplate) before creating another.`,
      );
    }
    throw procedureRefusal(e, p.Name, c.paths);
  }
}

/**
 * ResetProcedureTemplate: replaces the content of a task-flow template. When any task field is given, the task
 * fields given replace all the old ones (a task field left out is removed); when none is, the tasks are kept.
 * Comment is replaced when given.
 */
export async function resetProcedureTemplate(
  deps: ProcedureTemplateDeps,
  subAppId: number,
  raw: unknown,
): Promise<Record<string, never>> {
  const p = parseParams(saveSchema, raw);
  const c = content(p);
  try {
    await deps.templates.resetProcedure(subAppId, p.Name, (existing) => ({
      name: existing.name,
      comment: p.Comment ?? existing.comment,
      ...(hasTasks(c)
        ? { mediaProcessTask: c.mediaProcessTask, ai: c.ai, refs: c.refs }
        : { mediaProcessTask: existing.mediaProcessTask, ai: existing.ai, refs: existing.refs }),
      createTime: existing.createTime,
      updateTime: isoSeconds(deps.clock),
    }));
    return {};
  } catch (e) {
    throw procedureRefusal(e, p.Name, c.paths);
  }
}

/** DeleteProcedureTemplate. */
export async function deleteProcedureTemplate(
  deps: ProcedureTemplateDeps,
  subAppId: number,
  raw: unknown,
): Promise<Record<string, never>> {
  const p = parseParams(nameSchema, raw);
  try {
    await deps.templates.deleteProcedure(subAppId, p.Name);
    return {};
  } catch (e) {
    throw procedureRefusal(e, p.Name);
  }
}

/** A task-flow template in the SDK's ProcedureTemplate shape. */
export function procedureTemplateView(s: StoredProcedure): Record<string, unknown> {
  return {
    Name: s.name,
    Type: 'Custom',
    Comment: s.comment,
    MediaProcessTask: s.mediaProcessTask ?? null,
    AiContentReviewTask: s.ai.AiContentReviewTask ?? null,
    AiAnalysisTask: s.ai.AiAnalysisTask ?? null,
    AiRecognitionTaskSet: s.ai.AiRecognitionTaskSet ?? [],
    AiRecognitionTask: s.ai.AiRecognitionTask ?? null,
    MiniProgramPublishTask: null,
    ReviewAudioVideoTask: s.ai.ReviewAudioVideoTask ?? null,
    ImportMediaKnowledgeTaskSet: s.ai.ImportMediaKnowledgeTaskSet ?? [],
    CreateTime: s.createTime,
    UpdateTime: s.updateTime,
  };
}

/**
 * DescribeProcedureTemplates: the app's task-flow templates by name (or by CreateTime with SortBy), filtered by
 * Names and Type, paged. OpenVOD has no preset task flows: Type Preset answers none.
 */
export async function describeProcedureTemplates(
  deps: ProcedureTemplateDeps,
  subAppId: number,
  raw: unknown,
): Promise<{ TotalCount: number; ProcedureTemplateSet: Array<Record<string, unknown>> }> {
  const p = parseParams(describeSchema, raw);
  let all = p.Type === 'Preset' ? [] : await deps.templates.listProcedures(subAppId);
  if (p.Names) {
    const names = new Set(p.Names);
    all = all.filter((s) => names.has(s.name));
  }
  const sort = p.SortBy?.[0];
  if (sort) {
    const dir = /^asc$/i.test(sort.Order) ? 1 : -1;
    all.sort((a, b) => dir * a.createTime.localeCompare(b.createTime) || a.name.localeCompare(b.name));
  }
  const offset = p.Offset ?? 0;
  return {
    TotalCount: all.length,
    ProcedureTemplateSet: all.slice(offset, offset + (p.Limit ?? 10)).map(procedureTemplateView),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Starting a task flow by name.

export interface StartProcedureRequest {
  procedureName: string;
  fileId: string;
  priority?: number;
  notifyMode?: NotifyMode;
  sessionContext?: string;
  sessionId?: string;
  /**
   * Internal dedupe key (not shown as SessionId), e.g. one flow per uploaded media; a second start throws
   * DedupeConflict (task-store).
   */
  dedupeKey?: string;
  /** Default 'Procedure'. */
  taskType?: TaskType;
}

/**
 * Starts the app's task-flow template `procedureName` on a media: a WAITING task whose subtasks carry snapshots
 * of their templates, so later changes to the templates do not affect it. Refuses an unknown name
 * (InvalidParameterValue.ProcedureName), a flow with AI tasks (not supported yet), and a FileId that is not a
 * usable media of the app.
 */
export async function startProcedure(
  deps: ProcedureDeps,
  subAppId: number,
  req: StartProcedureRequest,
): Promise<{ taskId: string }> {
  const proc = await deps.templates.getProcedure(subAppId, req.procedureName);
  if (!proc) throw noSuchProcedure(req.procedureName, 'ProcedureName');
  const ai = AI_FIELDS.filter((f) => proc.ai[f] !== undefined);
  if (ai.length > 0 || !proc.mediaProcessTask) {
    throw new ApiError(
      'UnsupportedOperation',
      `The task-flow template "${proc.name}" has ${ai.join(', ')}: AI tasks are not supported by OpenVOD yet, so it cannot be started. ` +
        'Remove them with ResetProcedureTemplate, or use a task-flow template with MediaProcessTask only.',
    );
  }
  const media = await usableMedia(deps.media, req.fileId, subAppId);
  const taskId = newTaskId(subAppId);
  const subtasks = await buildSubtasks(
    taskId,
    proc.mediaProcessTask,
    deps.catalog,
    subAppId,
    `task-flow template "${proc.name}": MediaProcessTask`,
  );
  const { TaskId } = await storeTask(deps, subAppId, {
    taskId,
    subtasks,
    fileId: media.fileId,
    mediaName: media.name,
    taskType: req.taskType ?? 'Procedure',
    priority: req.priority,
    notifyMode: req.notifyMode,
    sessionContext: req.sessionContext,
    sessionId: req.sessionId,
    dedupeKey: req.dedupeKey,
    sessionWindowSeconds: PROCEDURE_SESSION_WINDOW_SECONDS,
  });
  return { taskId: TaskId };
}

/** ProcessMediaByProcedure: starts a task-flow template by name on a FileId or a MediaStoragePath. */
export async function processMediaByProcedure(
  deps: ProcedureDeps,
  subAppId: number,
  raw: unknown,
): Promise<{ TaskId: string; ReviewAudioVideoTaskId: string; ImportMediaKnowledgeTaskIdSet: string[] }> {
  const p = parseParams(processByProcedureSchema, raw);
  if (!p.FileId && !p.MediaStoragePath) {
    throw new ApiError('MissingParameter', 'Give FileId or MediaStoragePath (the media to process).');
  }
  if (p.FileId && p.MediaStoragePath) {
    throw new ApiError('InvalidParameter', 'Give either FileId or MediaStoragePath, not both.');
  }
  let fileId = p.FileId;
  if (p.MediaStoragePath) {
    const media = await deps.media.getByStoragePath(p.MediaStoragePath, subAppId);
    if (!media) {
      throw new ApiError(
        'InvalidParameterValue.MediaStoragePath',
        `There is no media at MediaStoragePath ${p.MediaStoragePath} in this app.`,
      );
    }
    fileId = media.fileId;
  }
  const { taskId } = await startProcedure(deps, subAppId, {
    procedureName: p.ProcedureName,
    fileId: fileId!,
    priority: p.TasksPriority,
    notifyMode: p.TasksNotifyMode,
    sessionContext: p.SessionContext,
    sessionId: p.SessionId,
  });
  return { TaskId: taskId, ReviewAudioVideoTaskId: '', ImportMediaKnowledgeTaskIdSet: [] };
}
