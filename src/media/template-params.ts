/**
 * Custom templates: the parameters of Create<Kind>Template / Modify<Kind>Template validated and turned into
 * template bodies (pure code, no storage). Field names, shapes and ranges are those of the official SDK's models
 * (`tencentcloud-sdk-nodejs-vod` `vod_models.d.ts`, 2018-07-17: CreateTranscodeTemplateRequest,
 * VideoTemplateInfo(ForUpdate), AudioTemplateInfo(ForUpdate), TEHDConfig(ForUpdate), AdaptiveStreamTemplate, …) and
 * Tencent's API pages (https://www.tencentcloud.com/document/api/266/34164 and its siblings).
 *
 * Every documented field is accepted or refused by name, never silently ignored:
 * - an unknown field → `InvalidParameter` naming it; a field of the wrong JSON type → `InvalidParameter`;
 * - a required field missing → `MissingParameter`;
 * - a value out of its range or set → `InvalidParameterValue.<Field>`, the message naming the parameter path and
 *   the allowed values. <Field> is the leaf name, except where Tencent's error codes for these actions use another
 *   (VideoTemplate.Codec → VideoCodec, AudioTemplate.Codec → AudioCodec, VideoTemplate.Bitrate → VideoBitrate,
 *   AudioTemplate.Bitrate → AudioBitrate, AudioTemplate.SampleRate → AudioSampleRate, TEHDConfig.Type → TEHDType);
 * - a documented value OpenVOD cannot honour (H.266, top speed codec, DRM, MPEG-DASH, EnhanceConfig, StdExtInfo,
 *   packed-audio HLS, …) → `InvalidParameterValue.<Field>` saying "not supported by OpenVOD".
 *
 * Rule decisions (where Tencent's documents are silent or contradict each other; marked `chosen` below):
 * - Audio-only containers (mp3, flac, ogg, m4a, wav) imply RemoveVideo=1: it is filled in when omitted, an explicit
 *   RemoveVideo=0 or a VideoTemplate is refused. Modify switching a template to an audio-only container sets
 *   RemoveVideo=1 and drops the stored VideoTemplate (a VideoTemplate in the same request is refused).
 * - A template never keeps a VideoTemplate while RemoveVideo=1 (nor an AudioTemplate while RemoveAudio=1): Create
 *   refuses the pair; Modify setting RemoveVideo=1 drops the stored VideoTemplate.
 * - Fields that only apply to some other setting (SegmentType and VideoTemplate.HlsTime: hls only; CodecTag: libx265
 *   only; VideoProfile other than `default`: libx264 only; Bframes: libx264/libx265 only) are refused when given
 *   where they do not apply; on Modify, a stored value that stops applying because another field changed is dropped
 *   (re-filled with its default where it applies again).
 * - Width/Height: odd values are accepted (the plan builder rounds sizes to even numbers).
 * - AV1: accepted (mp4 only, as Tencent documents): every ffmpeg OpenVOD ships (the Lambda layer's static build,
 *   Debian 12's 5.1 in the Fargate image) has the libaom-av1 encoder. libvpx-vp9 (mp4 only) and, in ogg, libvorbis
 *   and libopus are OpenVOD additions the plan builder encodes.
 * - Bitrate of a lossless audio codec (flac, pcm16) must be 0: it would have no effect.
 */
import { ApiError } from '../domain/errors';
import type {
  AdaptiveDynamicStreamingTemplate,
  AdaptiveStreamTemplate,
  AnimatedGraphicsTemplate,
  AudioTemplateInfo,
  ImageSpriteTemplate,
  SampleSnapshotTemplate,
  SnapshotByTimeOffsetTemplate,
  TEHDConfig,
  TemplateKind,
  TemplateOf,
  TranscodeTemplate,
  VideoTemplateInfo,
} from './templates';

export type TemplateBody<K extends TemplateKind> = Omit<
  TemplateOf<K>,
  'Definition' | 'Type' | 'CreateTime' | 'UpdateTime'
>;

/** The action-name stem per kind (Create<stem>, Modify<stem>, Delete<stem>, Describe<stem>s). */
export const TEMPLATE_ACTION_STEM: Record<TemplateKind, string> = {
  Transcode: 'TranscodeTemplate',
  SampleSnapshot: 'SampleSnapshotTemplate',
  SnapshotByTimeOffset: 'SnapshotByTimeOffsetTemplate',
  ImageSprite: 'ImageSpriteTemplate',
  AdaptiveDynamicStreaming: 'AdaptiveDynamicStreamingTemplate',
  AnimatedGraphics: 'AnimatedGraphicsTemplate',
};

/** Create<Kind>Template parameters validated; the template body with Tencent's documented defaults filled. */
export function parseCreateTemplate<K extends TemplateKind>(kind: K, raw: unknown): TemplateBody<K> {
  return CREATE[kind](raw) as TemplateBody<K>;
}

/**
 * Modify<Kind>Template: `existing` with the fields given in `raw` changed (VideoTemplate/AudioTemplate/TEHDConfig
 * merged field by field), re-validated as a whole. Definition/Type/CreateTime/UpdateTime are kept as they are.
 */
export function applyModifyTemplate<K extends TemplateKind>(
  kind: K,
  existing: TemplateOf<K>,
  raw: unknown,
): TemplateOf<K> {
  return MODIFY[kind](existing as never, raw) as TemplateOf<K>;
}

// ---------------------------------------------------------------------------------------------------------------
// Errors and shape checks.

type Obj = Record<string, unknown>;
type JsonKind = 'number' | 'string' | 'object' | 'array';
type KeySpec = Record<string, JsonKind>;

const join = (prefix: string, key: string) => (prefix ? `${prefix}.${key}` : key);

function invalid(field: string, message: string): ApiError {
  return new ApiError(`InvalidParameterValue.${field}`, message);
}

function unsupported(field: string, path: string, value: unknown, why = ''): ApiError {
  const shown = typeof value === 'string' ? `"${value}"` : JSON.stringify(value);
  return invalid(field, `${path} ${shown} is not supported by OpenVOD${why ? ` (${why})` : ''}.`);
}

function kindOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v;
}

/**
 * The object at `path`, checked: every key known (unknown → InvalidParameter), required keys present
 * (→ MissingParameter) and every value of its JSON type (→ InvalidParameter).
 */
