/**
 * Pure ffmpeg argument builders: template + probed source + where to read and write → the ffmpeg runs to make.
 *
 * Every output is written inside `io.outDir` (absolute paths). The runner (`runFfmpeg`) prefixes
 * `-hide_banner -nostdin -y -progress pipe:1 -nostats -loglevel error`; the builders never add them.
 *
 * Choices (where Tencent publishes nothing), documented once here:
 * - Sizes follow `outputSize` (resolution.ts) on the source's DISPLAY size; ffmpeg auto-rotates, so a rotated phone
 *   video comes out upright with no rotation flag. A box (Width and Height both set) keeps the picture's aspect
 *   ratio inside it and fills the rest per FillType: black/white padding, `gauss` = a blurred, box-filling copy
 *   behind the picture, `stretch` = distort to fill. Sizes are even.
 * - Fps 0 = the source's rate; a template rate above the source's is lowered to the source's (never raised).
 * - Bitrate 0 = automatic: CRF (x264 23, x265 28, VP9/AV1 32) capped by a maxrate of 0.12 bit per pixel per frame.
 *   Mode (rate control) with a Bitrate: VBR (the default) = an average (-b:v) with -maxrate 1.5× and -bufsize 2×;
 *   ABR = the average only; CBR = -b:v = -minrate = -maxrate over a one-second buffer (x264 nal-hrd=cbr, x265
 *   strict-cbr); VCRF = CRF (Vcrf, else the automatic CRF). Vcrf, when set, wins over Bitrate and Mode.
 * - Gop 0 = a keyframe every 2 s (never longer than an HLS segment). A template Gop (frames, or seconds × the output
 *   rate) is exact: no extra keyframes at scene cuts, closed GOPs in H.265. x264 uses `-preset veryfast`, x265
 *   `-preset fast` (cost-conscious VOD defaults). Bframes → -bf; VideoProfile baseline/main/high (x264), main (x265).
 * - PreserveHDRSwitch (needs the probe's colour facts, see ColorFacts): an HDR (PQ/HLG) source is tone-mapped to
 *   SDR BT.709 8-bit unless the switch is ON and the encoder is H.265/VP9/AV1, which keep it (10-bit, source tags).
 *   Images and animations are always SDR. An SDR source is never converted.
 * - FLV holds MP3 at 44100/22050/11025 Hz only: another SampleRate is refused; SampleRate 0 gives 44100 there.
 * - Audio: libfdk_aac is encoded with ffmpeg's native AAC encoder (same format). A source without audio gives an
 *   output without audio (no failure); an audio-only source with a video template gives an audio-only output in the
 *   same container (mp4/flv/hls can all hold audio alone). Only "nothing left to output" fails (60000).
 * - HLS: 10 s segments by default (VideoTemplate.HlsTime when set), `index.m3u8` + `seg_00000.ts` (or fMP4
 *   `init.mp4` + `seg_00000.m4s` for SegmentType fmp4), VOD playlist.
 * - Snapshots: Percent N → one image at 0 %, N %, 2N %… below 100 % (Percent 10 → 10 images at 0…90 %);
 *   Time N → one image at 0 s, N s, 2N s… below the video's duration (a 24.5 s video every 10 s → 3 images). The
 *   first image is the first frame. Images are `1.jpg`, `2.jpg`… in time order. Offsets at or past the end give
 *   the last frame.
 * - Sprites: tiles on the same schedule as snapshots; `RowCount × ColumnCount` tiles per image, filled row by row;
 *   the last image's unused tiles are black. Images `sprite_0.jpg`, `sprite_1.jpg`…; `sprite.vtt` maps each tile's
 *   time range to `sprite_N.jpg#xywh=x,y,w,h`. Tiles are always the template size (upscaled if needed).
 * - Adaptive streaming: one ffmpeg run encodes every rendition (aligned keyframes), `<i>/index.m3u8` each, and
 *   `master.m3u8` (written from extraFiles) lists them with BANDWIDTH/AVERAGE-BANDWIDTH/RESOLUTION/FRAME-RATE/CODECS.
 *   With DisableHigherVideoResolution=1 a rendition that would need upscaling is skipped; if that skips them all,
 *   the smallest one is kept at the source size. With DisableHigherVideoBitrate=1 bitrates are capped at the
 *   source's video bitrate. Every substream runs at the first substream's frame rate (as Tencent documents) with
 *   keyframes at the same instants (the first substream's Gop, else 2 s, never longer than SegmentDuration).
 *   SegmentType: ts / fmp4 (Tencent's `…-segment` spellings too); `…-byterange` = one media file per rendition
 *   (`media.ts` / `media.m4s`) addressed by EXT-X-BYTERANGE; packed audio is refused.
 */
import * as path from 'node:path';
import { ErrCode, PermanentError } from '../domain/errors';
import { fillTypeOf, type FillType } from './fill';
import { isUrl, type MediaProbe } from './probe';
import { fitInside, outputSize, type ResolutionAdaptive } from './resolution';
import type {
  AdaptiveDynamicStreamingTemplate,
  AnimatedGraphicsTemplate,
  AudioTemplateInfo,
  ImageSpriteTemplate,
  SampleSnapshotTemplate,
  SnapshotByTimeOffsetTemplate,
  TranscodeTemplate,
  VideoTemplateInfo,
} from './templates';

export interface FfmpegPlan {
  /** Each an ffmpeg argument array, without the binary and without -progress (the runner adds its own flags). */
  runs: string[][];
  /** Written into outDir after the runs (a WebVTT index, a master playlist). */
  extraFiles?: Array<{ path: string; content: string }>;
  /** Relative path in outDir of the primary output. */
  mainOutput?: string;
}

export interface PlanIo {
  /** A presigned http(s) URL or a local path. */
  input: string;
  /** Absolute directory every output goes into. */
  outDir: string;
}

const bad = (message: string) => new PermanentError(ErrCode.BadParameter, message);
const badSource = (message: string) => new PermanentError(ErrCode.BadSource, message);

// ---------------------------------------------------------------------------------------------------------------
// Shared pieces.

/** Seconds as ffmpeg reads them ("12.5"). */
export function seconds(s: number): string {
  return String(Math.round(Math.max(0, s) * 1000) / 1000);
}

/** Input options: http robustness, an input seek (frame-accurate when re-encoding) and a read limit. */
export function inputArgs(input: string, opts: { seek?: number; duration?: number } = {}): string[] {
  const a: string[] = [];
  if (isUrl(input))
    a.push(
      '-rw_timeout',
      '30000000',
      '-reconnect',
      '1',
      '-reconnect_streamed',
      '1',
      '-reconnect_delay_max',
      '4',
    );
  if (opts.seek !== undefined && opts.seek > 0) a.push('-ss', seconds(opts.seek));
  if (opts.duration !== undefined && opts.duration > 0) a.push('-t', seconds(opts.duration));
  a.push('-i', input);
  return a;
}

const videoMap = (src: MediaProbe) =>
  src.video?.streamIndex !== undefined ? `0:${src.video.streamIndex}` : '0:v:0?';
const audioMap = (src: MediaProbe) =>
  src.audio?.streamIndex !== undefined ? `0:${src.audio.streamIndex}` : '0:a:0?';
const videoLabel = (src: MediaProbe) =>
  src.video?.streamIndex !== undefined ? `[0:${src.video.streamIndex}]` : '[0:v:0]';

const IMAGE_CONTAINERS = new Set(['jpg', 'png', 'webp', 'bmp', 'tiff']);

