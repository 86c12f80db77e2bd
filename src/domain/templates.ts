/**
 * Custom templates and task-flow (procedure) templates of an app: identities, limits and the domain errors the
 * templates repository raises (the services turn them into Tencent's API error codes).
 */
import type { TemplateKind } from '../media/templates';

/**
 * Custom definitions of every kind start here, above every preset Definition of every kind (the largest preset
 * is transcode 100280), so a custom template can never collide with a preset. not documented; chosen.
 * Definitions are allocated per app from a monotonic sequence: a deleted definition is never handed out again.
 */
export const CUSTOM_DEFINITION_BASE = 1_000_000;

/** Custom templates per app and kind, as the official client documents them ("数量上限"). */
export const CUSTOM_TEMPLATE_LIMITS: Readonly<Record<TemplateKind, number>> = {
  Transcode: 100,
  AdaptiveDynamicStreaming: 100,
  SampleSnapshot: 16,
  SnapshotByTimeOffset: 16,
  ImageSprite: 16,
  AnimatedGraphics: 16,
};

/** Task-flow templates per app ("模板上限：50"). */
export const PROCEDURE_LIMIT = 50;

/**
 * Distinct custom templates one task-flow template may refer to: every save is one DynamoDB transaction
 * (at most 100 items) that marks each of them in use. not documented; chosen.
 */
export const MAX_PROCEDURE_CUSTOM_REFS = 49;

/** A custom template a task-flow template refers to. */
export interface TemplateRef {
  kind: TemplateKind;
  definition: number;
}
export const refKey = (r: TemplateRef): string => `${r.kind}#${r.definition}`;

/** The AI task fields of a task-flow template, stored as given for the AI issue. */
export interface ProcedureAiTasks {
  AiContentReviewTask?: Record<string, unknown>;
  AiAnalysisTask?: Record<string, unknown>;
  AiRecognitionTaskSet?: Array<Record<string, unknown>>;
  AiRecognitionTask?: Record<string, unknown>;
  ReviewAudioVideoTask?: Record<string, unknown>;
  ImportMediaKnowledgeTaskSet?: Array<Record<string, unknown>>;
}

/** A task-flow template as stored. */
export interface ProcedureRecord {
  name: string;
  comment: string;
  /** MediaProcessTaskInput as validated (Definitions resolved at start time, from snapshots). */
  mediaProcessTask?: Record<string, unknown[]>;
  ai: ProcedureAiTasks;
  /** The custom templates it refers to (presets are not tracked: they never go away). */
  refs: TemplateRef[];
  createTime: string;
  updateTime: string;
}

export class TemplateNotFoundError extends Error {
  override readonly name = 'TemplateNotFoundError';
}
export class TemplateInUseError extends Error {
  override readonly name = 'TemplateInUseError';
  constructor(readonly procedures: string[]) {
    super(`in use by task-flow template(s) ${procedures.join(', ')}`);
  }
}
export class TemplateLimitError extends Error {
  override readonly name = 'TemplateLimitError';
  constructor(readonly limit: number) {
    super(`limit ${limit} reached`);
  }
}
export class ProcedureExistsError extends Error {
  override readonly name = 'ProcedureExistsError';
}
export class ProcedureNotFoundError extends Error {
  override readonly name = 'ProcedureNotFoundError';
}
/** A custom template a task-flow template refers to does not exist (any more). */
export class MissingTemplateRefError extends Error {
  override readonly name = 'MissingTemplateRefError';
  constructor(readonly ref: TemplateRef) {
    super(`there is no ${ref.kind} template ${ref.definition}`);
  }
}