function shape(value: unknown, path: string, keys: KeySpec, required: readonly string[] = []): Obj {
  if (kindOf(value) !== 'object') {
    throw new ApiError(
      'InvalidParameter',
      path
        ? `The parameter ${path} must be of type object, not ${kindOf(value)}.`
        : `The request parameters must be an object, not ${kindOf(value)}.`,
    );
  }
  const o = value as Obj;
  const unknown = Object.keys(o).filter((k) => !(k in keys));
  if (unknown.length) {
    throw new ApiError(
      'InvalidParameter',
      `Unknown parameter${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => join(path, k)).join(', ')}.`,
    );
  }
  for (const k of required) {
    if (o[k] === undefined)
      throw new ApiError('MissingParameter', `The parameter ${join(path, k)} is required.`);
  }
  for (const [k, v] of Object.entries(o)) {
    if (v === undefined) continue;
    if (kindOf(v) !== keys[k]) {
      throw new ApiError(
        'InvalidParameter',
        `The parameter ${join(path, k)} must be of type ${keys[k]}, not ${kindOf(v)}.`,
      );
    }
  }
  return o;
}

function missing(path: string, why = ''): ApiError {
  return new ApiError('MissingParameter', `The parameter ${path} is required${why ? ` ${why}` : ''}.`);
}

// ---------------------------------------------------------------------------------------------------------------
// Value checks.

interface IntRange {
  min: number;
  max?: number;
  /** What 0 means, when 0 is allowed besides [min, max]. */
  zero?: string;
}

function rangeText(r: IntRange): string {
  const span = r.max === undefined ? `at least ${r.min}` : `${r.min}–${r.max}`;
  return r.zero ? `0 (${r.zero}) or ${span}` : span;
}

/** An integer in range (undefined passes: presence is checked elsewhere). */
function checkInt(value: number | undefined, path: string, field: string, r: IntRange): void {
  if (value === undefined) return;
  const ok =
    Number.isInteger(value) &&
    ((r.zero !== undefined && value === 0) || (value >= r.min && (r.max === undefined || value <= r.max)));
  if (!ok)
    throw invalid(
      field,
      `${path} must be ${Number.isInteger(value) ? '' : 'an integer, '}${rangeText(r)}; got ${value}.`,
    );
}

function checkEnum<T extends string | number>(
  value: T | undefined,
  path: string,
  field: string,
  allowed: readonly T[],
): void {
  if (value === undefined || allowed.includes(value)) return;
  const shown = typeof value === 'string' ? `"${value}"` : String(value);
  throw invalid(field, `${path} must be one of ${allowed.join(', ')}; got ${shown}.`);
}

function checkLength(value: string | undefined, path: string, field: string, max: number): void {
  if (value === undefined) return;
  const n = [...value].length;
  if (n > max) throw invalid(field, `${path} must be at most ${max} characters; got ${n}.`);
}

function checkNameComment(t: { Name?: string; Comment?: string }): void {
  checkLength(t.Name, 'Name', 'Name', 64);
  checkLength(t.Comment, 'Comment', 'Comment', 256);
}

/** A 0|1 switch. */
function checkSwitch(value: number | undefined, path: string, field: string): void {
  checkEnum(value, path, field, [0, 1]);
}

const RESOLUTION_ADAPTIVE = ['open', 'close'] as const;
const FILL_TYPES = ['stretch', 'black', 'white', 'gauss'] as const;
const IMAGE_FORMATS = ['jpg', 'png', 'webp'] as const;
const SAMPLE_TYPES = ['Percent', 'Time'] as const;

/** Width/Height/ResolutionAdaptive/FillType of an image or video output. */
function checkSize(
  t: { Width?: number; Height?: number; ResolutionAdaptive?: string; FillType?: string },
  prefix: string,
  range: IntRange,
  fill = true,
): void {
  checkInt(t.Width, join(prefix, 'Width'), 'Width', range);
  checkInt(t.Height, join(prefix, 'Height'), 'Height', range);
  checkEnum(
    t.ResolutionAdaptive,
    join(prefix, 'ResolutionAdaptive'),
    'ResolutionAdaptive',
    RESOLUTION_ADAPTIVE,
  );
  if (fill) checkEnum(t.FillType, join(prefix, 'FillType'), 'FillType', FILL_TYPES);
}

/** Percent 1–100, Time at least 1 s. */
function checkSampling(t: { SampleType: string; SampleInterval: number }): void {
  checkEnum(t.SampleType, 'SampleType', 'SampleType', SAMPLE_TYPES);
  if (t.SampleType === 'Percent') {
    if (!(Number.isInteger(t.SampleInterval) && t.SampleInterval >= 1 && t.SampleInterval <= 100))
      throw invalid(
        'SampleInterval',
        `SampleInterval must be an integer 1–100 (a percentage of the duration) when SampleType is Percent; got ${t.SampleInterval}.`,
      );
  } else if (!(Number.isInteger(t.SampleInterval) && t.SampleInterval >= 1)) {
    // not documented; chosen: no upper bound (an interval past the end gives the first frame only).
    throw invalid(
      'SampleInterval',
      `SampleInterval must be an integer of at least 1 (seconds) when SampleType is Time; got ${t.SampleInterval}.`,
    );
  }
}

/** Empty/absent, or refused: a field OpenVOD recognizes but does not implement. */
function refuseIfSet(o: Obj, key: string, path: string, field = key, why = ''): void {
  const v = o[key];
  if (v === undefined || v === '') return;
  if (kindOf(v) === 'object' && Object.values(v as Obj).every((x) => x === undefined || x === null)) return;
  throw unsupported(field, join(path, key), v, why);
}

// ---------------------------------------------------------------------------------------------------------------
// Video and audio stream parameters (VideoTemplateInfo / AudioTemplateInfo and their ForUpdate forms).

const VIDEO_KEYS: KeySpec = {
  Codec: 'string',
  Fps: 'number',
  Bitrate: 'number',
  ResolutionAdaptive: 'string',
  Width: 'number',
  Height: 'number',
  FillType: 'string',
  Vcrf: 'number',
  Gop: 'number',
  GopUnit: 'string',
  PreserveHDRSwitch: 'string',
  CodecTag: 'string',
  Mode: 'string',
  Bframes: 'number',
  HlsTime: 'number',
  VideoProfile: 'string',
};
const AUDIO_KEYS: KeySpec = {
  Codec: 'string',
  Bitrate: 'number',
  SampleRate: 'number',
  AudioChannel: 'number',
};
/** AudioTemplateInfoForUpdate adds StreamSelects (only honoured inside OverrideParameter: refused here). */
const AUDIO_UPDATE_KEYS: KeySpec = { ...AUDIO_KEYS, StreamSelects: 'array' };
const TEHD_KEYS: KeySpec = { Type: 'string', MaxVideoBitrate: 'number' };