/** How long the picture lasts: the video stream's duration, else the file's; 0 for a still image. */
export function videoDuration(src: MediaProbe): number {
  if (IMAGE_CONTAINERS.has(src.container)) return 0;
  return src.video?.durationSeconds ?? src.durationSeconds ?? 0;
}

function requireVideo(src: MediaProbe, what: string): NonNullable<MediaProbe['video']> {
  if (!src.video)
    throw badSource(`the source has no video stream; ${what} need${what.endsWith('s') ? '' : 's'} video`);
  return src.video;
}

/** An fps value for a filter: NTSC rates as exact fractions. */
export function fpsValue(fps: number): string {
  for (const base of [24, 30, 60, 120]) {
    if (Math.abs(fps - (base * 1000) / 1001) < 0.01) return `${base * 1000}/1001`;
  }
  return String(Math.round(fps * 1000) / 1000);
}

/** The rate a source can give: its base rate when variable (a VFR phone clip averaging 29.6 can give 30). */
export function sourceFps(video: NonNullable<MediaProbe['video']>): number {
  return Math.max(video.fps, video.maxFps ?? 0);
}

/** The output frame rate: the template's, never above the source's; 0 = keep the source's timing. */
export function outputFps(templateFps: number | undefined, srcFps: number): number {
  const t = templateFps && templateFps > 0 ? templateFps : 0;
  if (!t) return 0;
  return srcFps > 0 ? Math.min(t, srcFps) : t;
}

interface ScaleSpec {
  width: number;
  height: number;
  resolutionAdaptive: ResolutionAdaptive;
  fillType: FillType;
  allowUpscale?: boolean;
  /** Makes the internal labels of a gauss fill unique inside a larger graph. */
  labelPrefix?: string;
}

/**
 * Scaling filters for a template size, and the resulting frame size. Input frames are already upright
 * (auto-rotated) at the display size (the SAR is squared here).
 */
export function scaleFilters(
  src: NonNullable<MediaProbe['video']>,
  spec: ScaleSpec,
): { filters: string[]; width: number; height: number } {
  const display = { width: src.displayWidth, height: src.displayHeight };
  const out = outputSize({
    srcWidth: display.width,
    srcHeight: display.height,
    width: spec.width,
    height: spec.height,
    resolutionAdaptive: spec.resolutionAdaptive,
    allowUpscale: spec.allowUpscale,
  });
  if (out.width === 0 || out.height === 0)
    return { filters: ['setsar=1'], width: display.width, height: display.height };
  const box = spec.width > 0 && spec.height > 0;
  if (!box || spec.fillType === 'stretch') {
    return {
      filters: [`scale=${out.width}:${out.height}`, 'setsar=1'],
      width: out.width,
      height: out.height,
    };
  }
  const inner = fitInside(display, out);
  if (inner.width === out.width && inner.height === out.height) {
    return {
      filters: [`scale=${out.width}:${out.height}`, 'setsar=1'],
      width: out.width,
      height: out.height,
    };
  }
  const W = out.width;
  const H = out.height;
  if (spec.fillType === 'gauss') {
    const p = spec.labelPrefix ?? 'fill';
    return {
      filters: [
        `split=2[${p}bg][${p}fg];[${p}bg]scale=${W}:${H}:force_original_aspect_ratio=increase,crop=${W}:${H},gblur=sigma=20[${p}blur];` +
          `[${p}fg]scale=${inner.width}:${inner.height}[${p}pic];[${p}blur][${p}pic]overlay=(W-w)/2:(H-h)/2`,
        'setsar=1',
      ],
      width: W,
      height: H,
    };
  }
  const color = spec.fillType === 'white' ? 'white' : 'black';
  return {
    filters: [
      `scale=${inner.width}:${inner.height}`,
      `pad=${W}:${H}:(ow-iw)/2:(oh-ih)/2:color=${color}`,
      'setsar=1',
    ],
    width: W,
    height: H,
  };
}

function imageFormat(format: string | undefined): 'jpg' | 'png' | 'webp' {
  const f = (format || 'jpg').toLowerCase();
  if (f === 'jpg' || f === 'jpeg') return 'jpg';
  if (f === 'png' || f === 'webp') return f;
  throw bad(`the image format "${format}" is not supported (use jpg, png or webp)`);
}

function imageEncoder(fmt: 'jpg' | 'png' | 'webp'): string[] {
  if (fmt === 'jpg') return ['-c:v', 'mjpeg', '-q:v', '2'];
  if (fmt === 'png') return ['-c:v', 'png'];
  return ['-c:v', 'libwebp', '-quality', '80'];
}

/** When to sample: the step in seconds and how many samples (see the module comment). */
export function sampleSchedule(
  sampleType: string,
  interval: number,
  duration: number,
): { step: number; count: number } {
  if (!(interval > 0)) throw bad(`SampleInterval must be greater than 0 (got ${interval})`);
  if (sampleType === 'Percent') {
    if (interval > 100) throw bad(`a Percent SampleInterval is at most 100 (got ${interval})`);
    const step = (duration * interval) / 100;
    return { step, count: duration > 0 ? Math.ceil(100 / interval - 1e-9) : 1 };
  }
  if (sampleType !== 'Time') throw bad(`SampleType must be Percent or Time (got "${sampleType}")`);
  return { step: interval, count: duration > 0 ? Math.max(1, Math.ceil(duration / interval - 1e-9)) : 1 };
}

/** Frames at 0, step, 2·step… (timestamps rebased to 0). */
function sampleFilters(step: number, count: number): string[] {
  if (count <= 1 || !(step > 0)) return ['setpts=PTS-STARTPTS', 'select=eq(selected_n\\,0)'];
  return ['setpts=PTS-STARTPTS', `select=gte(t\\,selected_n*${Math.round(step * 1e6) / 1e6})`];
}

/** One still image at a time offset; at or past the end, the last frame. */
function stillRun(
  src: MediaProbe,
  input: string,
  at: number,
  filters: string[],
  fmt: 'jpg' | 'png' | 'webp',
  out: string,
): string[] {
  const duration = videoDuration(src);
  const t = Math.max(0, at);
  const nearEnd = duration > 0 && t >= duration - 0.5;
  const vf = filters.join(',');
  const common = ['-map', videoMap(src), '-an', '-sn', '-vf', vf, ...imageEncoder(fmt)];
  if (nearEnd) {
    // Decode the last two seconds and keep overwriting the one image: it ends as the last frame.
    return [
      ...inputArgs(input, { seek: Math.max(0, duration - 2) }),
      ...common,
      '-update',
      '1',
      '-f',
      'image2',
      out,
    ];
  }
  return [
    ...inputArgs(input, { seek: duration > 0 ? t : 0 }),
    ...common,
    '-frames:v',
    '1',
    '-update',
    '1',
    '-f',
    'image2',
    out,
  ];
}

// ---------------------------------------------------------------------------------------------------------------
// Transcode.

interface ContainerSpec {
  audioOnly: boolean;
  output: string;
  videoCodecs: string[];
  audioCodecs: string[];
  defaultAudio: string;
}

