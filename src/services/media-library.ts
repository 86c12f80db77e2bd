import type { Logger } from '@aws-lambda-powertools/logger';
import { ApiError, classify } from '../domain/errors';
import { OUTPUT_DIRS, type Media } from '../domain/media';
import type { Subtask, SubtaskKind, Task } from '../domain/task';
import type { DynamoMediaRepository } from '../adapters/media-repo';
import {
  outputKey,
  type DynamoMediaLibraryRepository,
  type OutputRecord,
} from '../adapters/media-library-repo';
import type { MediaObjectRemover } from '../adapters/media-objects';
import { metaDataFacts } from '../media/facts';
import { expandValue, PACK_MIN, packKeys, unpackKeys, type PackedKeys } from '../domain/packed-lists';
import { isoNow, type Clock } from './ports';

/**
 * The media library: what each media has, kept as long as the media (tasks expire after 7 days, media do not).
 * A flow's successful outputs are recorded on its media when the flow finishes; DescribeMediaInfos and
 * SearchMedia read them in Tencent's MediaInfo shape; DeleteMedia removes a media or chosen outputs, objects
 * included.
 */
export interface MediaLibraryDeps {
  media: DynamoMediaRepository;
  library: DynamoMediaLibraryRepository;
  objects: MediaObjectRemover;
  /** Unfinished (WAITING/PROCESSING) tasks of a media. */
  fileTasks: { unfinished(fileId: string, subAppId: number): Promise<string[]> };
  /** The URL a business downloads a media-bucket object from. */
  publicUrl: (key: string) => string;
  region: string;
  clock: Clock;
  logger?: Logger;
}

// ---------------------------------------------------------------------------------------------------------
// Packing: outputs are stored with object keys instead of URLs (the download base may change: a CDN in front,
// another local port), and long key lists as a numbered range or a folder plus names (10,000 snapshots fit):
// the `$keys` form of src/domain/packed-lists.ts, which the tasks table uses for its subtask outputs too.

const KEY = '@key/';

function urlBase(publicUrl: (key: string) => string): string {
  return publicUrl('x').slice(0, -1);
}

function urlToKey(url: string, base: string): string | undefined {
  if (!url.startsWith(base)) return undefined;
  return url
    .slice(base.length)
    .split('/')
    .map((s) => decodeURIComponent(s))
    .join('/');
}

/** A subtask Output as stored on the media: URLs of the media bucket become keys, long key lists are packed. */
export function packOutput(value: unknown, publicUrl: (key: string) => string): unknown {
  const base = urlBase(publicUrl);
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') {
      const key = urlToKey(v, base);
      return key === undefined ? v : KEY + key;
    }
    if (Array.isArray(v)) {
      const items = v.map(walk);
      if (items.length >= PACK_MIN && items.every((s) => typeof s === 'string' && s.startsWith(KEY))) {
        return packKeys((items as string[]).map((s) => s.slice(KEY.length)));
      }
      return items;
    }
    if (v && typeof v === 'object')
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
    return v;
  };
  return walk(value);
}

/** The inverse of packOutput, with URLs built for the current download base. */
export function unpackOutput(value: unknown, publicUrl: (key: string) => string): unknown {
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') return v.startsWith(KEY) ? publicUrl(v.slice(KEY.length)) : v;
    if (Array.isArray(v)) return v.map(walk);
    if (v instanceof Set) return [...v].map(walk);
    if (v && typeof v === 'object') {
      const packed = (v as { $keys?: PackedKeys }).$keys;
      if (packed && Object.keys(v).length === 1) return unpackKeys(packed).map(publicUrl);
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
    }
    return v;
  };
  return walk(value);
}

// ---------------------------------------------------------------------------------------------------------
// Recording

/** The folder of an output's objects: `<SubAppId>/<FileId>/<kind>/<Definition>/` (as the worker writes them). */
export function outputPrefix(
  subAppId: number,
  fileId: string,
  kind: SubtaskKind,
  definition: number,
): string {
  return `${subAppId}/${fileId}/${OUTPUT_DIRS[kind]}/${definition}/`;
}