const AUDIO_ONLY = new Set(['mp3', 'flac', 'ogg', 'm4a', 'wav']);
const CONTAINERS = ['mp4', 'flv', 'hls', 'mp3', 'flac', 'ogg', 'm4a', 'wav'] as const;

/** Where a video/audio stream goes: a transcode container, or an adaptive streaming (HLS) substream. */
type StreamTarget = { container: string } | { adaptive: true };
const isAdaptive = (t: StreamTarget): t is { adaptive: true } => 'adaptive' in t;
const targetName = (t: StreamTarget) => (isAdaptive(t) ? 'adaptive streaming' : `a ${t.container} output`);

const X26X = new Set(['libx264', 'libx265']);

function checkVideoCodec(codec: string, p: string, target: StreamTarget): void {
  const path = `${p}.Codec`;
  if (codec === 'H.266') throw unsupported('VideoCodec', path, codec);
  const known = ['libx264', 'libx265', 'av1', 'libvpx-vp9'];
  if (!known.includes(codec))
    throw invalid(
      'VideoCodec',
      `${path} must be one of libx264, libx265, av1 (mp4 only), libvpx-vp9 (mp4 only); got "${codec}".`,
    );
  if (isAdaptive(target)) {
    if (!X26X.has(codec))
      throw unsupported('VideoCodec', path, codec, 'adaptive streaming substreams use libx264 or libx265');
    return;
  }
  const c = target.container;
  if ((codec === 'av1' || codec === 'libvpx-vp9') && c !== 'mp4')
    throw invalid('VideoCodec', `${path} "${codec}" is only allowed with Container mp4; got Container ${c}.`);
  if (c === 'flv' && codec !== 'libx264')
    throw unsupported('VideoCodec', path, codec, 'an flv output holds libx264 video only');
}

/** Full validation of one VideoTemplateInfo (after defaults). */
function checkVideo(v: Partial<VideoTemplateInfo>, p: string, target: StreamTarget): void {
  if (v.Codec === undefined) throw missing(`${p}.Codec`);
  if (v.Fps === undefined) throw missing(`${p}.Fps`);
  if (v.Bitrate === undefined) throw missing(`${p}.Bitrate`);
  checkVideoCodec(v.Codec, p, target);
  const codec = v.Codec;
  checkInt(v.Fps, `${p}.Fps`, 'Fps', { zero: 'as the source', min: 1, max: 100 });
  checkInt(v.Bitrate, `${p}.Bitrate`, 'VideoBitrate', { zero: 'automatic', min: 128, max: 100000 });
  checkSize(v, p, { zero: 'automatic', min: 128, max: 8192 });
  checkInt(v.Vcrf, `${p}.Vcrf`, 'Vcrf', { zero: 'off', min: 1, max: 51 });
  checkInt(v.Gop, `${p}.Gop`, 'Gop', { zero: 'automatic', min: 1, max: 100000 });
  checkEnum(v.GopUnit, `${p}.GopUnit`, 'GopUnit', ['frame', 'second']);
  if (isAdaptive(target) && v.Gop)
    throw unsupported(
      'Gop',
      `${p}.Gop`,
      v.Gop,
      'adaptive streaming renditions share aligned keyframes every 2 s; use 0',
    );

  checkEnum(v.PreserveHDRSwitch, `${p}.PreserveHDRSwitch`, 'PreserveHDRSwitch', ['ON', 'OFF']);

  checkEnum(v.CodecTag, `${p}.CodecTag`, 'CodecTag', ['hvc1', 'hev1']);
  if (v.CodecTag !== undefined && codec !== 'libx265')
    throw invalid('CodecTag', `${p}.CodecTag only applies to Codec libx265; got Codec ${codec}.`);

  checkEnum(v.Mode, `${p}.Mode`, 'Mode', ['VBR', 'ABR', 'CBR', 'VCRF']);
  if ((v.Mode === 'ABR' || v.Mode === 'CBR') && !v.Bitrate)
    throw invalid('Mode', `${p}.Mode ${v.Mode} needs ${p}.Bitrate set to 128–100000 kbps.`);
  if (v.Mode === 'VCRF' && !v.Vcrf) throw invalid('Mode', `${p}.Mode VCRF needs ${p}.Vcrf set to 1–51.`);
  if (v.Mode !== undefined && v.Mode !== 'VCRF' && v.Vcrf)
    throw invalid(
      'Mode',
      `${p}.Mode ${v.Mode} conflicts with ${p}.Vcrf ${v.Vcrf}: with Vcrf set the mode is VCRF.`,
    );

  if (v.Bframes !== undefined) {
    checkInt(v.Bframes, `${p}.Bframes`, 'Bframes', { min: 0, max: 16 });
    if (!X26X.has(codec))
      throw unsupported(
        'Bframes',
        `${p}.Bframes`,
        v.Bframes,
        `Bframes applies to libx264/libx265, not ${codec}`,
      );
  }

  checkInt(v.HlsTime, `${p}.HlsTime`, 'HlsTime', { zero: 'automatic', min: 1, max: 10 });
  if (v.HlsTime) {
    if (isAdaptive(target))
      throw invalid(
        'HlsTime',
        `${p}.HlsTime applies to transcode templates only; adaptive streaming uses SegmentDuration.`,
      );
    if (target.container !== 'hls')
      throw invalid(
        'HlsTime',
        `${p}.HlsTime only applies to Container hls; got Container ${target.container}.`,
      );
  }

  checkEnum(v.VideoProfile, `${p}.VideoProfile`, 'VideoProfile', ['baseline', 'main', 'high', 'default']);
  if (v.VideoProfile !== undefined && v.VideoProfile !== 'default') {
    if (codec !== 'libx264')
      throw invalid('VideoProfile', `${p}.VideoProfile only applies to Codec libx264; got Codec ${codec}.`);
    if (isAdaptive(target))
      throw unsupported(
        'VideoProfile',
        `${p}.VideoProfile`,
        v.VideoProfile,
        'adaptive streaming renditions use the high profile; use default',
      );
  }
}