const CONTAINERS: Record<string, ContainerSpec> = {
  mp4: {
    audioOnly: false,
    output: 'video.mp4',
    videoCodecs: ['libx264', 'libx265', 'libaom-av1', 'libvpx-vp9'],
    audioCodecs: ['aac', 'libmp3lame', 'mp2', 'ac3', 'libopus'],
    defaultAudio: 'aac',
  },
  flv: {
    audioOnly: false,
    output: 'video.flv',
    videoCodecs: ['libx264'],
    audioCodecs: ['aac', 'libmp3lame'],
    defaultAudio: 'aac',
  },
  hls: {
    audioOnly: false,
    output: 'index.m3u8',
    videoCodecs: ['libx264', 'libx265'],
    audioCodecs: ['aac', 'libmp3lame', 'ac3'],
    defaultAudio: 'aac',
  },
  mp3: {
    audioOnly: true,
    output: 'audio.mp3',
    videoCodecs: [],
    audioCodecs: ['libmp3lame'],
    defaultAudio: 'libmp3lame',
  },
  m4a: {
    audioOnly: true,
    output: 'audio.m4a',
    videoCodecs: [],
    audioCodecs: ['aac', 'libmp3lame', 'ac3'],
    defaultAudio: 'aac',
  },
  flac: {
    audioOnly: true,
    output: 'audio.flac',
    videoCodecs: [],
    audioCodecs: ['flac'],
    defaultAudio: 'flac',
  },
  ogg: {
    audioOnly: true,
    output: 'audio.ogg',
    videoCodecs: [],
    audioCodecs: ['flac', 'libvorbis', 'libopus'],
    defaultAudio: 'libvorbis',
  },
  wav: {
    audioOnly: true,
    output: 'audio.wav',
    videoCodecs: [],
    audioCodecs: ['pcm_s16le'],
    defaultAudio: 'pcm_s16le',
  },
};

/** Tencent's video codec names → ffmpeg encoders. */
export function videoEncoder(codec: string): string {
  const c = codec.trim().toLowerCase();
  if (c === 'libx264' || c === 'h264' || c === 'h.264') return 'libx264';
  if (c === 'libx265' || c === 'h265' || c === 'h.265' || c === 'hevc') return 'libx265';
  if (c === 'av1' || c === 'libaom-av1' || c === 'libaom') return 'libaom-av1';
  if (c === 'libvpx-vp9' || c === 'vp9') return 'libvpx-vp9';
  if (c === 'copy') return 'copy';
  if (c === 'h.266' || c === 'h266' || c === 'vvc')
    throw bad('H.266 encoding is not supported; use libx264, libx265 or av1');
  throw bad(`the video codec "${codec}" is not supported (use libx264, libx265 or av1)`);
}

/** Tencent's audio codec names → ffmpeg encoders. */
export function audioEncoder(codec: string): string {
  const c = codec.trim().toLowerCase();
  if (c === 'libfdk_aac' || c === 'aac') return 'aac';
  if (c === 'libmp3lame' || c === 'mp3') return 'libmp3lame';
  if (c === 'mp2' || c === 'ac3' || c === 'flac' || c === 'libopus' || c === 'libvorbis' || c === 'copy')
    return c;
  if (c === 'opus') return 'libopus';
  if (c === 'vorbis') return 'libvorbis';
  if (c === 'pcm16' || c === 'pcm_s16le') return 'pcm_s16le';
  throw bad(`the audio codec "${codec}" is not supported`);
}

const LOSSLESS = new Set(['flac', 'pcm_s16le']);
const FLV_MP3_RATES = [44100, 22050, 11025];

/** Automatic maxrate (kbps): 0.12 bit per pixel per frame, at least 300 kbps. */
export function autoMaxrateKbps(width: number, height: number, fps: number): number {
  return Math.max(300, Math.round((width * height * (fps > 0 ? fps : 25) * 0.12) / 1000));
}

interface VideoEncodeOptions {
  encoder: string;
  video: VideoTemplateInfo;
  fps: number;
  width: number;
  height: number;
  container: string;
  segmentType?: 'ts' | 'fmp4';
  /** Output video stream index for per-stream options (`-b:v:0`); undefined = options for every video stream. */
  stream?: number;
  bitrateCapKbps?: number;
  /** The keyframe interval in frames, when the caller decides it (HLS segments, aligned renditions). */
  gopFrames?: number;
  /** No keyframes besides the GOP's (aligned renditions). */
  fixedGop?: boolean;
  /** 10-bit output (an HDR source kept HDR). */
  tenBit?: boolean;
}

/**
 * Colour facts of a source stream (ffprobe's color_transfer / color_primaries / color_space), when the probe
 * reports them. HDR = a PQ (smpte2084) or HLG (arib-std-b67) transfer.
 */
export interface ColorFacts {
  colorTransfer?: string;
  colorPrimaries?: string;
  colorSpace?: string;
}

const HDR_TRANSFERS = new Set(['smpte2084', 'arib-std-b67']);

export function isHdrSource(video: NonNullable<MediaProbe['video']> | undefined): boolean {
  const c = (video ?? {}) as ColorFacts;
  return HDR_TRANSFERS.has(String(c.colorTransfer ?? '').toLowerCase());
}

/** Encoders that can keep HDR (10-bit with BT.2020 tags); H.264 output is always SDR. */
const HDR_ENCODERS = new Set(['libx265', 'libvpx-vp9', 'libaom-av1']);

/** Whether an output keeps the source's HDR: PreserveHDRSwitch ON, an HDR source and an HDR-capable encoder. */
export function keepsHdr(
  v: VideoTemplateInfo,
  encoder: string,
  src: NonNullable<MediaProbe['video']>,
): boolean {
  return (
    String(v.PreserveHDRSwitch ?? '').toUpperCase() === 'ON' && isHdrSource(src) && HDR_ENCODERS.has(encoder)
  );
}

/**
 * PreserveHDRSwitch. OFF (the default), or ON where the output cannot keep HDR: an HDR source is tone-mapped to
 * SDR BT.709 (hable). ON with an HDR source and H.265/VP9/AV1: 10-bit output with the source's colour tags.
 * An SDR source is never converted (its tags, if any, pass through).
 */
export function colorFilters(
  v: VideoTemplateInfo,
  src: NonNullable<MediaProbe['video']>,
  encoder = videoEncoder(v.Codec),
): string[] {
  if (!isHdrSource(src) || keepsHdr(v, encoder, src)) return [];
  return [
    'zscale=t=linear:npl=100',
    'format=gbrpf32le',
    'zscale=p=bt709',
    'tonemap=tonemap=hable:desat=0',
    'zscale=t=bt709:m=bt709:r=tv',
    'format=yuv420p',
  ];
}

/** Output colour options matching `colorFilters`. */
export function colorArgs(
  v: VideoTemplateInfo,
  src: NonNullable<MediaProbe['video']>,
  encoder = videoEncoder(v.Codec),
  stream?: number,
): string[] {
  if (!isHdrSource(src)) return [];
  const o = (name: string) => (stream === undefined ? name : `${name}:v:${stream}`);
  if (!keepsHdr(v, encoder, src))
    return [
      o('-color_primaries'),
      'bt709',
      o('-color_trc'),
      'bt709',
      o('-colorspace'),
      'bt709',
      o('-color_range'),
      'tv',
    ];
  const c = src as ColorFacts;
  return [
    ...(c.colorPrimaries ? [o('-color_primaries'), c.colorPrimaries] : []),
    ...(c.colorTransfer ? [o('-color_trc'), c.colorTransfer] : []),
    ...(c.colorSpace ? [o('-colorspace'), c.colorSpace] : []),
  ];
}

/** Tencent's rate-control modes (VideoTemplateInfo.Mode); `VBR` when absent. */
export type RateMode = 'VBR' | 'ABR' | 'CBR' | 'VCRF';