/**
 * Records the successful outputs of a flow on its media. Called once per flow end, before the task turns FINISH
 * (so a business that sees FINISH finds the outputs on the media), by the one step that always runs at the end
 * of a flow. Idempotent (a retry writes the same items) and race-free: one item per kind and definition, and of
 * two outputs of the same kind and definition (two flows, or a re-transcode) the one that ended later stays, as
 * Tencent replaces an output of the same definition. A CoverBySnapshot output sets the media's cover.
 * If the media was deleted while the flow ran, the outputs it just wrote are removed again.
 */
export async function recordFlowOutputs(
  deps: Pick<MediaLibraryDeps, 'library' | 'objects' | 'publicUrl' | 'clock' | 'logger'>,
  task: Task,
  subtasks: Subtask[],
): Promise<{ recorded: number; superseded: number; orphaned: number; failed: number }> {
  const result = { recorded: 0, superseded: 0, orphaned: 0, failed: 0 };
  if (!task.fileId) return result;
  for (const s of subtasks) {
    if (s.status !== 'SUCCESS' || !s.output) continue;
    try {
      // As the tasks table stores it (long lists compacted): expanded to the URLs first.
      const output = expandValue(s.output) as Record<string, unknown>;
      result[await recordOutput(deps, task, task.fileId, s, output)]++;
    } catch (e) {
      // Transient failures are retried (the flow's finalize step is); a permanent one must not keep the task
      // from finishing: the output stays in the task's result, and the failure is logged.
      const c = classify(e);
      if (c.transient) throw e;
      result.failed++;
      deps.logger?.error('output not recorded on the media', {
        fileId: task.fileId,
        kind: s.kind,
        definition: s.input.Definition,
        error: c.message,
      });
    }
  }
  if (result.orphaned) {
    deps.logger?.warn('media deleted while its flow ran; its new outputs were removed', {
      fileId: task.fileId,
      orphaned: result.orphaned,
    });
  }
  return result;
}

async function recordOutput(
  deps: Pick<MediaLibraryDeps, 'library' | 'objects' | 'publicUrl' | 'clock'>,
  task: Task,
  fileId: string,
  s: Subtask,
  output: Record<string, unknown>,
): Promise<'recorded' | 'superseded' | 'orphaned'> {
  const definition = Number(s.input.Definition ?? 0);
  const rec: OutputRecord = {
    fileId,
    subAppId: task.subAppId,
    kind: s.kind,
    definition,
    taskId: task.taskId,
    finishTime: s.finishTime ?? isoNow(deps.clock),
    prefix: outputPrefix(task.subAppId, fileId, s.kind, definition),
    output: packOutput(output, deps.publicUrl) as Record<string, unknown>,
  };
  const key = outputKey(s.kind, definition);
  if (!(await deps.library.putOutput(rec))) return 'superseded';
  if (!(await deps.library.attachOutput(fileId, key, isoNow(deps.clock)))) {
    // The media was deleted while this flow ran: leave nothing behind.
    await deps.library.deleteOutputItem(fileId, key);
    await deps.objects.deletePrefix(rec.prefix);
    return 'orphaned';
  }
  if (s.kind === 'CoverBySnapshot' && typeof output.CoverUrl === 'string' && output.CoverUrl) {
    await deps.library.setCover(fileId, output.CoverUrl, rec.finishTime);
  }
  return 'recorded';
}

// ---------------------------------------------------------------------------------------------------------
// Reading: MediaInfo

export const MEDIA_INFO_FILTERS = [
  'basicInfo',
  'metaData',
  'transcodeInfo',
  'animatedGraphicsInfo',
  'imageSpriteInfo',
  'snapshotByTimeOffsetInfo',
  'sampleSnapshotInfo',
  'keyFrameDescInfo',
  'adaptiveDynamicStreamingInfo',
  'miniProgramReviewInfo',
  'subtitleInfo',
  'reviewInfo',
  'mpsAiMediaInfo',
  'knowledgeBasesInfo',
] as const;
export type MediaInfoFilter = (typeof MEDIA_INFO_FILTERS)[number];

const NEVER_EXPIRES = '9999-12-31T23:59:59Z';
const byDefinition = (a: { Definition?: unknown }, b: { Definition?: unknown }) =>
  Number(a.Definition ?? 0) - Number(b.Definition ?? 0);