/** The audio codecs a target may hold: Tencent's table (AudioTemplateInfo.Codec) + OpenVOD's additions. */
const AUDIO_CODECS: Record<string, { allowed: string[]; tencentOnly?: Record<string, string> }> = {
  mp4: { allowed: ['libfdk_aac', 'libmp3lame', 'mp2'] },
  flv: { allowed: ['libfdk_aac', 'libmp3lame'], tencentOnly: { mp2: 'an flv output cannot hold mp2 audio' } },
  hls: { allowed: ['libfdk_aac'] },
  mp3: { allowed: ['libmp3lame'] },
  m4a: { allowed: ['libfdk_aac', 'libmp3lame', 'ac3'] },
  flac: { allowed: ['flac'] },
  ogg: { allowed: ['flac', 'libvorbis', 'libopus'] }, // libvorbis, libopus: OpenVOD additions
  wav: { allowed: ['pcm16'] },
  adaptive: { allowed: ['libfdk_aac'] },
};
const LOSSLESS = new Set(['flac', 'pcm16']);

/** Full validation of one AudioTemplateInfo (after defaults). */
function checkAudio(a: Partial<AudioTemplateInfo>, p: string, target: StreamTarget): void {
  if (a.Codec === undefined) throw missing(`${p}.Codec`);
  if (a.Bitrate === undefined) throw missing(`${p}.Bitrate`);
  if (a.SampleRate === undefined) throw missing(`${p}.SampleRate`);
  const key = isAdaptive(target) ? 'adaptive' : target.container;
  const table = AUDIO_CODECS[key];
  const why = table.tencentOnly?.[a.Codec];
  if (why) throw unsupported('AudioCodec', `${p}.Codec`, a.Codec, why);
  if (!table.allowed.includes(a.Codec))
    throw invalid(
      'AudioCodec',
      `${p}.Codec must be one of ${table.allowed.join(', ')} for ${targetName(target)}; got "${a.Codec}".`,
    );
  checkInt(a.Bitrate, `${p}.Bitrate`, 'AudioBitrate', { zero: 'automatic', min: 26, max: 256 });
  if (LOSSLESS.has(a.Codec) && a.Bitrate !== 0)
    throw invalid(
      'AudioBitrate',
      `${p}.Bitrate must be 0 for the lossless codec ${a.Codec}; got ${a.Bitrate}.`,
    );
  const rates = a.Codec === 'pcm16' ? [16000, 32000, 44100, 48000] : [32000, 44100, 48000];
  if (!rates.includes(a.SampleRate))
    throw invalid(
      'AudioSampleRate',
      `${p}.SampleRate must be one of ${rates.join(', ')} Hz${a.Codec === 'pcm16' ? '' : ' (16000 only with pcm16)'}; got ${a.SampleRate}.`,
    );
  // ffmpeg's FLV muxer writes MP3 at 44100, 22050 or 11025 Hz only; of Tencent's rates that is 44100.
  if (!isAdaptive(target) && target.container === 'flv' && a.Codec === 'libmp3lame' && a.SampleRate !== 44100)
    throw invalid(
      'AudioSampleRate',
      `${p}.SampleRate must be 44100 for libmp3lame in flv; got ${a.SampleRate}.`,
    );
  if (a.Codec === 'libopus' && a.SampleRate !== 48000)
    throw invalid('AudioSampleRate', `${p}.SampleRate must be 48000 for libopus; got ${a.SampleRate}.`);
  checkEnum(a.AudioChannel, `${p}.AudioChannel`, 'AudioChannel', [0, 1, 2, 6]);
  if (a.AudioChannel === 6) {
    if (!isAdaptive(target) && AUDIO_ONLY.has(target.container))
      throw invalid(
        'AudioChannel',
        `${p}.AudioChannel 6 (5.1) is not allowed in an audio-only container (${target.container}); use 0, 1 or 2.`,
      );
    if (a.Codec === 'libmp3lame' || a.Codec === 'mp2')
      throw invalid(
        'AudioChannel',
        `${p}.AudioChannel 6 (5.1) is not possible with ${a.Codec}; use 0, 1 or 2.`,
      );
  }
}

/** VideoTemplateInfo defaults (Tencent's: ResolutionAdaptive open, Width/Height 0, FillType black, …). */
function videoDefaults(v: Partial<VideoTemplateInfo>, target: StreamTarget): Partial<VideoTemplateInfo> {
  const out: Partial<VideoTemplateInfo> = {
    ResolutionAdaptive: 'open',
    Width: 0,
    Height: 0,
    FillType: 'black',
    Vcrf: 0,
    Gop: 0,
    GopUnit: 'frame',
    PreserveHDRSwitch: 'OFF',
    ...v,
  };
  if (out.Mode === undefined) out.Mode = out.Vcrf ? 'VCRF' : 'VBR';
  if (out.Codec === 'libx265' && out.CodecTag === undefined) out.CodecTag = 'hvc1';
  if (out.Codec === 'libx264' && out.VideoProfile === undefined) out.VideoProfile = 'default';
  if (!isAdaptive(target) && target.container === 'hls' && out.HlsTime === undefined) out.HlsTime = 0;
  return out;
}

function audioDefaults(a: Partial<AudioTemplateInfo>): Partial<AudioTemplateInfo> {
  return { AudioChannel: 2, ...a };
}

/** TEHDConfig: only "off" ('' or OFF) is supported. */
function checkTehd(t: TEHDConfig | undefined, p: string): void {
  if (!t) return;
  if (t.Type === 'TEHD-100') throw unsupported('TEHDType', `${p}.Type`, t.Type, 'top speed codec; use OFF');
  if (t.Type !== '' && t.Type !== 'OFF')
    throw invalid('TEHDType', `${p}.Type must be "" or OFF (off), or TEHD-100; got "${t.Type}".`);
  if (t.MaxVideoBitrate)
    throw invalid(
      'MaxVideoBitrate',
      `${p}.MaxVideoBitrate only applies to top speed codec (TEHD), which is not supported by OpenVOD; use 0.`,
    );
}

function readVideo(value: unknown, path: string, update: boolean): Partial<VideoTemplateInfo> {
  return shape(
    value,
    path,
    VIDEO_KEYS,
    update ? [] : ['Codec', 'Fps', 'Bitrate'],
  ) as Partial<VideoTemplateInfo>;
}