export function rateModeOf(mode: string | undefined): RateMode {
  const m = String(mode ?? '')
    .trim()
    .toUpperCase();
  if (m === '' || m === 'VBR') return 'VBR';
  if (m === 'ABR' || m === 'CBR' || m === 'VCRF') return m;
  throw bad(`the rate-control Mode "${mode}" is not supported (use VBR, ABR, CBR or VCRF)`);
}

/** The default CRF of an encoder (automatic quality). */
function defaultCrf(encoder: string): number {
  return encoder === 'libx264' ? 23 : encoder === 'libx265' ? 28 : 32;
}

/** The keyframe interval in frames: the template's Gop (frames or seconds), else `autoSeconds` (2 s). */
export function gopFrames(video: VideoTemplateInfo, fps: number, autoSeconds = 2): number {
  const rate = fps > 0 ? fps : 25;
  if (video.Gop && video.Gop > 0)
    return Math.max(1, Math.round(video.GopUnit === 'second' ? video.Gop * rate : video.Gop));
  return Math.max(1, Math.round(autoSeconds * rate));
}

/** Encoder, rate control, GOP, profile, colour and pixel format for one video output. */
export function videoEncodeArgs(o: VideoEncodeOptions): {
  args: string[];
  maxrateKbps: number;
  avgKbps: number;
} {
  // `-b:v` / `-maxrate` for every video stream, `-b:v:1` / `-maxrate:v:1` for one.
  const typed = (name: string) => (o.stream === undefined ? `${name}:v` : `${name}:v:${o.stream}`);
  const plain = (name: string) => (o.stream === undefined ? name : `${name}:v:${o.stream}`);
  const v = o.video;
  const args: string[] = [typed('-c'), o.encoder];
  const fps = o.fps > 0 ? o.fps : 25;
  const x264 = o.encoder === 'libx264';
  const x265 = o.encoder === 'libx265';
  const x264Params: string[] = [];
  const x265Params: string[] = ['log-level=error'];
  if (x264) args.push(plain('-preset'), 'veryfast');
  if (x265) args.push(plain('-preset'), 'fast');
  if (o.encoder === 'libvpx-vp9')
    args.push(plain('-deadline'), 'good', plain('-cpu-used'), '4', plain('-row-mt'), '1');
  if (o.encoder === 'libaom-av1')
    args.push(plain('-cpu-used'), '8', plain('-row-mt'), '1', '-strict', 'experimental');

  // Rate control. Vcrf, when set, always means CRF (Tencent: "the bitrate no longer applies").
  const mode = v.Vcrf && v.Vcrf > 0 ? 'VCRF' : rateModeOf(v.Mode);
  let bitrate = v.Bitrate > 0 ? Math.round(v.Bitrate) : 0;
  if (bitrate && o.bitrateCapKbps && o.bitrateCapKbps > 0)
    bitrate = Math.min(bitrate, Math.max(64, Math.round(o.bitrateCapKbps)));
  const autoMax = autoMaxrateKbps(o.width, o.height, fps);
  let maxrate: number;
  let avg: number;
  if (mode === 'VCRF') {
    const crf = v.Vcrf && v.Vcrf > 0 ? Math.round(v.Vcrf) : defaultCrf(o.encoder);
    args.push(plain('-crf'), String(crf));
    if (o.encoder === 'libvpx-vp9' || o.encoder === 'libaom-av1') args.push(typed('-b'), '0');
    maxrate = autoMax;
    avg = Math.round(maxrate / 2);
  } else if (mode === 'CBR') {
    // Constant: the target is also the floor and the ceiling, over a one-second buffer.
    const rate = bitrate || Math.round(autoMax / 2);
    maxrate = rate;
    avg = rate;
    args.push(
      typed('-b'),
      `${rate}k`,
      plain('-minrate'),
      `${rate}k`,
      plain('-maxrate'),
      `${rate}k`,
      plain('-bufsize'),
      `${rate}k`,
    );
    if (x264) x264Params.push('nal-hrd=cbr');
    if (x265) x265Params.push('strict-cbr=1');
  } else if (bitrate > 0 && mode === 'ABR') {
    // Average: the mean over the file is the target; no peak limit.
    maxrate = bitrate * 2;
    avg = bitrate;
    args.push(typed('-b'), `${bitrate}k`);
  } else if (bitrate > 0) {
    // VBR: the mean is the target, peaks up to 1.5× over a two-second buffer.
    maxrate = Math.round(bitrate * 1.5);
    avg = bitrate;
    args.push(
      typed('-b'),
      `${bitrate}k`,
      plain('-maxrate'),
      `${maxrate}k`,
      plain('-bufsize'),
      `${bitrate * 2}k`,
    );
  } else {
    // Automatic: CRF capped at 0.12 bit per pixel per frame (ABR without a Bitrate is the same).
    maxrate = autoMax;
    avg = Math.round(maxrate / 2);
    if (x264 || x265) {
      args.push(
        plain('-crf'),
        String(defaultCrf(o.encoder)),
        plain('-maxrate'),
        `${maxrate}k`,
        plain('-bufsize'),
        `${maxrate * 2}k`,
      );
    } else {
      args.push(plain('-crf'), String(defaultCrf(o.encoder)), typed('-b'), '0');
    }
  }

  // GOP: a template Gop is exact (no extra keyframes at scene cuts), so players and segmenters can rely on it.
  const gop = o.gopFrames ?? gopFrames(v, fps);
  args.push(plain('-g'), String(gop));
  // Old libx265 wrappers (the 2018 static fallback) ignore -g: say it in x265's own terms too.
  if (x265) x265Params.push(`keyint=${gop}`);
  if (o.fixedGop || (v.Gop && v.Gop > 0)) {
    if (x264) args.push(plain('-keyint_min'), String(gop), plain('-sc_threshold'), '0');
    // Closed GOPs: with x265's default open GOPs a keyframe's leading pictures show before it.
    if (x265) x265Params.push(`min-keyint=${gop}`, 'scenecut=0', 'no-open-gop=1');
    if (o.encoder === 'libvpx-vp9' || o.encoder === 'libaom-av1')
      args.push(plain('-keyint_min'), String(gop));
  }
  if (v.Bframes !== undefined && v.Bframes !== null && v.Bframes >= 0 && (x264 || x265)) {
    const bf = Math.min(16, Math.round(v.Bframes));
    args.push(plain('-bf'), String(bf));
    if (x265) x265Params.push(`bframes=${bf}`);
  }
  const profile = String(v.VideoProfile ?? '')
    .trim()
    .toLowerCase();
  if (x264 && ['baseline', 'main', 'high'].includes(profile)) args.push(typed('-profile'), profile);
  if (x265 && o.container === 'hls' && !x265Params.includes('no-open-gop=1'))
    x265Params.push('no-open-gop=1');
  if (x265 && (profile === 'main' || o.tenBit)) args.push(typed('-profile'), o.tenBit ? 'main10' : 'main');
  if (x265 && (o.container === 'mp4' || o.segmentType === 'fmp4')) {
    args.push(typed('-tag'), String(v.CodecTag ?? '').toLowerCase() === 'hev1' ? 'hev1' : 'hvc1');
  }
  if (x264Params.length) args.push(plain('-x264-params'), x264Params.join(':'));
  if (x265) args.push(plain('-x265-params'), x265Params.join(':'));
  args.push(plain('-pix_fmt'), o.tenBit ? 'yuv420p10le' : 'yuv420p');
  return { args, maxrateKbps: maxrate, avgKbps: avg };
}

