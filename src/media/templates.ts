/**
 * Processing templates: their types (field names as in the official SDK's models, `tencentcloud-sdk-nodejs-vod`
 * `vod_models.d.ts`, version 2018-07-17) and the preset templates with the IDs and parameters Tencent Cloud VOD
 * publishes in "Preset Parameter Template List" (预置参数模板列表):
 *   https://cloud.tencent.com/document/product/266/33932 (English: https://www.tencentcloud.com/document/product/266/33932)
 * and, for the screenshot/sprite presets, the identical MPS table:
 *   https://cloud.tencent.com/document/product/862/77168
 * A value marked `// not published; chosen` is not in those tables; it is what a user would expect.
 *
 * Lookups go through a `TemplateCatalog`; `PresetCatalog` answers the presets. The custom-templates work adds a
 * catalog that answers an app's own templates and falls back to this one.
 */
import type { FillType } from './fill';
import type { ResolutionAdaptive } from './resolution';

export type { FillType } from './fill';
export type { ResolutionAdaptive } from './resolution';

export type TemplateType = 'Preset' | 'Custom';

/** VideoTemplateInfo. */
export interface VideoTemplateInfo {
  /** libx264 | libx265 | av1 | H.266 (| libvpx-vp9 accepted here), or `copy` for a remux template. */
  Codec: string;
  /** Hz; 0 = as the source. Never raised above the source's rate. */
  Fps: number;
  /** kbps; 0 = automatic. */
  Bitrate: number;
  ResolutionAdaptive?: ResolutionAdaptive;
  /** Width (or long side when ResolutionAdaptive is open); 0 = automatic. */
  Width?: number;
  /** Height (or short side when ResolutionAdaptive is open); 0 = automatic. */
  Height?: number;
  FillType?: FillType;
  /** Constant rate factor 1–51; when set, Bitrate is not used. */
  Vcrf?: number;
  /** Keyframe interval; 0 = automatic. */
  Gop?: number;
  GopUnit?: 'frame' | 'second';
  PreserveHDRSwitch?: 'ON' | 'OFF';
  /** hvc1 | hev1, H.265 only. */
  CodecTag?: string;
  Mode?: string;
  Bframes?: number;
  /** HLS segment duration in seconds (transcode templates); 0 = automatic. */
  HlsTime?: number;
  VideoProfile?: string;
}

/** AudioTemplateInfo. */
export interface AudioTemplateInfo {
  /** libfdk_aac | libmp3lame | mp2 | ac3 | flac | pcm16 (| libopus | libvorbis accepted here), or `copy`. */
  Codec: string;
  /** kbps; 0 = automatic. */
  Bitrate: number;
  /** Hz; 0 = as the source. */
  SampleRate: number;
  /** 1 mono, 2 stereo, 6 5.1, 0 = as the source. */
  AudioChannel?: number;
}

/** TEHDConfig (top speed codec). */
export interface TEHDConfig {
  Type: string;
  MaxVideoBitrate?: number;
}

/** TranscodeTemplate. `Definition` is a string, as in the SDK's model. */
export interface TranscodeTemplate {
  Definition: string;
  Type: TemplateType;
  Name: string;
  Comment: string;
  /** mp4 | flv | hls | mp3 | flac | ogg | m4a | wav. */
  Container: string;
  RemoveVideo: number;
  RemoveAudio: number;
  VideoTemplate?: VideoTemplateInfo;
  AudioTemplate?: AudioTemplateInfo;
  TEHDConfig?: TEHDConfig;
  /** Video | PureAudio. */
  ContainerType?: string;
  /** ts | fmp4 (hls only). */
  SegmentType?: string;
  CreateTime: string;
  UpdateTime: string;
}

/** SampleSnapshotTemplate. */
export interface SampleSnapshotTemplate {
  Definition: number;
  Type: TemplateType;
  Name: string;
  Comment: string;
  Width: number;
  Height: number;
  ResolutionAdaptive: ResolutionAdaptive;
  /** jpg | png | webp. */
  Format: string;
  SampleType: 'Percent' | 'Time';
  SampleInterval: number;
  CreateTime: string;
  UpdateTime: string;
  FillType: FillType;
}