function readAudio(value: unknown, path: string, update: boolean): Partial<AudioTemplateInfo> {
  const o = shape(
    value,
    path,
    update ? AUDIO_UPDATE_KEYS : AUDIO_KEYS,
    update ? [] : ['Codec', 'Bitrate', 'SampleRate'],
  );
  refuseIfSet(o, 'StreamSelects', path, 'StreamSelects', 'it only applies inside OverrideParameter');
  return o as Partial<AudioTemplateInfo>;
}

function readTehd(value: unknown, path: string, update: boolean): Partial<TEHDConfig> {
  return shape(value, path, TEHD_KEYS, update ? [] : ['Type']) as Partial<TEHDConfig>;
}

/** The fields of an object that were given (not undefined). */
function given<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

// ---------------------------------------------------------------------------------------------------------------
// Transcode.

type TranscodeBody = TemplateBody<'Transcode'>;

const TRANSCODE_KEYS: KeySpec = {
  Container: 'string',
  Name: 'string',
  Comment: 'string',
  RemoveVideo: 'number',
  RemoveAudio: 'number',
  VideoTemplate: 'object',
  AudioTemplate: 'object',
  TEHDConfig: 'object',
  EnhanceConfig: 'object',
  SegmentType: 'string',
  StdExtInfo: 'string',
  SubAppId: 'number',
};

function refuseEnhance(o: Obj, path = ''): void {
  refuseIfSet(o, 'EnhanceConfig', path);
  refuseIfSet(o, 'StdExtInfo', path);
}

/** Derived and default fields that depend on the container (after a Create or a Modify). */
function finishTranscode(t: TranscodeBody): TranscodeBody {
  const audioOnly = AUDIO_ONLY.has(t.Container);
  t.ContainerType = audioOnly ? 'PureAudio' : 'Video';
  if (t.Container === 'hls' && t.SegmentType === undefined) t.SegmentType = 'ts';
  const target = { container: t.Container };
  if (t.VideoTemplate) t.VideoTemplate = videoDefaults(t.VideoTemplate, target) as VideoTemplateInfo;
  if (t.AudioTemplate) t.AudioTemplate = audioDefaults(t.AudioTemplate) as AudioTemplateInfo;
  if (t.TEHDConfig === undefined) t.TEHDConfig = { Type: '', MaxVideoBitrate: 0 };
  else if (t.TEHDConfig.MaxVideoBitrate === undefined) t.TEHDConfig.MaxVideoBitrate = 0;
  return t;
}

function checkTranscode(t: TranscodeBody): TranscodeBody {
  checkEnum(t.Container, 'Container', 'Container', CONTAINERS);
  checkNameComment(t);
  checkSwitch(t.RemoveVideo, 'RemoveVideo', 'RemoveVideo');
  checkSwitch(t.RemoveAudio, 'RemoveAudio', 'RemoveAudio');
  const c = t.Container;
  if (AUDIO_ONLY.has(c)) {
    if (t.RemoveVideo !== 1)
      throw invalid(
        'RemoveVideo',
        `RemoveVideo must be 1 (or omitted) with Container ${c}: an ${c} output holds audio only.`,
      );
    if (t.RemoveAudio === 1)
      throw invalid('RemoveAudio', `RemoveAudio must be 0 with Container ${c}: an ${c} output needs audio.`);
  } else if (t.RemoveVideo === 1 && t.RemoveAudio === 1) {
    throw invalid(
      'RemoveAudio',
      'RemoveVideo and RemoveAudio cannot both be 1: nothing would be left to output.',
    );
  }
  if (t.RemoveVideo === 0 && !t.VideoTemplate) throw missing('VideoTemplate', 'when RemoveVideo is 0');
  if (t.RemoveAudio === 0 && !t.AudioTemplate) throw missing('AudioTemplate', 'when RemoveAudio is 0');
  if (t.RemoveVideo === 1 && t.VideoTemplate)
    throw invalid(
      'VideoTemplate',
      AUDIO_ONLY.has(c)
        ? `VideoTemplate is not allowed with Container ${c}: an ${c} output holds audio only.`
        : 'VideoTemplate is not allowed when RemoveVideo is 1 (it would not be used).',
    );
  if (t.RemoveAudio === 1 && t.AudioTemplate)
    throw invalid(
      'AudioTemplate',
      'AudioTemplate is not allowed when RemoveAudio is 1 (it would not be used).',
    );
  if (t.VideoTemplate) checkVideo(t.VideoTemplate, 'VideoTemplate', { container: c });
  if (t.AudioTemplate) checkAudio(t.AudioTemplate, 'AudioTemplate', { container: c });
  checkTehd(t.TEHDConfig, 'TEHDConfig');
  if (c === 'hls') checkEnum(t.SegmentType, 'SegmentType', 'SegmentType', ['ts', 'fmp4']);
  else if (t.SegmentType !== undefined)
    throw invalid('SegmentType', `SegmentType only applies to Container hls; got Container ${c}.`);
  return t;
}

function createTranscode(raw: unknown): TranscodeBody {
  const o = shape(raw, '', TRANSCODE_KEYS, ['Container']);
  refuseEnhance(o);
  const container = o.Container as string;
  const t: TranscodeBody = {
    Name: (o.Name as string | undefined) ?? '',
    Comment: (o.Comment as string | undefined) ?? '',
    Container: container,
    RemoveVideo: (o.RemoveVideo as number | undefined) ?? (AUDIO_ONLY.has(container) ? 1 : 0),
    RemoveAudio: (o.RemoveAudio as number | undefined) ?? 0,
  };
  if (o.VideoTemplate !== undefined)
    t.VideoTemplate = readVideo(o.VideoTemplate, 'VideoTemplate', false) as VideoTemplateInfo;
  if (o.AudioTemplate !== undefined)
    t.AudioTemplate = readAudio(o.AudioTemplate, 'AudioTemplate', false) as AudioTemplateInfo;
  if (o.TEHDConfig !== undefined)
    t.TEHDConfig = { ...readTehd(o.TEHDConfig, 'TEHDConfig', false) } as TEHDConfig;
  if (o.SegmentType !== undefined) t.SegmentType = o.SegmentType as string;
  return checkTranscode(finishTranscode(t));
}