interface AudioEncodeOptions {
  audio: AudioTemplateInfo | undefined;
  encoder: string;
  container: string;
  /** Output audio stream index for per-stream options (`-b:a:0`); undefined = every audio stream. */
  stream?: number;
}

export function audioEncodeArgs(o: AudioEncodeOptions): string[] {
  const typed = (name: string) => (o.stream === undefined ? `${name}:a` : `${name}:a:${o.stream}`);
  const plain = (name: string) => (o.stream === undefined ? name : `${name}:a:${o.stream}`);
  if (o.encoder === 'copy') return [typed('-c'), 'copy'];
  const a = o.audio;
  const args = [typed('-c'), o.encoder];
  const bitrate = a && a.Bitrate > 0 ? Math.round(a.Bitrate) : LOSSLESS.has(o.encoder) ? 0 : 128;
  if (bitrate > 0 && !LOSSLESS.has(o.encoder)) args.push(typed('-b'), `${bitrate}k`);
  const rate = o.encoder === 'libopus' ? 48000 : a && a.SampleRate > 0 ? Math.round(a.SampleRate) : 0;
  if (rate > 0) args.push(plain('-ar'), String(rate));
  const channels = a?.AudioChannel ?? 2;
  if (channels > 0) {
    if (channels === 6 && (o.encoder === 'libmp3lame' || CONTAINERS[o.container]?.audioOnly)) {
      throw bad('an audio-only container or MP3 holds at most 2 channels; use AudioChannel 1 or 2');
    }
    args.push(plain('-ac'), String(channels));
  }
  return args;
}

/** HLS segment length of a transcode template: VideoTemplate.HlsTime, else 10 s. */
function hlsTimeOf(t: TranscodeTemplate): number {
  const h = t.VideoTemplate?.HlsTime;
  return h && h > 0 ? h : 10;
}

export interface TranscodeIo extends PlanIo {
  startTimeOffset?: number;
  endTimeOffset?: number;
}

export function planTranscode(t: TranscodeTemplate, src: MediaProbe, io: TranscodeIo): FfmpegPlan {
  const container = String(t.Container ?? '').toLowerCase();
  const spec = CONTAINERS[container];
  if (!spec)
    throw bad(
      `the container "${t.Container}" is not supported (use mp4, flv, hls, mp3, m4a, flac, ogg or wav)`,
    );
  const wantVideo = !spec.audioOnly && t.RemoveVideo !== 1;
  const wantAudio = t.RemoveAudio !== 1;
  if (!wantVideo && !wantAudio) {
    throw bad(
      spec.audioOnly
        ? `a ${container} output needs audio; RemoveAudio cannot be 1`
        : 'the template removes both video and audio',
    );
  }
  const hasVideo = wantVideo && src.video !== undefined;
  const hasAudio = wantAudio && src.audio !== undefined;
  if (!hasVideo && !hasAudio) {
    if (!src.audio && !wantVideo)
      throw badSource(`the source has no audio stream; this template makes audio only (${container})`);
    throw badSource('the source has no video stream and the template removes audio: nothing to output');
  }

  // Time range.
  const start = io.startTimeOffset ?? 0;
  if (!(start >= 0)) throw bad(`StartTimeOffset must be 0 or more (got ${io.startTimeOffset})`);
  const end = io.endTimeOffset;
  if (end !== undefined && !(end > start))
    throw bad(`EndTimeOffset (${end}) must be greater than StartTimeOffset (${start})`);
  if (src.durationSeconds > 0 && start > 0 && start >= src.durationSeconds) {
    throw bad(
      `StartTimeOffset (${start} s) is past the end of the source (${seconds(src.durationSeconds)} s)`,
    );
  }
  const duration =
    end !== undefined
      ? Math.min(end, src.durationSeconds > 0 ? src.durationSeconds : end) - start
      : undefined;

  const args = [...inputArgs(io.input, { seek: start, duration })];
  const segmentType: 'ts' | 'fmp4' = /fmp4|mp4/i.test(t.SegmentType ?? '') ? 'fmp4' : 'ts';
  const copyVideo =
    hasVideo && t.VideoTemplate !== undefined && videoEncoder(t.VideoTemplate.Codec) === 'copy';
  const audioCodec = hasAudio ? audioEncoder(t.AudioTemplate?.Codec ?? spec.defaultAudio) : undefined;

  if (hasVideo) {
    const video = src.video as NonNullable<MediaProbe['video']>;
    const vt: VideoTemplateInfo = t.VideoTemplate ?? { Codec: 'libx264', Fps: 0, Bitrate: 0 };
    const encoder = videoEncoder(vt.Codec);
    args.push('-map', videoMap(src));
    if (encoder === 'copy') {
      args.push('-c:v', 'copy');
    } else {
      if (!spec.videoCodecs.includes(encoder))
        throw bad(`a ${container} output cannot hold ${vt.Codec} video`);
      const fps = outputFps(vt.Fps, sourceFps(video));
      const scale = scaleFilters(video, {
        width: vt.Width ?? 0,
        height: vt.Height ?? 0,
        resolutionAdaptive: vt.ResolutionAdaptive === 'close' ? 'close' : 'open',
        fillType: fillTypeOf(vt.FillType),
      });
      const filters = [
        ...(fps > 0 ? [`fps=${fpsValue(fps)}`] : []),
        ...scale.filters,
        ...colorFilters(vt, video, encoder),
      ];
      args.push('-vf', filters.join(','));
      const rate = fps || video.fps;
      args.push(
        ...videoEncodeArgs({
          encoder,
          video: vt,
          fps: rate,
          width: scale.width,
          height: scale.height,
          container,
          segmentType,
          tenBit: keepsHdr(vt, encoder, video),
          // HLS segments are cut at keyframes: an automatic GOP is never longer than a segment.
          ...(container === 'hls' && !(vt.Gop && vt.Gop > 0)
            ? { gopFrames: gopFrames(vt, rate, Math.min(2, hlsTimeOf(t))) }
            : {}),
        }).args,
        ...colorArgs(vt, video, encoder),
      );
    }
  } else {
    args.push('-vn');
  }

  if (hasAudio && audioCodec) {
    if (audioCodec !== 'copy' && !spec.audioCodecs.includes(audioCodec)) {
      throw bad(`a ${container} output cannot hold ${t.AudioTemplate?.Codec ?? audioCodec} audio`);
    }
    let at = t.AudioTemplate;
    if (container === 'flv' && audioCodec === 'libmp3lame') {
      // FLV's MP3 sound format knows 44100, 22050 and 11025 Hz only.
      const rate = at && at.SampleRate > 0 ? at.SampleRate : (src.audio?.sampleRate ?? 0);
      if (at && at.SampleRate > 0 && !FLV_MP3_RATES.includes(rate))
        throw bad(`an flv output holds MP3 audio at 44100, 22050 or 11025 Hz only (got SampleRate ${rate})`);
      if (!FLV_MP3_RATES.includes(rate))
        at = { ...(at ?? { Codec: 'libmp3lame', Bitrate: 0 }), SampleRate: 44100 };
    }
    args.push('-map', audioMap(src), ...audioEncodeArgs({ audio: at, encoder: audioCodec, container }));
  } else {
    args.push('-an');
  }
  if (copyVideo && audioCodec === 'copy') {
    // A remux: every kept stream is copied.
    const i = args.indexOf('-c:v');
    args.splice(i, 2);
    const j = args.indexOf('-c:a');
    args.splice(j, 2);
    args.push('-c', 'copy');
  }
  args.push('-sn', '-dn', '-max_muxing_queue_size', '1024');

  const out = path.join(io.outDir, spec.output);
  switch (container) {
    case 'mp4':
      args.push('-movflags', '+faststart', '-f', 'mp4', out);
      break;
    case 'flv':
      args.push('-f', 'flv', out);
      break;
    case 'hls': {
      const hlsTime = hlsTimeOf(t);
      args.push(
        '-f',
        'hls',
        '-hls_time',
        String(hlsTime),
        '-hls_playlist_type',
        'vod',
        '-hls_list_size',
        '0',
      );
      if (segmentType === 'fmp4') {
        args.push('-hls_segment_type', 'fmp4', '-hls_fmp4_init_filename', 'init.mp4');
        args.push('-hls_segment_filename', path.join(io.outDir, 'seg_%05d.m4s'), out);
      } else {
        args.push('-hls_segment_filename', path.join(io.outDir, 'seg_%05d.ts'), out);
      }
      break;
    }
    case 'mp3':
      args.push('-f', 'mp3', out);
      break;
    case 'm4a':
      args.push(
        '-movflags',
        '+faststart',
        '-f',
        audioCodec === 'aac' || audioCodec === 'copy' ? 'ipod' : 'mp4',
        out,
      );
      break;
    default:
      args.push('-f', container, out);
  }
  return { runs: [args], mainOutput: spec.output };
}

