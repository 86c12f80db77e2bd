/**
 * Custom templates of an app: Create/Modify/Delete/Describe…Template(s) for every template kind the task flows
 * use, and the catalog that answers an app's templates (presets first, then its own) to the task machinery.
 * Field validation and defaults live in src/media/template-params.ts; this module owns identities (Definition,
 * Type, times), limits, immutability of presets, and listing.
 */
import { z } from 'zod';
import { ApiError } from '../domain/errors';
import {
  CUSTOM_DEFINITION_BASE,
  TemplateInUseError,
  TemplateLimitError,
  TemplateNotFoundError,
} from '../domain/templates';
import {
  PresetCatalog,
  isPresetDefinition,
  presetTemplate,
  type TemplateCatalog,
  type TemplateKind,
  type TemplateOf,
  type TranscodeTemplate,
} from '../media/templates';
import { TEMPLATE_ACTION_STEM, applyModifyTemplate, parseCreateTemplate } from '../media/template-params';
import type { DynamoTemplatesRepository } from '../adapters/templates-repo';
import { common, parseParams } from '../api/validation';
import type { Clock } from './ports';

export interface TemplatesDeps {
  templates: DynamoTemplatesRepository;
  clock: Clock;
}

/** ISO 8601 UTC to the second, as Tencent writes times (2026-01-01T00:00:00Z). */
export const isoSeconds = (clock: Clock): string => new Date(clock()).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** A template's Definition as a number (the transcode model writes it as a string). */
export const definitionOf = (t: { Definition: string | number }): number => Number(t.Definition);

const KIND_WORDS: Record<TemplateKind, string> = {
  Transcode: 'transcode',
  SampleSnapshot: 'sample-snapshot',
  SnapshotByTimeOffset: 'time-offset snapshot',
  ImageSprite: 'image-sprite',
  AdaptiveDynamicStreaming: 'adaptive-streaming',
  AnimatedGraphics: 'animated-graphics',
};
export const kindWords = (kind: TemplateKind): string => KIND_WORDS[kind];

/** Answers an app's templates: a preset of the kind, else the app's custom template; never another app's. */
export class AppTemplateCatalog implements TemplateCatalog {
  constructor(private readonly repo: DynamoTemplatesRepository) {}

  async get<K extends TemplateKind>(
    kind: K,
    definition: number,
    subAppId: number,
  ): Promise<TemplateOf<K> | undefined> {
    const preset = presetTemplate(kind, definition);
    if (preset) return preset;
    return (await this.repo.getTemplate(subAppId, kind, definition))?.template;
  }
}

function identify<K extends TemplateKind>(
  kind: K,
  body: object,
  definition: number,
  createTime: string,
  updateTime: string,
): TemplateOf<K> {
  return {
    Definition: kind === 'Transcode' ? String(definition) : definition,
    Type: 'Custom',
    ...body,
    CreateTime: createTime,
    UpdateTime: updateTime,
  } as unknown as TemplateOf<K>;
}

function presetRefused(kind: TemplateKind, definition: number, what: 'modified' | 'deleted'): ApiError {
  return new ApiError(
    'InvalidParameterValue.Definition',
    `Definition ${definition} is a preset ${kindWords(kind)} template: presets cannot be ${what}. ` +
      `Create a custom template (Create${TEMPLATE_ACTION_STEM[kind]}) instead.`,
  );
}

function notFound(kind: TemplateKind, definition: number): ApiError {
  return new ApiError(
    'ResourceNotFound.TemplateNotExist',
    `There is no custom ${kindWords(kind)} template with Definition ${definition} in this app.`,
  );
}

/** Create<Stem>: validates, allocates the app's next Definition of the kind, stores. */
export async function createTemplate(
  deps: TemplatesDeps,
  subAppId: number,
  kind: TemplateKind,
  raw: unknown,
): Promise<{ Definition: number }> {
  const body = parseCreateTemplate(kind, raw);
  const now = isoSeconds(deps.clock);
  try {
    const definition = await deps.templates.createTemplate(subAppId, kind, (def) =>
      identify(kind, body as object, def, now, now),
    );
    return { Definition: definition };
  } catch (e) {
    if (e instanceof TemplateLimitError) {
      throw new ApiError(
        'LimitExceeded.TooMuchTemplate',
        `An app has at most ${e.limit} custom ${kindWords(kind)} templates; delete one (Delete${TEMPLATE_ACTION_STEM[kind]}) before creating another.`,
      );
    }
    throw e;
  }
}

const definitionParam = z.object({ Definition: z.number().int() }).passthrough();
const deleteSchema = z.object({ ...common, Definition: z.number().int() }).strict();