function modifyTranscode(existing: TranscodeTemplate, raw: unknown): TranscodeTemplate {
  const o = shape(raw, '', { ...TRANSCODE_KEYS, Definition: 'number' }, ['Definition']);
  refuseEnhance(o);
  const t = structuredClone(existing);
  for (const k of ['Container', 'Name', 'Comment', 'RemoveVideo', 'RemoveAudio', 'SegmentType'] as const) {
    if (o[k] !== undefined) (t as unknown as Obj)[k] = o[k];
  }
  const vIn =
    o.VideoTemplate !== undefined ? given(readVideo(o.VideoTemplate, 'VideoTemplate', true)) : undefined;
  const aIn =
    o.AudioTemplate !== undefined ? given(readAudio(o.AudioTemplate, 'AudioTemplate', true)) : undefined;
  if (aIn) delete (aIn as Obj).StreamSelects;
  const tIn = o.TEHDConfig !== undefined ? given(readTehd(o.TEHDConfig, 'TEHDConfig', true)) : undefined;

  // Fields that stop applying because another field changed are dropped unless given in this request.
  const audioOnly = AUDIO_ONLY.has(t.Container);
  if (audioOnly && o.RemoveVideo === undefined) t.RemoveVideo = 1;
  if (t.RemoveVideo === 1 && !vIn) delete t.VideoTemplate;
  if (t.RemoveAudio === 1 && !aIn) delete t.AudioTemplate;
  if (t.Container !== 'hls' && o.SegmentType === undefined) delete t.SegmentType;

  if (vIn) {
    const v: Partial<VideoTemplateInfo> = { ...(t.VideoTemplate ?? {}), ...vIn };
    if (vIn.Bframes === -1) delete v.Bframes; // ForUpdate: -1 = back to automatic
    t.VideoTemplate = v as VideoTemplateInfo;
  }
  const v = t.VideoTemplate as Partial<VideoTemplateInfo> | undefined;
  if (v) {
    const explicit = (k: keyof VideoTemplateInfo) => vIn !== undefined && vIn[k] !== undefined;
    if (v.Codec !== 'libx265' && !explicit('CodecTag')) delete v.CodecTag;
    if (v.Codec !== 'libx264' && !explicit('VideoProfile')) delete v.VideoProfile;
    if (!X26X.has(v.Codec ?? '') && !explicit('Bframes')) delete v.Bframes;
    if (t.Container !== 'hls' && !explicit('HlsTime')) delete v.HlsTime;
    // Mode follows Vcrf when only Vcrf changed (VCRF ⇔ Vcrf set).
    if (explicit('Vcrf') && !explicit('Mode') && (v.Mode === 'VBR' || v.Mode === 'VCRF')) delete v.Mode;
  }
  if (aIn) t.AudioTemplate = { ...(t.AudioTemplate ?? {}), ...aIn } as AudioTemplateInfo;
  if (tIn) t.TEHDConfig = { ...(t.TEHDConfig ?? { Type: '' }), ...tIn } as TEHDConfig;

  checkTranscode(finishTranscode(t));
  return t;
}

// ---------------------------------------------------------------------------------------------------------------
// Snapshots, sprites, animated graphics.

const COMMON_KEYS: KeySpec = { Name: 'string', Comment: 'string', SubAppId: 'number' };
const SIZE_KEYS: KeySpec = { Width: 'number', Height: 'number', ResolutionAdaptive: 'string' };

/** Copies the given fields of `o` over `t`. */
function assignGiven<T extends object>(t: T, o: Obj, keys: KeySpec): T {
  for (const k of Object.keys(keys)) {
    if (k === 'SubAppId' || k === 'Definition') continue;
    if (o[k] !== undefined) (t as Obj)[k] = o[k];
  }
  return t;
}

type SampleBody = TemplateBody<'SampleSnapshot'>;
const SAMPLE_KEYS: KeySpec = {
  ...COMMON_KEYS,
  ...SIZE_KEYS,
  SampleType: 'string',
  SampleInterval: 'number',
  Format: 'string',
  FillType: 'string',
};
/** Snapshots: Width/Height 0 or 32–4096 (Create/ModifySampleSnapshotTemplate, …SnapshotByTimeOffset…). */
const SNAPSHOT_SIZE: IntRange = { zero: 'automatic', min: 32, max: 4096 };

function checkSample(t: SampleBody): SampleBody {
  checkNameComment(t);
  checkSampling(t);
  checkSize(t, '', SNAPSHOT_SIZE);
  checkEnum(t.Format, 'Format', 'Format', IMAGE_FORMATS);
  return t;
}

const imageDefaults = () => ({
  Name: '',
  Comment: '',
  Width: 0,
  Height: 0,
  ResolutionAdaptive: 'open' as const,
  Format: 'jpg',
  FillType: 'black' as const,
});

function createSample(raw: unknown): SampleBody {
  const o = shape(raw, '', SAMPLE_KEYS, ['SampleType', 'SampleInterval']);
  return checkSample(
    assignGiven({ ...imageDefaults(), SampleType: 'Time', SampleInterval: 0 } as SampleBody, o, SAMPLE_KEYS),
  );
}

function modifySample(existing: SampleSnapshotTemplate, raw: unknown): SampleSnapshotTemplate {
  const o = shape(raw, '', { ...SAMPLE_KEYS, Definition: 'number' }, ['Definition']);
  const t = assignGiven(structuredClone(existing), o, SAMPLE_KEYS);
  checkSample(t);
  return t;
}

type OffsetBody = TemplateBody<'SnapshotByTimeOffset'>;
const OFFSET_KEYS: KeySpec = { ...COMMON_KEYS, ...SIZE_KEYS, Format: 'string', FillType: 'string' };

function checkOffset(t: OffsetBody): OffsetBody {
  checkNameComment(t);
  checkSize(t, '', SNAPSHOT_SIZE);
  checkEnum(t.Format, 'Format', 'Format', IMAGE_FORMATS);
  return t;
}

function createOffset(raw: unknown): OffsetBody {
  const o = shape(raw, '', OFFSET_KEYS);
  return checkOffset(assignGiven(imageDefaults() as OffsetBody, o, OFFSET_KEYS));
}

function modifyOffset(existing: SnapshotByTimeOffsetTemplate, raw: unknown): SnapshotByTimeOffsetTemplate {
  const o = shape(raw, '', { ...OFFSET_KEYS, Definition: 'number' }, ['Definition']);
  const t = assignGiven(structuredClone(existing), o, OFFSET_KEYS);
  checkOffset(t);
  return t;
}

type SpriteBody = TemplateBody<'ImageSprite'>;
const SPRITE_KEYS: KeySpec = {
  ...COMMON_KEYS,
  ...SIZE_KEYS,
  SampleType: 'string',
  SampleInterval: 'number',
  RowCount: 'number',
  ColumnCount: 'number',
  FillType: 'string',
  Format: 'string',
};
/**
 * Sprite tiles: 0 or 32–4096. ModifyImageSpriteTemplate documents [32, 4096], CreateImageSpriteTemplate 0 and
 * [128, 4096]; the wider range wins, as Tencent's own preset sprite 10 has 142×80 tiles.
 */