// ---------------------------------------------------------------------------------------------------------------
// Snapshots.

function snapshotScale(
  video: NonNullable<MediaProbe['video']>,
  t: { Width: number; Height: number; ResolutionAdaptive: string; FillType: string },
  allowUpscale = false,
) {
  const scale = scaleFilters(video, {
    width: t.Width ?? 0,
    height: t.Height ?? 0,
    resolutionAdaptive: t.ResolutionAdaptive === 'close' ? 'close' : 'open',
    fillType: fillTypeOf(t.FillType),
    allowUpscale,
  });
  return { ...scale, filters: [...scale.filters, ...sdrFilters(video)] };
}

/** Images and animations are SDR: an HDR source is tone-mapped (see colorFilters). */
function sdrFilters(video: NonNullable<MediaProbe['video']>): string[] {
  return colorFilters({ Codec: 'libx264', Fps: 0, Bitrate: 0, PreserveHDRSwitch: 'OFF' }, video, 'libx264');
}

export function planSampleSnapshot(t: SampleSnapshotTemplate, src: MediaProbe, io: PlanIo): FfmpegPlan {
  const video = requireVideo(src, 'snapshots');
  const fmt = imageFormat(t.Format);
  const { step, count } = sampleSchedule(t.SampleType, t.SampleInterval, videoDuration(src));
  const scale = snapshotScale(video, t);
  const args = [
    ...inputArgs(io.input),
    '-map',
    videoMap(src),
    '-an',
    '-sn',
    '-vf',
    [...sampleFilters(step, count), ...scale.filters].join(','),
    '-vsync',
    '0',
    '-frames:v',
    String(count),
    ...imageEncoder(fmt),
    '-start_number',
    '1',
    '-f',
    'image2',
    path.join(io.outDir, `%d.${fmt}`),
  ];
  return { runs: [args], mainOutput: `1.${fmt}` };
}

export function planSnapshotByTimeOffset(
  t: SnapshotByTimeOffsetTemplate,
  src: MediaProbe,
  io: PlanIo & { timeOffsetsMs: number[] },
): FfmpegPlan {
  const video = requireVideo(src, 'snapshots');
  const fmt = imageFormat(t.Format);
  if (!io.timeOffsetsMs.length)
    throw bad('give at least one time offset (TimeOffsetSet or ExtTimeOffsetSet)');
  const offsets = [...new Set(io.timeOffsetsMs.map((ms) => Math.max(0, Math.round(Number(ms) || 0))))];
  const scale = snapshotScale(video, t);
  const runs = offsets.map((ms) =>
    stillRun(src, io.input, ms / 1000, scale.filters, fmt, path.join(io.outDir, `${ms}.${fmt}`)),
  );
  return { runs, mainOutput: `${offsets[0]}.${fmt}` };
}