function extension(key: string): string {
  return /\.([A-Za-z0-9]{1,8})$/.exec(key)?.[1]?.toLowerCase() ?? '';
}

/** One media in Tencent's MediaInfo shape. Parts not asked for by `filters` are null. */
export function mediaInfo(
  deps: Pick<MediaLibraryDeps, 'publicUrl' | 'region'>,
  media: Media,
  outputs: OutputRecord[],
  filters: ReadonlySet<MediaInfoFilter>,
): Record<string, unknown> {
  const want = (f: MediaInfoFilter) => filters.has(f);
  const of = (kind: SubtaskKind) =>
    outputs
      .filter((o) => o.kind === kind)
      .map((o) => unpackOutput(o.output, deps.publicUrl) as Record<string, unknown>)
      .sort(byDefinition);
  const extra = media as Media & { description?: string };
  const mediaUrl = media.sourceDeleted ? '' : deps.publicUrl(media.key);
  const probe = media.metaData;
  const meta = probe ? metaDataFacts(probe) : undefined;

  const original =
    meta && !media.sourceDeleted
      ? [
          {
            Url: mediaUrl,
            Definition: 0,
            Bitrate: meta.Bitrate,
            Height: meta.Height,
            Width: meta.Width,
            Size: meta.Size,
            Duration: meta.Duration,
            Md5: '',
            Container: meta.Container,
            VideoStreamSet: meta.VideoStreamSet,
            AudioStreamSet: meta.AudioStreamSet,
            DigitalWatermarkType: 'None',
            CopyRightWatermarkText: '',
            BlindWatermarkDefinition: 0,
          },
        ]
      : [];
  const transcodes = [
    ...original,
    ...of('Transcode').map((t) => ({
      DigitalWatermarkType: 'None',
      CopyRightWatermarkText: '',
      BlindWatermarkDefinition: 0,
      ...t,
    })),
  ];
  const set = <T>(items: T[], field: string) => (items.length ? { [field]: items } : null);

  return {
    FileId: media.fileId,
    BasicInfo: want('basicInfo')
      ? {
          Name: media.name,
          Description: extra.description ?? '',
          CreateTime: media.createTime,
          UpdateTime: media.updateTime,
          ExpireTime: NEVER_EXPIRES,
          ClassId: media.classId ?? 0,
          ClassName: '',
          ClassPath: '',
          CoverUrl: media.coverUrl ?? '',
          Type: extension(media.key) || (probe?.container ?? ''),
          MediaUrl: mediaUrl,
          SourceInfo: {
            SourceType: 'Upload',
            SourceContext: media.sourceContext ?? '',
            LiveRecordInfo: null,
            TrtcRecordInfo: null,
            WebPageRecordInfo: null,
          },
          StorageRegion: deps.region,
          // The MediaStoragePath that names this media (ProcessMediaByProcedure): `/<key>` in the media bucket.
          StoragePath: `/${media.key}`,
          TagSet: [],
          Vid: '',
          Category: probe && !probe.video && probe.audio ? 'Audio' : 'Video',
          Status: 'Normal',
          StorageClass: 'STANDARD',
        }
      : null,
    MetaData: want('metaData') && meta ? meta : null,
    TranscodeInfo: want('transcodeInfo') ? set(transcodes, 'TranscodeSet') : null,
    AnimatedGraphicsInfo: want('animatedGraphicsInfo')
      ? set(of('AnimatedGraphics'), 'AnimatedGraphicsSet')
      : null,
    SampleSnapshotInfo: want('sampleSnapshotInfo') ? set(of('SampleSnapshot'), 'SampleSnapshotSet') : null,
    ImageSpriteInfo: want('imageSpriteInfo') ? set(of('ImageSprites'), 'ImageSpriteSet') : null,
    SnapshotByTimeOffsetInfo: want('snapshotByTimeOffsetInfo')
      ? set(of('SnapshotByTimeOffset'), 'SnapshotByTimeOffsetSet')
      : null,
    // OpenVOD has no key-frame descriptions, mini-program reviews, subtitles, reviews, MPS or knowledge bases.
    KeyFrameDescInfo: want('keyFrameDescInfo') ? { KeyFrameDescSet: [] } : null,
    AdaptiveDynamicStreamingInfo: want('adaptiveDynamicStreamingInfo')
      ? set(
          of('AdaptiveDynamicStreaming').map((a) => ({
            DigitalWatermarkType: 'None',
            CopyRightWatermarkText: '',
            BlindWatermarkDefinition: 0,
            SubtitleSet: [],
            DefaultSubtitleId: '',
            DrmEncryptType: '',
            ...a,
          })),
          'AdaptiveDynamicStreamingSet',
        )
      : null,
    MiniProgramReviewInfo: want('miniProgramReviewInfo') ? { MiniProgramReviewList: [] } : null,
    SubtitleInfo: want('subtitleInfo') ? { SubtitleSet: [] } : null,
    ReviewInfo: null,
    MPSAiMediaInfo: null,
    ImageUnderstandingInfo: null,
    KnowledgeBasesInfo: null,
    FaceRecognitionInfo: null,
  };
}