/** SnapshotByTimeOffsetTemplate (also what CoverBySnapshot uses). */
export interface SnapshotByTimeOffsetTemplate {
  Definition: number;
  Type: TemplateType;
  Name: string;
  Comment: string;
  Width: number;
  Height: number;
  ResolutionAdaptive: ResolutionAdaptive;
  Format: string;
  CreateTime: string;
  UpdateTime: string;
  FillType: FillType;
}

/** ImageSpriteTemplate. */
export interface ImageSpriteTemplate {
  Definition: number;
  Type: TemplateType;
  Name: string;
  Comment: string;
  /** Tile width (or long side when open). */
  Width: number;
  /** Tile height (or short side when open). */
  Height: number;
  ResolutionAdaptive: ResolutionAdaptive;
  SampleType: 'Percent' | 'Time';
  SampleInterval: number;
  RowCount: number;
  ColumnCount: number;
  CreateTime: string;
  UpdateTime: string;
  FillType: FillType;
  Format: string;
}

/** AdaptiveStreamTemplate: one rendition (substream) of an adaptive streaming template. */
export interface AdaptiveStreamTemplate {
  Video: VideoTemplateInfo;
  Audio: AudioTemplateInfo;
  RemoveAudio?: number;
  RemoveVideo?: number;
  TEHDConfig?: TEHDConfig;
}

/** AdaptiveDynamicStreamingTemplate. */
export interface AdaptiveDynamicStreamingTemplate {
  Definition: number;
  Type: TemplateType;
  Name: string;
  Comment: string;
  /** HLS (MPEG-DASH is refused by the builder). */
  Format: string;
  DrmType: string;
  DrmKeyProvider?: string;
  StreamInfos: AdaptiveStreamTemplate[];
  DisableHigherVideoBitrate: number;
  DisableHigherVideoResolution: number;
  CreateTime: string;
  UpdateTime: string;
  /** ts | fmp4 (and Tencent's ts-segment / mp4-segment spellings). */
  SegmentType?: string;
  /** Seconds; Tencent's default is 6. */
  SegmentDuration?: number;
}

/** AnimatedGraphicsTemplate. */
export interface AnimatedGraphicsTemplate {
  Definition: number;
  Type: TemplateType;
  Name: string;
  Comment: string;
  Width: number;
  Height: number;
  ResolutionAdaptive: ResolutionAdaptive;
  /** gif | webp. */
  Format: string;
  Fps: number;
  /** 1–100, webp only; Tencent's default 75. */
  Quality: number;
  CreateTime: string;
  UpdateTime: string;
}

export type TemplateKind =
  | 'Transcode'
  | 'SampleSnapshot'
  | 'SnapshotByTimeOffset'
  | 'ImageSprite'
  | 'AdaptiveDynamicStreaming'
  | 'AnimatedGraphics';

export interface TemplateTypes {
  Transcode: TranscodeTemplate;
  SampleSnapshot: SampleSnapshotTemplate;
  SnapshotByTimeOffset: SnapshotByTimeOffsetTemplate;
  ImageSprite: ImageSpriteTemplate;
  AdaptiveDynamicStreaming: AdaptiveDynamicStreamingTemplate;
  AnimatedGraphics: AnimatedGraphicsTemplate;
}
export type TemplateOf<K extends TemplateKind> = TemplateTypes[K];

export const TEMPLATE_KINDS: readonly TemplateKind[] = [
  'Transcode',
  'SampleSnapshot',
  'SnapshotByTimeOffset',
  'ImageSprite',
  'AdaptiveDynamicStreaming',
  'AnimatedGraphics',
];

/** Where subtasks find their templates. */
export interface TemplateCatalog {
  get<K extends TemplateKind>(
    kind: K,
    definition: number,
    subAppId: number,
  ): Promise<TemplateOf<K> | undefined>;
}

// ---------------------------------------------------------------------------------------------------------------
// The presets.