export function planCoverBySnapshot(
  t: SnapshotByTimeOffsetTemplate,
  src: MediaProbe,
  io: PlanIo & { positionType: 'Time' | 'Percent'; positionValue: number },
): FfmpegPlan {
  const video = requireVideo(src, 'covers');
  const fmt = imageFormat(t.Format);
  const value = Number(io.positionValue) || 0;
  if (value < 0) throw bad(`PositionValue must be 0 or more (got ${io.positionValue})`);
  if (io.positionType === 'Percent' && value > 100)
    throw bad(`a Percent PositionValue is at most 100 (got ${value})`);
  const at = io.positionType === 'Percent' ? (videoDuration(src) * value) / 100 : value;
  const scale = snapshotScale(video, t);
  const name = `cover.${fmt}`;
  return {
    runs: [stillRun(src, io.input, at, scale.filters, fmt, path.join(io.outDir, name))],
    mainOutput: name,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Image sprites.

/** "00:01:02.500". */
export function vttTime(s: number): string {
  const ms = Math.round(Math.max(0, s) * 1000);
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor((ms % 3_600_000) / 60_000);
  const sec = Math.floor((ms % 60_000) / 1000);
  const milli = ms % 1000;
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${p(h)}:${p(m)}:${p(sec)}.${p(milli, 3)}`;
}

export interface SpriteLayout {
  count: number;
  step: number;
  duration: number;
  tileWidth: number;
  tileHeight: number;
  rows: number;
  columns: number;
  /** Name of sprite image i (relative to the VTT). */
  imageName: (index: number) => string;
}

/** The WebVTT index: one cue per tile, its time range → `<image>#xywh=x,y,w,h`. */
export function spriteVtt(l: SpriteLayout): string {
  const per = l.rows * l.columns;
  const cues: string[] = [];
  for (let i = 0; i < l.count; i++) {
    const start = i * l.step;
    let end = (i + 1) * l.step;
    if (l.duration > 0) end = Math.min(end, l.duration);
    if (!(end > start)) end = start + (l.step > 0 ? l.step : 1);
    const pos = i % per;
    const x = (pos % l.columns) * l.tileWidth;
    const y = Math.floor(pos / l.columns) * l.tileHeight;
    cues.push(
      `${vttTime(start)} --> ${vttTime(end)}\n${l.imageName(Math.floor(i / per))}#xywh=${x},${y},${l.tileWidth},${l.tileHeight}`,
    );
  }
  return `WEBVTT\n\n${cues.join('\n\n')}\n`;
}

export function planImageSprite(t: ImageSpriteTemplate, src: MediaProbe, io: PlanIo): FfmpegPlan {
  const video = requireVideo(src, 'image sprites');
  const fmt = imageFormat(t.Format);
  const rows = Math.round(t.RowCount);
  const columns = Math.round(t.ColumnCount);
  if (!(rows >= 1 && columns >= 1))
    throw bad(`RowCount and ColumnCount must be at least 1 (got ${t.RowCount} × ${t.ColumnCount})`);
  const duration = videoDuration(src);
  const { step, count } = sampleSchedule(t.SampleType, t.SampleInterval, duration);
  const scale = snapshotScale(video, t, true);
  const per = rows * columns;
  const sprites = Math.ceil(count / per);
  const name = (i: number) => `sprite_${i}.${fmt}`;
  const args = [
    ...inputArgs(io.input),
    '-map',
    videoMap(src),
    '-an',
    '-sn',
    '-vf',
    [...sampleFilters(step, count), ...scale.filters, `tile=${columns}x${rows}`].join(','),
    '-vsync',
    '0',
    '-frames:v',
    String(sprites),
    ...imageEncoder(fmt),
    '-start_number',
    '0',
    '-f',
    'image2',
    path.join(io.outDir, `sprite_%d.${fmt}`),
  ];
  const vtt = spriteVtt({
    count,
    step,
    duration,
    tileWidth: scale.width,
    tileHeight: scale.height,
    rows,
    columns,
    imageName: name,
  });
  return { runs: [args], extraFiles: [{ path: 'sprite.vtt', content: vtt }], mainOutput: 'sprite.vtt' };
}

// ---------------------------------------------------------------------------------------------------------------
// Adaptive streaming (HLS).

const H264_LEVELS: Array<{ level: number; fs: number; mbps: number; kbps: number }> = [
  { level: 30, fs: 1620, mbps: 40500, kbps: 12500 },
  { level: 31, fs: 3600, mbps: 108000, kbps: 17500 },
  { level: 32, fs: 5120, mbps: 216000, kbps: 25000 },
  { level: 40, fs: 8192, mbps: 245760, kbps: 25000 },
  { level: 41, fs: 8192, mbps: 245760, kbps: 62500 },
  { level: 42, fs: 8704, mbps: 522240, kbps: 62500 },
  { level: 50, fs: 22080, mbps: 589824, kbps: 168750 },
  { level: 51, fs: 36864, mbps: 983040, kbps: 300000 },
  { level: 52, fs: 36864, mbps: 2073600, kbps: 300000 },
  { level: 60, fs: 139264, mbps: 4177920, kbps: 300000 },
  { level: 61, fs: 139264, mbps: 8355840, kbps: 300000 },
  { level: 62, fs: 139264, mbps: 16711680, kbps: 300000 },
];

/** The lowest H.264 level (≥ 3.0, High profile) for a size, rate and peak bitrate, e.g. 31 for 1280×720@25. */
export function h264Level(width: number, height: number, fps: number, maxKbps: number): number {
  const fs = Math.ceil(width / 16) * Math.ceil(height / 16);
  const mbps = fs * (fps > 0 ? fps : 25);
  const side = Math.max(Math.ceil(width / 16), Math.ceil(height / 16));
  const found = H264_LEVELS.find(
    (l) => l.fs >= fs && l.mbps >= mbps && side <= Math.sqrt(8 * l.fs) && l.kbps >= maxKbps,
  );
  return (found ?? H264_LEVELS[H264_LEVELS.length - 1]).level;
}

/** The RFC 6381 codec string of a rendition. */
export function codecsAttribute(
  encoder: string,
  width: number,
  height: number,
  fps: number,
  maxKbps: number,
  withAudio: boolean,
  tenBit = false,
): string {
  let video: string;
  if (encoder === 'libx265') {
    const lines =
      Math.max(width, height) > 1920
        ? 153
        : Math.max(width, height) > 1280
          ? 123
          : Math.max(width, height) > 854
            ? 93
            : 90;
    video = tenBit ? `hvc1.2.4.L${lines}.90` : `hvc1.1.6.L${lines}.90`; // Main10 : Main
  } else {
    video = `avc1.6400${h264Level(width, height, fps, maxKbps).toString(16).padStart(2, '0')}`;
  }
  return withAudio ? `${video},mp4a.40.2` : video;
}

/**
 * An adaptive template's SegmentType, in Tencent's spellings: `ts`, `ts-segment`, `ts-ts-segment` → TS segments;
 * `fmp4`/`mp4`, `mp4-segment`, `mp4-mp4-segment` → fMP4 segments; the `…-byterange` forms → one media file per
 * rendition addressed by EXT-X-BYTERANGE. Packed audio (`…-packed-audio…`) cannot be made with ffmpeg's HLS muxer.
 */
export function adaptiveSegmentType(value: string | undefined): { type: 'ts' | 'fmp4'; byteRange: boolean } {
  const v = String(value ?? '')
    .trim()
    .toLowerCase();
  if (v === '') return { type: 'ts', byteRange: false };
  const m = v.match(/^(ts|mp4|fmp4)(?:-(?:ts|mp4))?(?:-(segment|byterange))?$/);
  if (!m || (m[1] === 'fmp4' && m[2] !== undefined)) {
    throw bad(
      `the SegmentType "${value}" is not supported (use ts, fmp4, mp4, ts-segment, ts-byterange, mp4-segment or mp4-byterange)`,
    );
  }
  return { type: m[1] === 'ts' ? 'ts' : 'fmp4', byteRange: m[2] === 'byterange' };
}

export function planAdaptiveStreaming(
  t: AdaptiveDynamicStreamingTemplate,
  src: MediaProbe,
  io: PlanIo,
): FfmpegPlan {
  if (String(t.Format ?? '').toUpperCase() !== 'HLS')
    throw bad(`the adaptive streaming format "${t.Format}" is not supported (use HLS)`);
  if (t.DrmType) throw bad(`DRM (${t.DrmType}) is not supported`);
  if (!t.StreamInfos?.length) throw bad('the template has no substreams (StreamInfos)');
  const video = requireVideo(src, 'adaptive streaming');
  const display = { width: video.displayWidth, height: video.displayHeight };
  const disableHigher = t.DisableHigherVideoResolution === 1;

  // Which renditions: those that need no upscaling (when asked), else the smallest at the source size.
  const sized = t.StreamInfos.map((s, i) => {
    const size = outputSize({
      srcWidth: display.width,
      srcHeight: display.height,
      width: s.Video.Width ?? 0,
      height: s.Video.Height ?? 0,
      resolutionAdaptive: s.Video.ResolutionAdaptive === 'close' ? 'close' : 'open',
      allowUpscale: true,
    });
    const larger = size.width > display.width + 1 || size.height > display.height + 1;
    return { s, i, larger, pixels: size.width * size.height };
  });
  let chosen = disableHigher ? sized.filter((r) => !r.larger) : sized;
  if (chosen.length === 0) chosen = [sized.reduce((a, b) => (b.pixels < a.pixels ? b : a))];

  const fps = outputFps(t.StreamInfos[0].Video.Fps, sourceFps(video)) || video.fps || 25;
  const segment = t.SegmentDuration && t.SegmentDuration > 0 ? t.SegmentDuration : 6;
  const { type: segmentType, byteRange } = adaptiveSegmentType(t.SegmentType);
  const sourceVideoKbps = (video.bitrate || src.bitrate) / 1000;
  // Keyframes at the same instants in every rendition (the first substream's Gop, else 2 s, never longer than a
  // segment), with no extra ones at scene cuts, so players can switch at any segment.
  const first = t.StreamInfos[0].Video;
  const gop =
    first.Gop && first.Gop > 0 ? gopFrames(first, fps) : gopFrames(first, fps, Math.min(2, segment));

  const graph: string[] = [];
  const n = chosen.length;
  graph.push(
    `${videoLabel(src)}fps=${fpsValue(fps)}${n > 1 ? `,split=${n}${chosen.map((_, k) => `[vs${k}]`).join('')}` : '[vs0]'}`,
  );
  const maps: string[] = [];
  const enc: string[] = [];
  const streamMap: string[] = [];
  const variants: Array<{
    dir: string;
    bandwidth: number;
    average: number;
    width: number;
    height: number;
    codecs: string;
  }> = [];
  let audioIndex = 0;
  chosen.forEach((r, k) => {
    const v = r.s.Video;
    const encoder = videoEncoder(v.Codec);
    if (encoder !== 'libx264' && encoder !== 'libx265')
      throw bad(`adaptive streaming substreams must be libx264 or libx265 (got ${v.Codec})`);
    const scale = scaleFilters(video, {
      width: v.Width ?? 0,
      height: v.Height ?? 0,
      resolutionAdaptive: v.ResolutionAdaptive === 'close' ? 'close' : 'open',
      fillType: fillTypeOf(v.FillType),
      allowUpscale: !disableHigher,
      labelPrefix: `fill${k}`,
    });
    graph.push(`[vs${k}]${[...scale.filters, ...colorFilters(v, video, encoder)].join(',')}[vo${k}]`);
    maps.push('-map', `[vo${k}]`);
    const ve = videoEncodeArgs({
      encoder,
      video: v,
      fps,
      width: scale.width,
      height: scale.height,
      container: 'hls',
      segmentType,
      stream: k,
      bitrateCapKbps: t.DisableHigherVideoBitrate === 1 && sourceVideoKbps > 0 ? sourceVideoKbps : undefined,
      gopFrames: gop,
      fixedGop: true,
      tenBit: keepsHdr(v, encoder, video),
    });
    enc.push(...ve.args, ...colorArgs(v, video, encoder, k));
    const level = h264Level(scale.width, scale.height, fps, ve.maxrateKbps);
    if (encoder === 'libx264') enc.push(`-profile:v:${k}`, 'high', `-level:v:${k}`, (level / 10).toFixed(1));
    const withAudio = src.audio !== undefined && r.s.RemoveAudio !== 1;
    let audioKbps = 0;
    if (withAudio) {
      maps.push('-map', audioMap(src));
      const a = r.s.Audio;
      const encA = audioEncoder(a?.Codec ?? 'libfdk_aac');
      if (encA !== 'aac' && encA !== 'libmp3lame')
        throw bad(`adaptive streaming audio must be AAC or MP3 (got ${a?.Codec})`);
      enc.push(...audioEncodeArgs({ audio: a, encoder: encA, container: 'hls', stream: audioIndex }));
      audioKbps = a && a.Bitrate > 0 ? a.Bitrate : 128;
      streamMap.push(`v:${k},a:${audioIndex}`);
      audioIndex++;
    } else {
      streamMap.push(`v:${k}`);
    }
    variants.push({
      dir: String(k),
      bandwidth: Math.round((ve.maxrateKbps + audioKbps) * 1000),
      average: Math.round((ve.avgKbps + audioKbps) * 1000),
      width: scale.width,
      height: scale.height,
      codecs: codecsAttribute(
        encoder,
        scale.width,
        scale.height,
        fps,
        ve.maxrateKbps,
        withAudio,
        keepsHdr(v, encoder, video),
      ),
    });
  });

  const args = [
    ...inputArgs(io.input),
    '-filter_complex',
    graph.join(';'),
    ...maps,
    ...enc,
    '-sn',
    '-dn',
    '-max_muxing_queue_size',
    '1024',
    '-f',
    'hls',
    '-hls_time',
    String(segment),
    '-hls_playlist_type',
    'vod',
    '-hls_list_size',
    '0',
    ...(segmentType === 'fmp4' ? ['-hls_segment_type', 'fmp4', '-hls_fmp4_init_filename', 'init.mp4'] : []),
    // Byte ranges: one media file per rendition, the playlist addresses each segment inside it.
    ...(byteRange ? ['-hls_flags', 'single_file'] : []),
    '-hls_segment_filename',
    path.join(
      io.outDir,
      '%v',
      `${byteRange ? 'media' : 'seg_%05d'}.${segmentType === 'fmp4' ? 'm4s' : 'ts'}`,
    ),
    '-var_stream_map',
    streamMap.join(' '),
    path.join(io.outDir, '%v', 'index.m3u8'),
  ];

  const lines = [
    '#EXTM3U',
    `#EXT-X-VERSION:${segmentType === 'fmp4' ? 7 : 3}`,
    '#EXT-X-INDEPENDENT-SEGMENTS',
  ];
  for (const v of variants) {
    lines.push(
      `#EXT-X-STREAM-INF:BANDWIDTH=${v.bandwidth},AVERAGE-BANDWIDTH=${v.average},RESOLUTION=${v.width}x${v.height},FRAME-RATE=${fps.toFixed(3)},CODECS="${v.codecs}"`,
      `${v.dir}/index.m3u8`,
    );
  }
  return {
    runs: [args],
    extraFiles: [{ path: 'master.m3u8', content: `${lines.join('\n')}\n` }],
    mainOutput: 'master.m3u8',
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Animated graphics.

export function planAnimatedGraphic(
  t: AnimatedGraphicsTemplate,
  src: MediaProbe,
  io: PlanIo & { startTimeOffset: number; endTimeOffset: number },
): FfmpegPlan {
  const video = requireVideo(src, 'animated graphics');
  const format = String(t.Format || 'gif').toLowerCase();
  if (format !== 'gif' && format !== 'webp')
    throw bad(`the animated format "${t.Format}" is not supported (use gif or webp)`);
  const start = Number(io.startTimeOffset) || 0;
  const end = Number(io.endTimeOffset);
  if (start < 0) throw bad(`StartTimeOffset must be 0 or more (got ${io.startTimeOffset})`);
  if (!(end > start))
    throw bad(`EndTimeOffset (${io.endTimeOffset}) must be greater than StartTimeOffset (${start})`);
  const duration = videoDuration(src);
  if (duration > 0 && start >= duration) {
    throw bad(`StartTimeOffset (${start} s) is past the end of the source (${seconds(duration)} s)`);
  }
  const length = (duration > 0 ? Math.min(end, duration) : end) - start;
  const fps =
    outputFps(t.Fps > 0 ? Math.min(t.Fps, 30) : Math.min(video.fps || 10, 30), sourceFps(video)) || 10;
  const scale = scaleFilters(video, {
    width: t.Width ?? 0,
    height: t.Height ?? 0,
    resolutionAdaptive: t.ResolutionAdaptive === 'close' ? 'close' : 'open',
    fillType: 'black',
  });
  const base = [
    `fps=${fpsValue(fps)}`,
    ...scale.filters.map((f) =>
      f.startsWith('scale=') && !f.includes(':flags=') ? `${f}:flags=lanczos` : f,
    ),
    ...sdrFilters(video),
  ];
  const name = `animated.${format}`;
  const out = path.join(io.outDir, name);
  const args = [
    ...inputArgs(io.input, { seek: start, duration: length }),
    '-map',
    videoMap(src),
    '-an',
    '-sn',
  ];
  if (format === 'gif') {
    args.push(
      '-vf',
      `${base.join(',')},split[gifa][gifb];[gifa]palettegen=stats_mode=diff[gifp];[gifb][gifp]paletteuse=dither=bayer:bayer_scale=5:diff_mode=rectangle`,
      '-loop',
      '0',
      '-f',
      'gif',
      out,
    );
  } else {
    const quality = t.Quality > 0 ? Math.min(100, Math.max(1, t.Quality)) : 75;
    args.push(
      '-vf',
      base.join(','),
      '-c:v',
      'libwebp_anim',
      '-lossless',
      '0',
      '-quality',
      String(quality),
      '-loop',
      '0',
      '-f',
      'webp',
      out,
    );
  }
  return { runs: [args], mainOutput: name };
}