async function infos(
  deps: MediaLibraryDeps,
  medias: Media[],
  filters: ReadonlySet<MediaInfoFilter>,
): Promise<Array<Record<string, unknown>>> {
  const needOutputs = [...filters].some((f) => f !== 'basicInfo' && f !== 'metaData');
  const pks = needOutputs
    ? medias.flatMap((m) => [...(m.outputKeys ?? [])].map((k) => `OUTPUT#${m.fileId}#${k}`))
    : [];
  const outputs = pks.length ? await deps.library.batchGet(pks) : [];
  return medias.map((m) =>
    mediaInfo(
      deps,
      m,
      outputs.filter((o) => o.fileId === m.fileId && o.subAppId === m.subAppId),
      filters,
    ),
  );
}

const filterSet = (filters?: string[]): ReadonlySet<MediaInfoFilter> =>
  new Set((filters?.length ? filters : MEDIA_INFO_FILTERS) as MediaInfoFilter[]);

/** DescribeMediaInfos: FileIds of other apps (or none) are in NotExistFileIdSet. */
export async function describeMediaInfos(
  deps: MediaLibraryDeps,
  subAppId: number,
  p: { FileIds: string[]; Filters?: string[] },
): Promise<{ MediaInfoSet: Array<Record<string, unknown>>; NotExistFileIdSet: string[] }> {
  const ids = [...new Set(p.FileIds)];
  const found = await Promise.all(ids.map((id) => deps.media.get(id, subAppId)));
  const medias = found.filter((m): m is Media => Boolean(m));
  return {
    MediaInfoSet: await infos(deps, medias, filterSet(p.Filters)),
    NotExistFileIdSet: ids.filter((_, i) => !found[i]),
  };
}

// ---------------------------------------------------------------------------------------------------------
// Deleting

export const DELETE_PART_TYPES = [
  'OriginalFiles',
  'TranscodeFiles',
  'AdaptiveDynamicStreamingFiles',
  'WechatPublishFiles',
  'WechatMiniProgramPublishFiles',
] as const;
export type DeletePartType = (typeof DELETE_PART_TYPES)[number];

/** How long a deleted media's tombstone stays: S3 redelivers an upload's event for much less than this. */
export const MEDIA_TOMBSTONE_SECONDS = 7 * 24 * 3600;

const fileNotExist = (fileId: string) =>
  new ApiError('ResourceNotFound.FileNotExist', `FileId ${fileId} does not exist in this app.`);

/**
 * DeleteMedia. Without DeleteParts: the whole media (every object under `<SubAppId>/<FileId>/`, the original
 * file, every output record, the media). With DeleteParts: the chosen outputs (Definition 0: all of that type)
 * or the original file. Refused while a task of the media is waiting or running (FailedOperation): its flow
 * would lose its input or write outputs of a media that no longer exists. A later ProcessMedia of a deleted
 * media (or of one whose original file was deleted) is refused. Atomic against task starts: the media is
 * marked first (tombstone `deleteTime`, or `sourceDeleted`), which the task store's transaction checks, and
 * only then are unfinished tasks looked for. The tombstone stays 7 days (TTL) so that a late S3 redelivery
 * cannot register the media again. An original file outside the media's folder that another live media also
 * has (S3 uploads to one key twice) is kept.
 */