/** not published; chosen: a fixed date, so Describe… answers are stable. */
const PRESET_TIME = '2019-01-01T00:00:00Z';

const AAC = 'libfdk_aac'; // Tencent's name; the builder encodes it with ffmpeg's native AAC encoder.

interface VideoPresetRow {
  definition: number;
  container: 'mp4' | 'hls';
  label: string;
  /** Short side ("按比例缩放 × 360": the long side follows the aspect ratio). */
  height: number;
  videoKbps: number;
  audioKbps: number;
}

// Transcode video presets: H.264 25 fps, AAC 44100 Hz stereo.
const VIDEO_ROWS: VideoPresetRow[] = [
  [100010, 100210, 'FLU', 360, 400, 64],
  [100020, 100220, 'SD', 540, 1000, 64],
  [100030, 100230, 'HD', 720, 1800, 128],
  [100040, 100240, 'FHD', 1080, 2500, 128],
  [100070, 100270, '2K', 1440, 3000, 160],
  [100080, 100280, '4K', 2160, 6000, 160],
].flatMap(([mp4, hls, label, height, videoKbps, audioKbps]) => [
  {
    definition: mp4 as number,
    container: 'mp4' as const,
    label: label as string,
    height: height as number,
    videoKbps: videoKbps as number,
    audioKbps: audioKbps as number,
  },
  {
    definition: hls as number,
    container: 'hls' as const,
    label: label as string,
    height: height as number,
    videoKbps: videoKbps as number,
    audioKbps: audioKbps as number,
  },
]);

function videoPreset(r: VideoPresetRow): TranscodeTemplate {
  return {
    Definition: String(r.definition),
    Type: 'Preset',
    Name: `STD-H264-${r.container.toUpperCase()}-${r.height}P`, // not published; chosen
    Comment: `${r.label}: H.264 ${r.videoKbps} kbps 25 fps, proportionally scaled × ${r.height}; AAC ${r.audioKbps} kbps 44100 Hz stereo`,
    Container: r.container,
    RemoveVideo: 0,
    RemoveAudio: 0,
    VideoTemplate: {
      Codec: 'libx264',
      Fps: 25,
      Bitrate: r.videoKbps,
      ResolutionAdaptive: 'open',
      // Published as "proportionally scaled × <height>": the short side is <height> and the long side follows
      // the source's aspect ratio (640/960/1280/1920/2560/3840 for a 16:9 source), so Width is 0 (automatic).
      Width: 0,
      Height: r.height,
      FillType: 'black', // not published; chosen (Tencent's default; unused when one side is automatic)
      Vcrf: 0,
      Gop: 0, // not published; chosen (automatic: 2 s)
    },
    AudioTemplate: { Codec: AAC, Bitrate: r.audioKbps, SampleRate: 44100, AudioChannel: 2 },
    TEHDConfig: { Type: '', MaxVideoBitrate: 0 }, // not published; chosen (top speed codec off)
    ContainerType: 'Video',
    ...(r.container === 'hls' ? { SegmentType: 'ts' } : {}), // not published; chosen (Tencent's default ts)
    CreateTime: PRESET_TIME,
    UpdateTime: PRESET_TIME,
  };
}

function audioPreset(definition: number, container: 'm4a' | 'mp3', kbps: number): TranscodeTemplate {
  const codec = container === 'mp3' ? 'libmp3lame' : AAC;
  return {
    Definition: String(definition),
    Type: 'Preset',
    Name: `STD-${container.toUpperCase()}-${kbps}K`, // not published; chosen
    Comment: `audio only: ${container === 'mp3' ? 'MP3' : 'AAC'} ${kbps} kbps 44100 Hz stereo`,
    Container: container,
    RemoveVideo: 1,
    RemoveAudio: 0,
    AudioTemplate: { Codec: codec, Bitrate: kbps, SampleRate: 44100, AudioChannel: 2 },
    TEHDConfig: { Type: '', MaxVideoBitrate: 0 }, // not published; chosen (top speed codec off)
    ContainerType: 'PureAudio',
    CreateTime: PRESET_TIME,
    UpdateTime: PRESET_TIME,
  };
}