const SPRITE_SIZE: IntRange = { zero: 'automatic', min: 32, max: 4096 };
/** not documented; chosen: 1–100 tiles a side (the sprite itself is limited to 15000 px a side). */
const SPRITE_GRID: IntRange = { min: 1, max: 100 };
const SPRITE_MAX_PX = 15000;

function checkSprite(t: SpriteBody): SpriteBody {
  checkNameComment(t);
  checkSampling(t);
  checkInt(t.RowCount, 'RowCount', 'RowCount', SPRITE_GRID);
  checkInt(t.ColumnCount, 'ColumnCount', 'ColumnCount', SPRITE_GRID);
  checkSize(t, '', SPRITE_SIZE);
  checkEnum(t.Format, 'Format', 'Format', IMAGE_FORMATS);
  // The sprite image is at most 15000 px a side. With ResolutionAdaptive open, Width is the long side and may be
  // laid out either way, so the longer given side counts for both directions.
  const open = t.ResolutionAdaptive !== 'close';
  const across = open ? Math.max(t.Width, t.Height) : t.Width;
  const down = open ? Math.max(t.Width, t.Height) : t.Height;
  if (across * t.ColumnCount > SPRITE_MAX_PX)
    throw invalid(
      'ColumnCount',
      `ColumnCount × tile width must be at most ${SPRITE_MAX_PX} px; got ${t.ColumnCount} × ${across} = ${t.ColumnCount * across}.`,
    );
  if (down * t.RowCount > SPRITE_MAX_PX)
    throw invalid(
      'RowCount',
      `RowCount × tile height must be at most ${SPRITE_MAX_PX} px; got ${t.RowCount} × ${down} = ${t.RowCount * down}.`,
    );
  return t;
}

function createSprite(raw: unknown): SpriteBody {
  const o = shape(raw, '', SPRITE_KEYS, ['SampleType', 'SampleInterval', 'RowCount', 'ColumnCount']);
  const base = {
    ...imageDefaults(),
    SampleType: 'Time',
    SampleInterval: 0,
    RowCount: 0,
    ColumnCount: 0,
  } as SpriteBody;
  return checkSprite(assignGiven(base, o, SPRITE_KEYS));
}

function modifySprite(existing: ImageSpriteTemplate, raw: unknown): ImageSpriteTemplate {
  const o = shape(raw, '', { ...SPRITE_KEYS, Definition: 'number' }, ['Definition']);
  const t = assignGiven(structuredClone(existing), o, SPRITE_KEYS);
  checkSprite(t);
  return t;
}

type AnimatedBody = TemplateBody<'AnimatedGraphics'>;
const ANIMATED_KEYS: KeySpec = {
  ...COMMON_KEYS,
  ...SIZE_KEYS,
  Fps: 'number',
  Format: 'string',
  Quality: 'number',
};
/** Animated graphics: 0 or 32–4096 (ModifyAnimatedGraphicsTemplate's range; its Create page says 128: the wider wins). */
const ANIMATED_SIZE: IntRange = { zero: 'automatic', min: 32, max: 4096 };

function checkAnimated(t: AnimatedBody): AnimatedBody {
  checkNameComment(t);
  checkInt(t.Fps, 'Fps', 'Fps', { min: 1, max: 30 });
  checkSize(t, '', ANIMATED_SIZE, false);
  checkEnum(t.Format, 'Format', 'Format', ['gif', 'webp']);
  checkInt(t.Quality, 'Quality', 'Quality', { min: 1, max: 100 });
  return t;
}

function createAnimated(raw: unknown): AnimatedBody {
  const o = shape(raw, '', ANIMATED_KEYS, ['Fps']);
  const base: AnimatedBody = {
    Name: '',
    Comment: '',
    Width: 0,
    Height: 0,
    ResolutionAdaptive: 'open',
    Format: 'gif',
    Fps: 0,
    Quality: 75,
  };
  return checkAnimated(assignGiven(base, o, ANIMATED_KEYS));
}

function modifyAnimated(existing: AnimatedGraphicsTemplate, raw: unknown): AnimatedGraphicsTemplate {
  const o = shape(raw, '', { ...ANIMATED_KEYS, Definition: 'number' }, ['Definition']);
  const t = assignGiven(structuredClone(existing), o, ANIMATED_KEYS);
  checkAnimated(t);
  return t;
}

// ---------------------------------------------------------------------------------------------------------------
// Adaptive dynamic streaming.

type AdaptiveBody = TemplateBody<'AdaptiveDynamicStreaming'>;
const ADAPTIVE_KEYS: KeySpec = {
  ...COMMON_KEYS,
  Format: 'string',
  StreamInfos: 'array',
  DrmType: 'string',
  DrmKeyProvider: 'string',
  DrmEncryptType: 'string',
  DisableHigherVideoBitrate: 'number',
  DisableHigherVideoResolution: 'number',
  SegmentType: 'string',
  SegmentDuration: 'number',
};
/** ModifyAdaptiveDynamicStreamingTemplateRequest has no Drm* fields. */
const ADAPTIVE_MODIFY_KEYS: KeySpec = (() => {
  const { DrmType: _a, DrmKeyProvider: _b, DrmEncryptType: _c, ...rest } = ADAPTIVE_KEYS;
  return { ...rest, Definition: 'number' };
})();
const STREAM_KEYS: KeySpec = {
  Video: 'object',
  Audio: 'object',
  RemoveAudio: 'number',
  RemoveVideo: 'number',
  TEHDConfig: 'object',
  EnhanceConfig: 'object',
  StdExtInfo: 'string',
};
const ADAPTIVE_SEGMENT_TYPES = [
  'ts',
  'ts-segment',
  'ts-ts-segment',
  'ts-byterange',
  'ts-ts-byterange',
  'mp4',
  'fmp4',
  'mp4-segment',
  'mp4-mp4-segment',
  'mp4-byterange',
  'mp4-mp4-byterange',
];
// ffmpeg's HLS muxer cannot write packed audio.
const ADAPTIVE_SEGMENT_UNSUPPORTED = [
  'ts-packed-audio',
  'mp4-packed-audio',
  'ts-packed-audio-byterange',
  'mp4-packed-audio-byterange',
];