export async function deleteMedia(
  deps: MediaLibraryDeps,
  subAppId: number,
  p: { FileId: string; DeleteParts?: Array<{ Type: DeletePartType; Definition?: number }> },
): Promise<Record<string, never>> {
  const media = await deps.library.getRaw(p.FileId);
  if (!media || media.subAppId !== subAppId || media.deleted) throw fileNotExist(p.FileId);
  const parts = p.DeleteParts ?? [];
  // A deletion that was interrupted can be finished; nothing else sees a media being deleted.
  if (media.deleteTime && parts.length > 0) throw fileNotExist(p.FileId);
  const now = isoNow(deps.clock);
  const original = parts.some((x) => x.Type === 'OriginalFiles');
  // Atomic against task creation: first the mark that makes the task store refuse new tasks of the media
  // (tombstone, or source-deleted), then the unfinished-task check; a refusal takes the mark back.
  let undo: (() => Promise<void>) | undefined;
  if (parts.length === 0) {
    if (await deps.library.markDeleting(media.fileId, subAppId, now))
      undo = () => deps.library.unmarkDeleting(media.fileId, now);
  } else if (original && !media.sourceDeleted) {
    if (await deps.library.markSourceDeleted(media.fileId, now))
      undo = () => deps.library.unmarkSourceDeleted(media.fileId, now);
  }
  const running = await deps.fileTasks.unfinished(media.fileId, subAppId);
  if (running.length > 0) {
    await undo?.();
    throw new ApiError(
      'FailedOperation',
      `FileId ${media.fileId} has ${running.length === 1 ? 'a task' : 'tasks'} in progress (${running.slice(0, 3).join(', ')}); delete it after ${running.length === 1 ? 'that task finishes' : 'they finish'}.`,
    );
  }
  const keys = [...(media.outputKeys ?? [])];
  const split = (k: string) => {
    const i = k.lastIndexOf('#');
    return { kind: k.slice(0, i) as SubtaskKind, definition: Number(k.slice(i + 1)) };
  };
  const folder = `${subAppId}/${media.fileId}/`;
  /** The original file, unless it is outside the media's folder and another live media's (S3 rewrote the key). */
  const deleteSource = async () => {
    if (!media.key.startsWith(folder)) {
      const others = await deps.media.othersAtKey(media.key, subAppId, media.fileId);
      if (others.length > 0) {
        deps.logger?.info('original file kept: another media has it', { fileId: media.fileId, others });
        return;
      }
    }
    await deps.objects.deleteKeys([media.key]);
  };

  if (parts.length === 0) {
    await deps.objects.deletePrefix(folder);
    if (!media.key.startsWith(folder)) await deleteSource();
    for (const k of keys) await deps.library.deleteOutputItem(media.fileId, k);
    await deps.library.finishDeleting(
      media.fileId,
      Math.floor(deps.clock() / 1000) + MEDIA_TOMBSTONE_SECONDS,
    );
    deps.logger?.info('media deleted', { fileId: media.fileId, subAppId, outputs: keys.length });
    return {};
  }

  const chosen = new Set<string>();
  let processingCover = false;
  for (const part of parts) {
    const def = part.Definition ?? 0;
    const pick = (kind: SubtaskKind) => {
      for (const k of keys) {
        const o = split(k);
        if (o.kind === kind && (def === 0 || o.definition === def)) chosen.add(k);
      }
    };
    switch (part.Type) {
      case 'OriginalFiles':
        break;
      case 'TranscodeFiles':
        pick('Transcode');
        // As Tencent: deleting the transcoded files deletes the covers media processing made.
        if (def === 0) {
          pick('CoverBySnapshot');
          processingCover = true;
        }
        break;
      case 'AdaptiveDynamicStreamingFiles':
        pick('AdaptiveDynamicStreaming');
        break;
      case 'WechatPublishFiles':
      case 'WechatMiniProgramPublishFiles':
        // OpenVOD never publishes to WeChat: there is nothing of these to delete.
        break;
    }
  }
  const records = await deps.library.getOutputs(media.fileId, [...chosen]);
  for (const k of chosen) {
    const { kind, definition } = split(k);
    const rec = records.find((r) => outputKey(r.kind, r.definition) === k);
    await deps.objects.deletePrefix(rec?.prefix ?? outputPrefix(subAppId, media.fileId, kind, definition));
    if (kind === 'CoverBySnapshot' && rec && processingCover) {
      const url = unpackOutput(rec.output, deps.publicUrl) as { CoverUrl?: string };
      if (url.CoverUrl) await deps.library.clearCover(media.fileId, url.CoverUrl, now);
    }
    await deps.library.removeOutput(media.fileId, k, now);
  }
  // Marked above; deleted (again) on every call, so an interrupted deletion is finished by a retry.
  if (original) await deleteSource();
  deps.logger?.info('media parts deleted', {
    fileId: media.fileId,
    subAppId,
    outputs: [...chosen],
    original,
  });
  return {};
}

