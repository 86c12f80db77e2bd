import { z } from 'zod';
import type { ActionHandler } from './actions';
import { common, isoDateTime, parseParams } from './validation';
import { ApiError } from '../domain/errors';
import {
  DELETE_PART_TYPES,
  MEDIA_INFO_FILTERS,
  SEARCH_MAX_RESULTS,
  deleteMedia,
  describeMediaInfos,
  searchMedia,
  type DeletePartType,
  type MediaLibraryDeps,
} from '../services/media-library';

/** The media library's actions: DescribeMediaInfos, DeleteMedia, SearchMedia (shapes per the SDK models). */

const unsupported = (what: string) =>
  z
    .unknown()
    .refine(() => false, { message: `${what} is not supported by OpenVOD; remove it` })
    .optional();

const fileId = z.string().min(1).max(64);
const filters = z
  .array(
    z.string().refine((f) => (MEDIA_INFO_FILTERS as readonly string[]).includes(f), {
      message: `each filter is one of ${MEDIA_INFO_FILTERS.join(', ')}`,
    }),
  )
  .max(MEDIA_INFO_FILTERS.length);

const describeMediaInfosSchema = z
  .object({
    ...common,
    FileIds: z.array(fileId).min(1).max(20),
    Filters: filters.optional(),
  })
  .strict();

const deleteMediaSchema = z
  .object({
    ...common,
    FileId: fileId,
    DeleteParts: z
      .array(
        z
          .object({
            Type: z.enum(DELETE_PART_TYPES),
            Definition: z.number().int().min(0).optional(),
          })
          .strict(),
      )
      .max(100)
      .optional(),
  })
  .strict();

const names = (maxLen: number, max = 10) => z.array(z.string().min(1).max(maxLen)).max(max);
const timeRange = z.object({ After: isoDateTime.optional(), Before: isoDateTime.optional() }).strict();

const searchMediaSchema = z
  .object({
    ...common,
    FileIds: names(40).optional(),
    Names: names(100).optional(),
    NamePrefixes: names(100).optional(),
    Text: z.string().max(64).optional(),
    SourceTypes: names(64).optional(),
    SourceType: z.string().max(64).optional(),
    Categories: z
      .array(z.enum(['Video', 'Audio', 'Image']))
      .max(10)
      .optional(),
    MediaTypes: names(32).optional(),
    ClassIds: z.array(z.number().int().min(0)).max(10).optional(),
    StorageRegions: names(20, 20).optional(),
    StorageClasses: z
      .array(z.enum(['STANDARD', 'STANDARD_IA', 'ARCHIVE', 'DEEP_ARCHIVE']))
      .max(10)
      .optional(),
    Status: z
      .array(z.enum(['Normal', 'SystemForbidden', 'Forbidden']))
      .max(10)
      .optional(),
    CreateTime: timeRange.optional(),
    StartTime: isoDateTime.optional(),
    EndTime: isoDateTime.optional(),
    Sort: z
      .object({ Field: z.literal('CreateTime'), Order: z.enum(['Asc', 'Desc']) })
      .strict()
      .optional(),
    Offset: z.number().int().min(0).max(SEARCH_MAX_RESULTS).optional(),
    Limit: z.number().int().min(1).max(SEARCH_MAX_RESULTS).optional(),
    Filters: filters.optional(),
    Descriptions: unsupported('Descriptions (media descriptions)'),
    Tags: unsupported('Tags (media tags)'),
    StreamIds: unsupported('StreamIds (live recording)'),
    StreamId: unsupported('StreamId (live recording)'),
    StreamDomains: unsupported('StreamDomains (live recording)'),
    StreamPaths: unsupported('StreamPaths (live recording)'),
    ExpireTime: unsupported('ExpireTime (media never expire in OpenVOD)'),
    ReviewResults: unsupported('ReviewResults (content review)'),
    TrtcSdkAppIds: unsupported('TrtcSdkAppIds (TRTC recording)'),
    TrtcRoomIds: unsupported('TrtcRoomIds (TRTC recording)'),
    Vids: unsupported('Vids'),
    Vid: unsupported('Vid'),
    KnowledgeBases: unsupported('KnowledgeBases'),
  })
  .strict()
  .refine((p) => (p.Offset ?? 0) + (p.Limit ?? 10) <= SEARCH_MAX_RESULTS, {
    message: `Offset + Limit is at most ${SEARCH_MAX_RESULTS}`,
    path: ['Limit'],
  });

function library(services: { library?: MediaLibraryDeps }): MediaLibraryDeps {
  if (!services.library) {
    throw new ApiError('UnsupportedOperation', 'The media library is not configured in this deployment.');
  }
  return services.library;
}

export const MEDIA_ACTIONS: Record<string, ActionHandler> = {
  async DescribeMediaInfos(ctx, raw) {
    const p = parseParams(describeMediaInfosSchema, raw);
    return describeMediaInfos(library(ctx.services), ctx.subAppId, p);
  },

  async DeleteMedia(ctx, raw) {
    const p = parseParams(deleteMediaSchema, raw);
    return deleteMedia(library(ctx.services), ctx.subAppId, {
      FileId: p.FileId,
      DeleteParts: p.DeleteParts?.map((d) => ({ Type: d.Type as DeletePartType, Definition: d.Definition })),
    });
  },

  async SearchMedia(ctx, raw) {
    const p = parseParams(searchMediaSchema, raw);
    // The deprecated single-value fields, as Tencent reads them: CreateTime wins over StartTime/EndTime.
    const sourceTypes = [...(p.SourceTypes ?? []), ...(p.SourceType ? [p.SourceType] : [])];
    return searchMedia(library(ctx.services), ctx.subAppId, {
      fileIds: p.FileIds,
      names: p.Names,
      namePrefixes: p.NamePrefixes,
      text: p.Text || undefined,
      sourceTypes: sourceTypes.length ? sourceTypes : undefined,
      categories: p.Categories,
      mediaTypes: p.MediaTypes,
      classIds: p.ClassIds,
      storageRegions: p.StorageRegions,
      storageClasses: p.StorageClasses,
      status: p.Status,
      createTime: {
        after: p.CreateTime?.After ?? p.StartTime,
        before: p.CreateTime?.Before ?? p.EndTime,
      },
      order: p.Sort?.Order ?? 'Desc',
      offset: p.Offset ?? 0,
      limit: p.Limit ?? 10,
      filters: p.Filters,
    });
  },
};