/** StreamInfos read and defaulted (the whole list: Modify replaces it as a whole). */
function readStreams(value: unknown): AdaptiveStreamTemplate[] {
  const list = value as unknown[];
  if (list.length < 1 || list.length > 10)
    throw invalid('StreamInfos', `StreamInfos must hold 1–10 substreams; got ${list.length}.`);
  return list.map((item, i) => {
    const p = `StreamInfos.${i}`;
    const o = shape(item, p, STREAM_KEYS, ['Video', 'Audio']);
    refuseEnhance(o, p);
    const s: AdaptiveStreamTemplate = {
      Video: videoDefaults(readVideo(o.Video, `${p}.Video`, false), { adaptive: true }) as VideoTemplateInfo,
      Audio: audioDefaults(readAudio(o.Audio, `${p}.Audio`, false)) as AudioTemplateInfo,
      RemoveAudio: (o.RemoveAudio as number | undefined) ?? 0,
      RemoveVideo: (o.RemoveVideo as number | undefined) ?? 0,
    };
    if (o.TEHDConfig !== undefined) {
      s.TEHDConfig = {
        MaxVideoBitrate: 0,
        ...readTehd(o.TEHDConfig, `${p}.TEHDConfig`, false),
      } as TEHDConfig;
    }
    return s;
  });
}

function checkStreams(streams: AdaptiveStreamTemplate[]): void {
  if (streams.length < 1 || streams.length > 10)
    throw invalid('StreamInfos', `StreamInfos must hold 1–10 substreams; got ${streams.length}.`);
  streams.forEach((s, i) => {
    const p = `StreamInfos.${i}`;
    checkSwitch(s.RemoveAudio, `${p}.RemoveAudio`, 'RemoveAudio');
    checkSwitch(s.RemoveVideo, `${p}.RemoveVideo`, 'RemoveVideo');
    if (s.RemoveVideo === 1)
      throw unsupported(
        'RemoveVideo',
        `${p}.RemoveVideo`,
        1,
        'every adaptive streaming substream carries video',
      );
    checkVideo(s.Video, `${p}.Video`, { adaptive: true });
    checkAudio(s.Audio, `${p}.Audio`, { adaptive: true });
    checkTehd(s.TEHDConfig, `${p}.TEHDConfig`);
  });
}

function checkAdaptive(t: AdaptiveBody): AdaptiveBody {
  checkNameComment(t);
  if (t.Format === 'MPEG-DASH') throw unsupported('Format', 'Format', t.Format, 'use HLS');
  checkEnum(t.Format, 'Format', 'Format', ['HLS', 'MPEG-DASH']);
  if (t.DrmType) {
    if (!['SimpleAES', 'Widevine', 'FairPlay', 'Widevine+FairPlay'].includes(t.DrmType))
      throw invalid(
        'DrmType',
        `DrmType must be empty (no DRM) or one of SimpleAES, Widevine, FairPlay, Widevine+FairPlay; got "${t.DrmType}".`,
      );
    throw unsupported('DrmType', 'DrmType', t.DrmType, 'use an empty DrmType: no DRM');
  }
  if (t.DrmKeyProvider)
    throw unsupported('DrmKeyProvider', 'DrmKeyProvider', t.DrmKeyProvider, 'there is no DRM');
  checkSwitch(t.DisableHigherVideoBitrate, 'DisableHigherVideoBitrate', 'DisableHigherVideoBitrate');
  checkSwitch(t.DisableHigherVideoResolution, 'DisableHigherVideoResolution', 'DisableHigherVideoResolution');
  if (t.SegmentType !== undefined && ADAPTIVE_SEGMENT_UNSUPPORTED.includes(t.SegmentType))
    throw unsupported(
      'SegmentType',
      'SegmentType',
      t.SegmentType,
      `use one of ${ADAPTIVE_SEGMENT_TYPES.join(', ')}`,
    );
  checkEnum(t.SegmentType, 'SegmentType', 'SegmentType', ADAPTIVE_SEGMENT_TYPES);
  checkInt(t.SegmentDuration, 'SegmentDuration', 'SegmentDuration', { min: 1, max: 10 });
  checkStreams(t.StreamInfos);
  return t;
}

function createAdaptive(raw: unknown): AdaptiveBody {
  const o = shape(raw, '', ADAPTIVE_KEYS, ['Format', 'StreamInfos']);
  refuseIfSet(o, 'DrmEncryptType', '', 'DrmEncryptType', 'there is no DRM');
  const t: AdaptiveBody = {
    Name: '',
    Comment: '',
    Format: o.Format as string,
    DrmType: '',
    StreamInfos: readStreams(o.StreamInfos),
    DisableHigherVideoBitrate: 0,
    DisableHigherVideoResolution: 0,
    SegmentType: 'ts-segment',
    SegmentDuration: 6,
  };
  const { StreamInfos: _s, ...rest } = ADAPTIVE_KEYS;
  return checkAdaptive(assignGiven(t, o, rest));
}

function modifyAdaptive(
  existing: AdaptiveDynamicStreamingTemplate,
  raw: unknown,
): AdaptiveDynamicStreamingTemplate {
  const o = shape(raw, '', ADAPTIVE_MODIFY_KEYS, ['Definition']);
  const { StreamInfos: _s, ...rest } = ADAPTIVE_MODIFY_KEYS;
  const t = assignGiven(structuredClone(existing), o, rest);
  if (o.StreamInfos !== undefined) t.StreamInfos = readStreams(o.StreamInfos);
  checkAdaptive(t);
  return t;
}

// ---------------------------------------------------------------------------------------------------------------

const CREATE: { [K in TemplateKind]: (raw: unknown) => TemplateBody<K> } = {
  Transcode: createTranscode,
  SampleSnapshot: createSample,
  SnapshotByTimeOffset: createOffset,
  ImageSprite: createSprite,
  AdaptiveDynamicStreaming: createAdaptive,
  AnimatedGraphics: createAnimated,
};

const MODIFY: { [K in TemplateKind]: (existing: TemplateOf<K>, raw: unknown) => TemplateOf<K> } = {
  Transcode: modifyTranscode,
  SampleSnapshot: modifySample,
  SnapshotByTimeOffset: modifyOffset,
  ImageSprite: modifySprite,
  AdaptiveDynamicStreaming: modifyAdaptive,
  AnimatedGraphics: modifyAnimated,
};