// ---------------------------------------------------------------------------------------------------------
// Searching

/** Tencent answers at most this many matches (Offset + Limit, and TotalCount). */
export const SEARCH_MAX_RESULTS = 5000;

export interface SearchQuery {
  fileIds?: string[];
  names?: string[];
  namePrefixes?: string[];
  text?: string;
  sourceTypes?: string[];
  categories?: string[];
  mediaTypes?: string[];
  classIds?: number[];
  storageRegions?: string[];
  storageClasses?: string[];
  status?: string[];
  createTime?: { after?: string; before?: string };
  order: 'Asc' | 'Desc';
  offset: number;
  limit: number;
  filters?: string[];
}

/** How well a name matches the fuzzy terms: 3 equal, 2 starts with, 1 contains, 0 no match (case-insensitive). */
function nameScore(name: string, terms: string[]): number {
  const n = name.toLowerCase();
  let best = 0;
  for (const t of terms.map((x) => x.toLowerCase())) {
    if (n === t) best = Math.max(best, 3);
    else if (n.startsWith(t)) best = Math.max(best, 2);
    else if (n.includes(t)) best = Math.max(best, 1);
  }
  return best;
}

/**
 * SearchMedia over the app's media index in creation order. Every given condition must hold (any element of a
 * list matches). With Names or Text the results are ordered by how well the name matches, then by Sort.
 */
export async function searchMedia(
  deps: MediaLibraryDeps,
  subAppId: number,
  q: SearchQuery,
): Promise<{ TotalCount: number; MediaInfoSet: Array<Record<string, unknown>> }> {
  const fuzzy = [...(q.names ?? []), ...(q.text ? [q.text] : [])];
  const ids = q.fileIds?.length ? new Set(q.fileIds) : undefined;
  const anyOf = <T>(list: T[] | undefined, v: T) => !list?.length || list.includes(v);
  const matches: Array<{ media: Media; score: number }> = [];
  await deps.library.scanApp(
    {
      subAppId,
      after: q.createTime?.after && new Date(q.createTime.after).toISOString(),
      before: q.createTime?.before && new Date(q.createTime.before).toISOString(),
      order: q.order,
    },
    (m) => {
      if (ids && !ids.has(m.fileId)) return true;
      const score = fuzzy.length ? nameScore(m.name, fuzzy) : 0;
      if (fuzzy.length && score === 0) return true;
      if (q.namePrefixes?.length && !q.namePrefixes.some((p) => m.name.startsWith(p))) return true;
      const probe = m.metaData;
      const category = probe && !probe.video && probe.audio ? 'Audio' : 'Video';
      const type = extension(m.key) || (probe?.container ?? '');
      const classId = m.classId ?? 0;
      if (
        !anyOf(q.sourceTypes, 'Upload') ||
        !anyOf(q.categories, category) ||
        !anyOf(
          q.mediaTypes?.map((t) => t.toLowerCase()),
          type,
        ) ||
        !anyOf(q.classIds, classId) ||
        !anyOf(q.storageRegions, deps.region) ||
        !anyOf(q.storageClasses, 'STANDARD') ||
        !anyOf(q.status, 'Normal')
      )
        return true;
      matches.push({ media: m, score });
      return matches.length < SEARCH_MAX_RESULTS;
    },
  );
  // A stable sort: equal scores keep the index (Sort) order.
  if (fuzzy.length) matches.sort((a, b) => b.score - a.score);
  const page = matches.slice(q.offset, q.offset + q.limit).map((x) => x.media);
  return { TotalCount: matches.length, MediaInfoSet: await infos(deps, page, filterSet(q.filters)) };
}