/** Modify<Stem>: merges the given fields into the app's custom template and revalidates it. */
export async function modifyTemplate(
  deps: TemplatesDeps,
  subAppId: number,
  kind: TemplateKind,
  raw: unknown,
): Promise<Record<string, never>> {
  const { Definition: definition } = parseParams(definitionParam, raw);
  if (isPresetDefinition(kind, definition)) throw presetRefused(kind, definition, 'modified');
  try {
    await deps.templates.updateTemplate(subAppId, kind, definition, (existing) => {
      const next = applyModifyTemplate(kind, existing, raw);
      return identify(kind, next, definition, existing.CreateTime, isoSeconds(deps.clock));
    });
    return {};
  } catch (e) {
    if (e instanceof TemplateNotFoundError) throw notFound(kind, definition);
    throw e;
  }
}

/** Delete<Stem>: deletes the app's custom template unless a task-flow template uses it. */
export async function deleteTemplate(
  deps: TemplatesDeps,
  subAppId: number,
  kind: TemplateKind,
  raw: unknown,
): Promise<Record<string, never>> {
  const { Definition: definition } = parseParams(deleteSchema, raw);
  if (isPresetDefinition(kind, definition)) throw presetRefused(kind, definition, 'deleted');
  try {
    await deps.templates.deleteTemplate(subAppId, kind, definition);
    return {};
  } catch (e) {
    if (e instanceof TemplateNotFoundError) throw notFound(kind, definition);
    if (e instanceof TemplateInUseError) {
      throw new ApiError(
        'FailedOperation',
        `The ${kindWords(kind)} template ${definition} is used by task-flow template(s) ${e.procedures.map((p) => `"${p}"`).join(', ')}; ` +
          'change them (ResetProcedureTemplate) or delete them (DeleteProcedureTemplate) first.',
      );
    }
    throw e;
  }
}

const typeFilter = z.enum(['Preset', 'Custom']);
const pagingFields = {
  ...common,
  Definitions: z.array(z.number().int()).max(100).optional(),
  Type: typeFilter.optional(),
  Offset: z.number().int().min(0).optional(),
  Limit: z.number().int().min(1).max(100).optional(),
};
const describeSchema = z.object(pagingFields).strict();
const describeTranscodeSchema = z
  .object({
    ...pagingFields,
    ContainerType: z.enum(['Video', 'PureAudio']).optional(),
    TEHDType: z.enum(['Common', 'TEHD']).optional(),
    // No OpenVOD template enhances (EnhanceConfig is refused at creation): these filters match only "None".
    EnhanceType: z
      .enum(['VideoEnhance', 'AudioEnhance', 'AudioVideoEnhance', 'AnyEnhance', 'None'])
      .optional(),
    EnhanceScenarioType: z.string().max(64).optional(),
  })
  .strict();

const AUDIO_CONTAINERS = new Set(['mp3', 'flac', 'ogg', 'm4a', 'wav']);

function transcodeFilter(p: z.infer<typeof describeTranscodeSchema>): (t: TranscodeTemplate) => boolean {
  return (t) => {
    if (p.ContainerType) {
      const type = t.ContainerType || (AUDIO_CONTAINERS.has(t.Container) ? 'PureAudio' : 'Video');
      if (type !== p.ContainerType) return false;
    }
    if (p.TEHDType && (t.TEHDConfig?.Type ? 'TEHD' : 'Common') !== p.TEHDType) return false;
    if (p.EnhanceType && p.EnhanceType !== 'None') return false;
    if (p.EnhanceScenarioType) return false;
    return true;
  };
}

/** Describe<Stem>s: presets then the app's customs (each by Definition), filtered, paged, with TotalCount. */
export async function describeTemplates(
  deps: TemplatesDeps,
  subAppId: number,
  kind: TemplateKind,
  raw: unknown,
): Promise<Record<string, unknown>> {
  const p =
    kind === 'Transcode' ? parseParams(describeTranscodeSchema, raw) : parseParams(describeSchema, raw);
  const wanted = p.Definitions ? new Set(p.Definitions) : undefined;
  const presets = p.Type === 'Custom' ? [] : new PresetCatalog().list(kind);
  const customs =
    p.Type === 'Preset'
      ? []
      : wanted && ![...wanted].some((d) => d >= CUSTOM_DEFINITION_BASE)
        ? []
        : (await deps.templates.listTemplates(subAppId, kind)).map((s) => s.template);
  let all = [...presets, ...customs].filter((t) => !wanted || wanted.has(definitionOf(t)));
  if (kind === 'Transcode') {
    const keep = transcodeFilter(p as z.infer<typeof describeTranscodeSchema>);
    all = all.filter((t) => keep(t as TranscodeTemplate));
  }
  const offset = p.Offset ?? 0;
  const limit = p.Limit ?? 10;
  return { TotalCount: all.length, [`${TEMPLATE_ACTION_STEM[kind]}Set`]: all.slice(offset, offset + limit) };
}