function remuxPreset(definition: number, container: 'mp4' | 'hls'): TranscodeTemplate {
  return {
    Definition: String(definition),
    Type: 'Preset',
    Name: `Remux-${container.toUpperCase()}`, // not published; chosen
    Comment: `remux into ${container.toUpperCase()} without re-encoding`,
    Container: container,
    RemoveVideo: 0,
    RemoveAudio: 0,
    // The table names only the target format; "copy" codecs express "no re-encoding". not published; chosen
    VideoTemplate: {
      Codec: 'copy',
      Fps: 0,
      Bitrate: 0,
      ResolutionAdaptive: 'open',
      Width: 0,
      Height: 0,
      FillType: 'black',
    },
    AudioTemplate: { Codec: 'copy', Bitrate: 0, SampleRate: 0, AudioChannel: 0 },
    ContainerType: 'Video',
    ...(container === 'hls' ? { SegmentType: 'ts' } : {}),
    CreateTime: PRESET_TIME,
    UpdateTime: PRESET_TIME,
  };
}

const TRANSCODE_PRESETS: TranscodeTemplate[] = [
  ...VIDEO_ROWS.map(videoPreset),
  remuxPreset(875, 'mp4'),
  remuxPreset(876, 'hls'),
  audioPreset(1010, 'mp3', 128),
  audioPreset(1020, 'mp3', 320),
  audioPreset(1100, 'm4a', 24),
  audioPreset(1110, 'm4a', 48),
  audioPreset(1120, 'm4a', 96),
  audioPreset(1130, 'm4a', 192),
  audioPreset(1140, 'm4a', 256),
].sort((a, b) => Number(a.Definition) - Number(b.Definition));

const SAMPLE_SNAPSHOT_PRESETS: SampleSnapshotTemplate[] = [
  {
    Definition: 10,
    Type: 'Preset',
    Name: 'SampleScreenshot', // not published; chosen
    Comment: 'JPG at the source size, one every 10 % of the duration',
    Width: 0,
    Height: 0,
    ResolutionAdaptive: 'open',
    Format: 'jpg',
    SampleType: 'Percent',
    SampleInterval: 10,
    CreateTime: PRESET_TIME,
    UpdateTime: PRESET_TIME,
    FillType: 'stretch',
  },
];

const SNAPSHOT_BY_TIME_OFFSET_PRESETS: SnapshotByTimeOffsetTemplate[] = [
  {
    Definition: 10,
    Type: 'Preset',
    Name: 'TimepointScreenshot', // the name the TaskFlow presets use for it
    Comment: 'JPG at the source size',
    Width: 0,
    Height: 0,
    ResolutionAdaptive: 'open',
    Format: 'jpg',
    CreateTime: PRESET_TIME,
    UpdateTime: PRESET_TIME,
    FillType: 'stretch',
  },
];

const IMAGE_SPRITE_PRESETS: ImageSpriteTemplate[] = [
  {
    Definition: 10,
    Type: 'Preset',
    Name: 'SpriteScreenshot', // the name the TaskFlow presets use for it
    Comment: 'JPG sprites of 10 × 10 tiles of 142 × 80, one tile every 10 s, with a WebVTT index',
    Width: 142,
    Height: 80,
    ResolutionAdaptive: 'open', // not published; chosen (Tencent's default)
    SampleType: 'Time',
    SampleInterval: 10,
    RowCount: 10,
    ColumnCount: 10,
    CreateTime: PRESET_TIME,
    UpdateTime: PRESET_TIME,
    FillType: 'stretch', // not published; chosen (tiles are always full; 142×80 is 16:9)
    Format: 'jpg',
  },
];

/** Adaptive streaming 10: "six substreams from FLU to 4K", H.264 24 fps, AAC 48 kbps 44100 Hz stereo. */
const ADAPTIVE_ROWS: Array<[number, number]> = [
  [240, 256],
  [480, 512],
  [720, 512], // as published: the table gives 512 kbps for both SD (480) and HD (720)
  [1080, 1024],
  [1440, 3072],
  [2160, 6144],
];

const ADAPTIVE_PRESETS: AdaptiveDynamicStreamingTemplate[] = [
  {
    Definition: 10,
    Type: 'Preset',
    Name: 'Adaptive-HLS', // the name the TaskFlow presets use for it
    Comment:
      'HLS, unencrypted, six substreams from FLU (240p) to 4K (2160p); no substream above the source resolution',
    Format: 'HLS',
    DrmType: '',
    StreamInfos: ADAPTIVE_ROWS.map(([height, kbps]) => ({
      Video: {
        Codec: 'libx264',
        Fps: 24,
        Bitrate: kbps,
        ResolutionAdaptive: 'open',
        Width: 0,
        Height: height,
        FillType: 'black',
        Vcrf: 0,
        Gop: 0,
      },
      Audio: { Codec: AAC, Bitrate: 48, SampleRate: 44100, AudioChannel: 2 },
      RemoveAudio: 0,
      RemoveVideo: 0,
    })),
    DisableHigherVideoBitrate: 0, // not published; chosen
    DisableHigherVideoResolution: 1,
    CreateTime: PRESET_TIME,
    UpdateTime: PRESET_TIME,
    SegmentType: 'ts', // not published; chosen
  },
];

function animatedPreset(definition: number, format: 'gif' | 'webp'): AnimatedGraphicsTemplate {
  return {
    Definition: definition,
    Type: 'Preset',
    Name: `${format.toUpperCase()}-2FPS`, // not published; chosen
    Comment: `${format.toUpperCase()} at the source size, 2 fps`,
    Width: 0,
    Height: 0,
    ResolutionAdaptive: 'open',
    Format: format,
    Fps: 2,
    Quality: 75, // not published; chosen (Tencent's default)
    CreateTime: PRESET_TIME,
    UpdateTime: PRESET_TIME,
  };
}

const ANIMATED_PRESETS: AnimatedGraphicsTemplate[] = [
  animatedPreset(20000, 'gif'),
  animatedPreset(20001, 'webp'),
];

/** The preset tables, per kind, sorted by Definition (for Describe…Templates). */
export const PRESETS: { readonly [K in TemplateKind]: readonly TemplateOf<K>[] } = {
  Transcode: TRANSCODE_PRESETS,
  SampleSnapshot: SAMPLE_SNAPSHOT_PRESETS,
  SnapshotByTimeOffset: SNAPSHOT_BY_TIME_OFFSET_PRESETS,
  ImageSprite: IMAGE_SPRITE_PRESETS,
  AdaptiveDynamicStreaming: ADAPTIVE_PRESETS,
  AnimatedGraphics: ANIMATED_PRESETS,
};

/** Answers the preset templates (the same for every app). Returns copies: callers may not change the tables. */
export class PresetCatalog implements TemplateCatalog {
  async get<K extends TemplateKind>(
    kind: K,
    definition: number,
    _subAppId: number,
  ): Promise<TemplateOf<K> | undefined> {
    return presetTemplate(kind, definition);
  }

  /** Every preset of a kind (copies). */
  list<K extends TemplateKind>(kind: K): TemplateOf<K>[] {
    return (PRESETS[kind] as readonly TemplateOf<K>[]).map((t) => structuredClone(t));
  }
}

/** The preset of a kind with that Definition, or undefined (synchronous; a copy). */
export function presetTemplate<K extends TemplateKind>(
  kind: K,
  definition: number,
): TemplateOf<K> | undefined {
  const table = PRESETS[kind] as readonly TemplateOf<K>[] | undefined;
  const found = table?.find((t) => Number(t.Definition) === Number(definition));
  return found === undefined ? undefined : structuredClone(found);
}

/** Whether a Definition is a preset's (presets are immutable: Modify/Delete must refuse them). */
export function isPresetDefinition(kind: TemplateKind, definition: number): boolean {
  return PRESETS[kind].some((t) => Number(t.Definition) === Number(definition));
}
