/**
 * Custom template parameters (src/media/template-params.ts): Create<Kind>Template validated with Tencent's
 * ranges and defaults, Modify<Kind>Template merged field by field and re-validated as a whole.
 */
import { ApiError } from '../../src/domain/errors';
import {
  TEMPLATE_ACTION_STEM,
  applyModifyTemplate,
  parseCreateTemplate,
} from '../../src/media/template-params';
import { presetTemplate, type TemplateKind, type TemplateOf } from '../../src/media/templates';

// ---------------------------------------------------------------------------------------------------------------
// Helpers.

type Raw = Record<string, unknown>;

/** The ApiError `fn` throws (fails the test when it throws nothing or something else). */
function errorOf(fn: () => unknown): ApiError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ApiError) return e;
    throw e;
  }
  throw new Error('expected an ApiError, but nothing was thrown');
}

/** A copy of `base` with the value at a dotted path (`VideoTemplate.Fps`, `StreamInfos.0.Video.Fps`) set. */
function withValue(base: Raw, path: string, value: unknown): Raw {
  const copy = structuredClone(base);
  const keys = path.split('.');
  let at: Record<string, unknown> = copy;
  for (const k of keys.slice(0, -1)) at = at[k] as Record<string, unknown>;
  at[keys[keys.length - 1]] = value;
  return copy;
}

const TIME = '2026-01-01T00:00:00Z';
/** A stored template: a Create body plus the fields the repository adds. */
function stored<K extends TemplateKind>(
  kind: K,
  raw: Raw,
  definition: number | string = 1000,
): TemplateOf<K> {
  return {
    ...parseCreateTemplate(kind, raw),
    Definition: definition,
    Type: 'Custom',
    CreateTime: TIME,
    UpdateTime: TIME,
  } as unknown as TemplateOf<K>;
}

// ---------------------------------------------------------------------------------------------------------------
// Base requests.

const H264 = { Codec: 'libx264', Fps: 25, Bitrate: 1000 };
const AAC = { Codec: 'libfdk_aac', Bitrate: 128, SampleRate: 44100 };
const MP4: Raw = { Container: 'mp4', VideoTemplate: H264, AudioTemplate: AAC };
const HLS: Raw = { Container: 'hls', VideoTemplate: H264, AudioTemplate: AAC };
const MP3: Raw = {
  Container: 'mp3',
  AudioTemplate: { Codec: 'libmp3lame', Bitrate: 128, SampleRate: 44100 },
};
const SAMPLE: Raw = { SampleType: 'Percent', SampleInterval: 10 };
const OFFSET: Raw = {};
const SPRITE: Raw = {
  SampleType: 'Time',
  SampleInterval: 10,
  RowCount: 10,
  ColumnCount: 10,
  Width: 160,
  Height: 90,
};
/** Tiles at the source size: no 15000 px limit to meet. */
const SPRITE_AUTO: Raw = { ...SPRITE, Width: 0, Height: 0 };
const ANIMATED: Raw = { Fps: 10 };
const STREAM = { Video: { Codec: 'libx264', Fps: 24, Bitrate: 800, Height: 480 }, Audio: AAC };
const ADAPTIVE: Raw = { Format: 'HLS', StreamInfos: [STREAM] };

const BASES: Record<TemplateKind, Raw> = {
  Transcode: MP4,
  SampleSnapshot: SAMPLE,
  SnapshotByTimeOffset: OFFSET,
  ImageSprite: SPRITE,
  AdaptiveDynamicStreaming: ADAPTIVE,
  AnimatedGraphics: ANIMATED,
};
const KINDS = Object.keys(BASES) as TemplateKind[];

// ---------------------------------------------------------------------------------------------------------------

describe('TEMPLATE_ACTION_STEM', () => {
  test('names the Create/Modify/Delete/Describe action stem of every kind', () => {
    expect(TEMPLATE_ACTION_STEM).toEqual({
      Transcode: 'TranscodeTemplate',
      SampleSnapshot: 'SampleSnapshotTemplate',
      SnapshotByTimeOffset: 'SnapshotByTimeOffsetTemplate',
      ImageSprite: 'ImageSpriteTemplate',
      AdaptiveDynamicStreaming: 'AdaptiveDynamicStreamingTemplate',
      AnimatedGraphics: 'AnimatedGraphicsTemplate',
    });
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Bounded integer fields: just inside each bound accepted, just outside refused with the code and the range.

interface Bound {
  kind: TemplateKind;
  base?: Raw;
  path: string;
  ok: number[];
  bad: number[];
  code: string;
  range: string;
}

const BOUNDS: Bound[] = [
  // Transcode: VideoTemplateInfo.
  {
    kind: 'Transcode',
    path: 'VideoTemplate.Fps',
    ok: [0, 1, 100],
    bad: [-1, 101, 29.97],
    code: 'Fps',
    range: '0 (as the source) or 1–100',
  },
  {
    kind: 'Transcode',
    path: 'VideoTemplate.Bitrate',
    ok: [0, 128, 100000],
    bad: [1, 127, 100001],
    code: 'VideoBitrate',
    range: '0 (automatic) or 128–100000',
  },
  {
    kind: 'Transcode',
    path: 'VideoTemplate.Width',
    ok: [0, 128, 129, 8192],
    bad: [-1, 127, 8193],
    code: 'Width',
    range: '0 (automatic) or 128–8192',
  },
  {
    kind: 'Transcode',
    path: 'VideoTemplate.Height',
    ok: [0, 128, 721, 8192],
    bad: [-1, 127, 8193],
    code: 'Height',
    range: '0 (automatic) or 128–8192',
  },
  {
    kind: 'Transcode',
    path: 'VideoTemplate.Vcrf',
    ok: [0, 1, 51],
    bad: [-1, 52],
    code: 'Vcrf',
    range: '0 (off) or 1–51',
  },
  {
    kind: 'Transcode',
    path: 'VideoTemplate.Gop',
    ok: [0, 1, 100000],
    bad: [-1, 100001],
    code: 'Gop',
    range: '0 (automatic) or 1–100000',
  },
  {
    kind: 'Transcode',
    path: 'VideoTemplate.Bframes',
    ok: [0, 16],
    bad: [-1, 17],
    code: 'Bframes',
    range: '0–16',
  },
  {
    kind: 'Transcode',
    base: HLS,
    path: 'VideoTemplate.HlsTime',
    ok: [0, 1, 10],
    bad: [-1, 11],
    code: 'HlsTime',
    range: '0 (automatic) or 1–10',
  },
  // Transcode: AudioTemplateInfo.
  {
    kind: 'Transcode',
    path: 'AudioTemplate.Bitrate',
    ok: [0, 26, 256],
    bad: [25, 257],
    code: 'AudioBitrate',
    range: '0 (automatic) or 26–256',
  },
  // Snapshots.
  {
    kind: 'SampleSnapshot',
    path: 'SampleInterval',
    ok: [1, 100],
    bad: [0, 101],
    code: 'SampleInterval',
    range: '1–100',
  },
  {
    kind: 'SampleSnapshot',
    base: { SampleType: 'Time', SampleInterval: 5 },
    path: 'SampleInterval',
    ok: [1, 86400],
    bad: [0, -5, 1.5],
    code: 'SampleInterval',
    range: 'at least 1',
  },
  {
    kind: 'SampleSnapshot',
    path: 'Width',
    ok: [0, 32, 4096],
    bad: [31, 4097],
    code: 'Width',
    range: '0 (automatic) or 32–4096',
  },
  {
    kind: 'SampleSnapshot',
    path: 'Height',
    ok: [0, 32, 4096],
    bad: [31, 4097],
    code: 'Height',
    range: '0 (automatic) or 32–4096',
  },
  {
    kind: 'SnapshotByTimeOffset',
    path: 'Width',
    ok: [0, 32, 4096],
    bad: [31, 4097],
    code: 'Width',
    range: '0 (automatic) or 32–4096',
  },
  {
    kind: 'SnapshotByTimeOffset',
    path: 'Height',
    ok: [0, 32, 4096],
    bad: [31, 4097],
    code: 'Height',
    range: '0 (automatic) or 32–4096',
  },
  // Sprites.
  {
    kind: 'ImageSprite',
    base: SPRITE_AUTO,
    path: 'RowCount',
    ok: [1, 100],
    bad: [0, 101],
    code: 'RowCount',
    range: '1–100',
  },
  {
    kind: 'ImageSprite',
    base: SPRITE_AUTO,
    path: 'ColumnCount',
    ok: [1, 100],
    bad: [0, 101],
    code: 'ColumnCount',
    range: '1–100',
  },
  {
    kind: 'ImageSprite',
    path: 'Width',
    ok: [0, 32, 150],
    bad: [31, 4097],
    code: 'Width',
    range: '0 (automatic) or 32–4096',
  },
  {
    kind: 'ImageSprite',
    path: 'Height',
    ok: [0, 32, 150],
    bad: [31, 4097],
    code: 'Height',
    range: '0 (automatic) or 32–4096',
  },
  {
    kind: 'ImageSprite',
    path: 'SampleInterval',
    ok: [1, 3600],
    bad: [0],
    code: 'SampleInterval',
    range: 'at least 1',
  },
  // Animated graphics.
  { kind: 'AnimatedGraphics', path: 'Fps', ok: [1, 30], bad: [0, 31], code: 'Fps', range: '1–30' },
  { kind: 'AnimatedGraphics', path: 'Quality', ok: [1, 100], bad: [0, 101], code: 'Quality', range: '1–100' },
  {
    kind: 'AnimatedGraphics',
    path: 'Width',
    ok: [0, 32, 4096],
    bad: [31, 4097],
    code: 'Width',
    range: '0 (automatic) or 32–4096',
  },
  {
    kind: 'AnimatedGraphics',
    path: 'Height',
    ok: [0, 32, 4096],
    bad: [31, 4097],
    code: 'Height',
    range: '0 (automatic) or 32–4096',
  },
  // Adaptive streaming.
  {
    kind: 'AdaptiveDynamicStreaming',
    path: 'SegmentDuration',
    ok: [1, 10],
    bad: [0, 11],
    code: 'SegmentDuration',
    range: '1–10',
  },
  {
    kind: 'AdaptiveDynamicStreaming',
    path: 'StreamInfos.0.Video.Fps',
    ok: [0, 100],
    bad: [101],
    code: 'Fps',
    range: '1–100',
  },
  {
    kind: 'AdaptiveDynamicStreaming',
    path: 'StreamInfos.0.Video.Bitrate',
    ok: [0, 128, 100000],
    bad: [127, 100001],
    code: 'VideoBitrate',
    range: '128–100000',
  },
  {
    kind: 'AdaptiveDynamicStreaming',
    path: 'StreamInfos.0.Video.Width',
    ok: [0, 128, 8192],
    bad: [127, 8193],
    code: 'Width',
    range: '128–8192',
  },
  {
    kind: 'AdaptiveDynamicStreaming',
    path: 'StreamInfos.0.Audio.Bitrate',
    ok: [0, 26, 256],
    bad: [25, 257],
    code: 'AudioBitrate',
    range: '26–256',
  },
];

const inside = BOUNDS.flatMap((b) => b.ok.map((value) => ({ ...b, value })));
const outside = BOUNDS.flatMap((b) => b.bad.map((value) => ({ ...b, value })));

describe('Create: bounded fields', () => {
  test.each(inside)('$kind $path = $value is accepted and kept', ({ kind, base, path, value }) => {
    const body = parseCreateTemplate(kind, withValue(base ?? BASES[kind], path, value)) as unknown as Raw;
    const keys = path.split('.');
    let at: unknown = body;
    for (const k of keys) at = (at as Raw)[k];
    expect(at).toBe(value);
  });

  test.each(outside)(
    '$kind $path = $value → InvalidParameterValue.$code naming the path and the range',
    ({ kind, base, path, value, code, range }) => {
      const e = errorOf(() => parseCreateTemplate(kind, withValue(base ?? BASES[kind], path, value)));
      expect(e.code).toBe(`InvalidParameterValue.${code}`);
      expect(e.message).toContain(path);
      expect(e.message).toContain(range);
      expect(e.message).toContain(`got ${value}`);
    },
  );

  test('the message reads like a sentence a person can act on', () => {
    const e = errorOf(() => parseCreateTemplate('Transcode', withValue(MP4, 'VideoTemplate.Fps', 120)));
    expect(e.message).toBe('VideoTemplate.Fps must be 0 (as the source) or 1–100; got 120.');
  });

  test.each([
    { path: 'Name', max: 64 },
    { path: 'Comment', max: 256 },
  ])('$path: $max characters accepted, one more refused (every kind)', ({ path, max }) => {
    for (const kind of KINDS) {
      const ok = parseCreateTemplate(kind, withValue(BASES[kind], path, 'é'.repeat(max))) as unknown as Raw;
      expect(ok[path]).toBe('é'.repeat(max));
      const e = errorOf(() => parseCreateTemplate(kind, withValue(BASES[kind], path, 'x'.repeat(max + 1))));
      expect(e.code).toBe(`InvalidParameterValue.${path}`);
      expect(e.message).toBe(`${path} must be at most ${max} characters; got ${max + 1}.`);
    }
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Enumerations: every allowed value accepted, a wrong one refused.

interface EnumCase {
  kind: TemplateKind;
  base?: Raw;
  path: string;
  ok: unknown[];
  bad: unknown;
  code: string;
}

const ENUMS: EnumCase[] = [
  {
    kind: 'Transcode',
    base: { Container: 'mp4', VideoTemplate: H264 },
    path: 'RemoveAudio',
    ok: [1],
    bad: 2,
    code: 'RemoveAudio',
  },
  {
    kind: 'Transcode',
    path: 'VideoTemplate.Codec',
    ok: ['libx264', 'libx265', 'av1', 'libvpx-vp9'],
    bad: 'h264',
    code: 'VideoCodec',
  },
  {
    kind: 'Transcode',
    path: 'VideoTemplate.ResolutionAdaptive',
    ok: ['open', 'close'],
    bad: 'auto',
    code: 'ResolutionAdaptive',
  },
  {
    kind: 'Transcode',
    path: 'VideoTemplate.FillType',
    ok: ['stretch', 'black', 'white', 'gauss'],
    bad: 'blur',
    code: 'FillType',
  },
  { kind: 'Transcode', path: 'VideoTemplate.GopUnit', ok: ['frame', 'second'], bad: 'ms', code: 'GopUnit' },
  {
    kind: 'Transcode',
    path: 'VideoTemplate.PreserveHDRSwitch',
    ok: ['OFF', 'ON'],
    bad: 'on',
    code: 'PreserveHDRSwitch',
  },
  {
    kind: 'Transcode',
    path: 'VideoTemplate.VideoProfile',
    ok: ['baseline', 'main', 'high', 'default'],
    bad: 'extended',
    code: 'VideoProfile',
  },
  { kind: 'Transcode', path: 'VideoTemplate.Mode', ok: ['VBR', 'ABR', 'CBR'], bad: 'XBR', code: 'Mode' },
  {
    kind: 'Transcode',
    base: withValue(MP4, 'VideoTemplate.Codec', 'libx265'),
    path: 'VideoTemplate.CodecTag',
    ok: ['hvc1', 'hev1'],
    bad: 'avc1',
    code: 'CodecTag',
  },
  {
    kind: 'Transcode',
    path: 'AudioTemplate.Codec',
    ok: ['libfdk_aac', 'libmp3lame', 'mp2'],
    bad: 'aac',
    code: 'AudioCodec',
  },
  {
    kind: 'Transcode',
    path: 'AudioTemplate.SampleRate',
    ok: [32000, 44100, 48000],
    bad: 22050,
    code: 'AudioSampleRate',
  },
  { kind: 'Transcode', path: 'AudioTemplate.AudioChannel', ok: [0, 1, 2, 6], bad: 3, code: 'AudioChannel' },
  { kind: 'Transcode', base: HLS, path: 'SegmentType', ok: ['ts', 'fmp4'], bad: 'cmaf', code: 'SegmentType' },
  {
    kind: 'Transcode',
    base: MP3,
    path: 'AudioTemplate.AudioChannel',
    ok: [0, 1, 2],
    bad: 6,
    code: 'AudioChannel',
  },
  {
    kind: 'Transcode',
    path: 'TEHDConfig',
    ok: [{ Type: '' }, { Type: 'OFF' }, { Type: 'OFF', MaxVideoBitrate: 0 }],
    bad: { Type: 'TEHD-200' },
    code: 'TEHDType',
  },
  { kind: 'SampleSnapshot', path: 'SampleType', ok: ['Percent', 'Time'], bad: 'Frame', code: 'SampleType' },
  { kind: 'SampleSnapshot', path: 'Format', ok: ['jpg', 'png', 'webp'], bad: 'gif', code: 'Format' },
  {
    kind: 'SampleSnapshot',
    path: 'ResolutionAdaptive',
    ok: ['open', 'close'],
    bad: 'Open',
    code: 'ResolutionAdaptive',
  },
  {
    kind: 'SampleSnapshot',
    path: 'FillType',
    ok: ['stretch', 'black', 'white', 'gauss'],
    bad: 'none',
    code: 'FillType',
  },
  { kind: 'SnapshotByTimeOffset', path: 'Format', ok: ['jpg', 'png', 'webp'], bad: 'bmp', code: 'Format' },
  {
    kind: 'SnapshotByTimeOffset',
    path: 'FillType',
    ok: ['stretch', 'black', 'white', 'gauss'],
    bad: 'red',
    code: 'FillType',
  },
  {
    kind: 'SnapshotByTimeOffset',
    path: 'ResolutionAdaptive',
    ok: ['open', 'close'],
    bad: '',
    code: 'ResolutionAdaptive',
  },
  { kind: 'ImageSprite', path: 'SampleType', ok: ['Percent', 'Time'], bad: 'time', code: 'SampleType' },
  { kind: 'ImageSprite', path: 'Format', ok: ['jpg', 'png', 'webp'], bad: 'jpeg', code: 'Format' },
  {
    kind: 'ImageSprite',
    path: 'FillType',
    ok: ['stretch', 'black', 'white', 'gauss'],
    bad: 'blur',
    code: 'FillType',
  },
  {
    kind: 'ImageSprite',
    path: 'ResolutionAdaptive',
    ok: ['open', 'close'],
    bad: 'yes',
    code: 'ResolutionAdaptive',
  },
  { kind: 'AnimatedGraphics', path: 'Format', ok: ['gif', 'webp'], bad: 'png', code: 'Format' },
  {
    kind: 'AnimatedGraphics',
    path: 'ResolutionAdaptive',
    ok: ['open', 'close'],
    bad: 'closed',
    code: 'ResolutionAdaptive',
  },
  { kind: 'AdaptiveDynamicStreaming', path: 'Format', ok: ['HLS'], bad: 'hls', code: 'Format' },
  { kind: 'AdaptiveDynamicStreaming', path: 'DrmType', ok: [''], bad: 'AES-128', code: 'DrmType' },
  {
    kind: 'AdaptiveDynamicStreaming',
    path: 'DisableHigherVideoBitrate',
    ok: [0, 1],
    bad: 2,
    code: 'DisableHigherVideoBitrate',
  },
  {
    kind: 'AdaptiveDynamicStreaming',
    path: 'DisableHigherVideoResolution',
    ok: [0, 1],
    bad: -1,
    code: 'DisableHigherVideoResolution',
  },
  {
    kind: 'AdaptiveDynamicStreaming',
    path: 'SegmentType',
    ok: ['ts', 'ts-segment', 'mp4', 'fmp4', 'mp4-segment', 'mp4-mp4-segment'],
    bad: 'webm',
    code: 'SegmentType',
  },
  {
    kind: 'AdaptiveDynamicStreaming',
    path: 'StreamInfos.0.Video.Codec',
    ok: ['libx264', 'libx265'],
    bad: 'x264',
    code: 'VideoCodec',
  },
  {
    kind: 'AdaptiveDynamicStreaming',
    path: 'StreamInfos.0.Audio.Codec',
    ok: ['libfdk_aac'],
    bad: 'libmp3lame',
    code: 'AudioCodec',
  },
  {
    kind: 'AdaptiveDynamicStreaming',
    path: 'StreamInfos.0.RemoveAudio',
    ok: [0, 1],
    bad: 2,
    code: 'RemoveAudio',
  },
];

describe('Create: enumerations', () => {
  test.each(ENUMS.flatMap((c) => c.ok.map((value) => ({ ...c, value }))))(
    '$kind $path = $value is accepted',
    ({ kind, base, path, value }) => {
      const body = parseCreateTemplate(kind, withValue(base ?? BASES[kind], path, value)) as unknown as Raw;
      let at: unknown = body;
      for (const k of path.split('.')) at = (at as Raw)[k];
      if (typeof value === 'object') expect(at).toMatchObject(value as object);
      else expect(at).toBe(value);
    },
  );

  test.each(ENUMS)('$kind $path = $bad → InvalidParameterValue.$code', ({ kind, base, path, bad, code }) => {
    const e = errorOf(() => parseCreateTemplate(kind, withValue(base ?? BASES[kind], path, bad)));
    expect(e.code).toBe(`InvalidParameterValue.${code}`);
    expect(e.message).toContain(path);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Transcode: codecs per container, and rules across fields.

describe('Create Transcode: codecs per container (Tencent AudioTemplateInfo.Codec table)', () => {
  const audio = (Codec: string, extra: Raw = {}) => ({ Codec, Bitrate: 0, SampleRate: 44100, ...extra });
  const audioOnly = (Container: string, a: Raw): Raw => ({ Container, AudioTemplate: a });
  const video = (Container: string, Codec: string): Raw => ({
    Container,
    VideoTemplate: { ...H264, Codec },
    AudioTemplate: AAC,
  });

  test.each([
    { raw: audioOnly('mp3', audio('libmp3lame')) },
    { raw: audioOnly('m4a', audio('libfdk_aac')) },
    { raw: audioOnly('m4a', audio('libmp3lame')) },
    { raw: audioOnly('m4a', audio('ac3')) },
    { raw: audioOnly('flac', audio('flac')) },
    { raw: audioOnly('ogg', audio('flac')) },
    { raw: audioOnly('ogg', audio('libvorbis')) },
    { raw: audioOnly('ogg', audio('libopus', { SampleRate: 48000 })) },
    { raw: audioOnly('wav', audio('pcm16')) },
    { raw: audioOnly('wav', audio('pcm16', { SampleRate: 16000 })) },
    { raw: { ...MP4, AudioTemplate: audio('mp2') } },
    { raw: { ...MP4, Container: 'flv', AudioTemplate: audio('libmp3lame') } },
    { raw: video('mp4', 'av1') },
    { raw: video('mp4', 'libvpx-vp9') },
    { raw: video('hls', 'libx265') },
    { raw: video('flv', 'libx264') },
  ])('accepted: $raw.Container $raw.VideoTemplate.Codec $raw.AudioTemplate.Codec', ({ raw }) => {
    const body = parseCreateTemplate('Transcode', raw);
    expect(body.Container).toBe(raw.Container);
    expect(body.AudioTemplate?.Codec).toBe((raw.AudioTemplate as Raw).Codec);
  });

  test.each([
    {
      raw: audioOnly('mp3', audio('libfdk_aac')),
      code: 'AudioCodec',
      text: 'must be one of libmp3lame for a mp3 output',
    },
    { raw: audioOnly('flac', audio('libvorbis')), code: 'AudioCodec', text: 'must be one of flac' },
    { raw: audioOnly('wav', audio('flac')), code: 'AudioCodec', text: 'must be one of pcm16' },
    {
      raw: { ...HLS, AudioTemplate: audio('libmp3lame') },
      code: 'AudioCodec',
      text: 'must be one of libfdk_aac for a hls output',
    },
    {
      raw: { ...MP4, Container: 'flv', AudioTemplate: audio('mp2') },
      code: 'AudioCodec',
      text: 'not supported by OpenVOD',
    },
    { raw: video('hls', 'av1'), code: 'VideoCodec', text: 'only allowed with Container mp4' },
    { raw: video('flv', 'libvpx-vp9'), code: 'VideoCodec', text: 'only allowed with Container mp4' },
    { raw: video('flv', 'libx265'), code: 'VideoCodec', text: 'not supported by OpenVOD' },
    {
      raw: video('mp4', 'H.266'),
      code: 'VideoCodec',
      text: 'VideoTemplate.Codec "H.266" is not supported by OpenVOD',
    },
    { raw: audioOnly('ogg', audio('libopus')), code: 'AudioSampleRate', text: 'must be 48000 for libopus' },
    {
      raw: { ...MP4, AudioTemplate: audio('libfdk_aac', { SampleRate: 16000 }) },
      code: 'AudioSampleRate',
      text: '16000 only with pcm16',
    },
    {
      raw: audioOnly('flac', audio('flac', { Bitrate: 128 })),
      code: 'AudioBitrate',
      text: 'must be 0 for the lossless codec flac',
    },
    {
      raw: audioOnly('m4a', audio('libfdk_aac', { AudioChannel: 6 })),
      code: 'AudioChannel',
      text: 'audio-only container',
    },
    {
      raw: { ...MP4, AudioTemplate: audio('libmp3lame', { AudioChannel: 6 }) },
      code: 'AudioChannel',
      text: 'not possible with libmp3lame',
    },
  ])('refused: $code ($text)', ({ raw, code, text }) => {
    const e = errorOf(() => parseCreateTemplate('Transcode', raw));
    expect(e.code).toBe(`InvalidParameterValue.${code}`);
    expect(e.message).toContain(text);
  });
});

describe('Create Transcode: rules across fields', () => {
  test.each([
    {
      what: 'an audio-only container with RemoveVideo 0',
      raw: { ...MP3, RemoveVideo: 0 },
      code: 'InvalidParameterValue.RemoveVideo',
      text: 'mp3 output holds audio only',
    },
    {
      what: 'an audio-only container with a VideoTemplate',
      raw: { ...MP3, VideoTemplate: H264 },
      code: 'InvalidParameterValue.VideoTemplate',
      text: 'holds audio only',
    },
    {
      what: 'an audio-only container with RemoveAudio 1',
      raw: { ...MP3, RemoveAudio: 1 },
      code: 'InvalidParameterValue.RemoveAudio',
      text: 'needs audio',
    },
    {
      what: 'a video container removing video and audio',
      raw: { Container: 'mp4', RemoveVideo: 1, RemoveAudio: 1 },
      code: 'InvalidParameterValue.RemoveAudio',
      text: 'cannot both be 1',
    },
    {
      what: 'RemoveVideo 1 with a VideoTemplate',
      raw: { ...MP4, RemoveVideo: 1 },
      code: 'InvalidParameterValue.VideoTemplate',
      text: 'RemoveVideo is 1',
    },
    {
      what: 'RemoveAudio 1 with an AudioTemplate',
      raw: { ...MP4, RemoveAudio: 1 },
      code: 'InvalidParameterValue.AudioTemplate',
      text: 'RemoveAudio is 1',
    },
    {
      what: 'no VideoTemplate while RemoveVideo is 0',
      raw: { Container: 'mp4', AudioTemplate: AAC },
      code: 'MissingParameter',
      text: 'VideoTemplate is required when RemoveVideo is 0',
    },
    {
      what: 'no AudioTemplate while RemoveAudio is 0',
      raw: { Container: 'mp4', VideoTemplate: H264 },
      code: 'MissingParameter',
      text: 'AudioTemplate is required when RemoveAudio is 0',
    },
    {
      what: 'RemoveVideo 2',
      raw: { ...MP4, RemoveVideo: 2 },
      code: 'InvalidParameterValue.RemoveVideo',
      text: 'must be one of 0, 1',
    },
    {
      what: 'an unknown container',
      raw: { ...MP4, Container: 'avi' },
      code: 'InvalidParameterValue.Container',
      text: 'must be one of mp4, flv, hls, mp3, flac, ogg, m4a, wav',
    },
    {
      what: 'SegmentType on mp4',
      raw: { ...MP4, SegmentType: 'ts' },
      code: 'InvalidParameterValue.SegmentType',
      text: 'only applies to Container hls',
    },
    {
      what: 'HlsTime on mp4',
      raw: withValue(MP4, 'VideoTemplate.HlsTime', 4),
      code: 'InvalidParameterValue.HlsTime',
      text: 'only applies to Container hls',
    },
    {
      what: 'CodecTag with libx264',
      raw: withValue(MP4, 'VideoTemplate.CodecTag', 'hvc1'),
      code: 'InvalidParameterValue.CodecTag',
      text: 'only applies to Codec libx265',
    },
    {
      what: 'VideoProfile main with libx265',
      raw: withValue(withValue(MP4, 'VideoTemplate.Codec', 'libx265'), 'VideoTemplate.VideoProfile', 'main'),
      code: 'InvalidParameterValue.VideoProfile',
      text: 'only applies to Codec libx264',
    },
    {
      what: 'Bframes with av1',
      raw: withValue(withValue(MP4, 'VideoTemplate.Codec', 'av1'), 'VideoTemplate.Bframes', 2),
      code: 'InvalidParameterValue.Bframes',
      text: 'not supported by OpenVOD',
    },
    {
      what: 'Mode VCRF without Vcrf',
      raw: withValue(MP4, 'VideoTemplate.Mode', 'VCRF'),
      code: 'InvalidParameterValue.Mode',
      text: 'needs VideoTemplate.Vcrf',
    },
    {
      what: 'Mode VBR with Vcrf',
      raw: withValue(withValue(MP4, 'VideoTemplate.Mode', 'VBR'), 'VideoTemplate.Vcrf', 23),
      code: 'InvalidParameterValue.Mode',
      text: 'conflicts with VideoTemplate.Vcrf 23',
    },
    {
      what: 'Mode CBR with Vcrf',
      raw: withValue(withValue(MP4, 'VideoTemplate.Mode', 'CBR'), 'VideoTemplate.Vcrf', 23),
      code: 'InvalidParameterValue.Mode',
      text: 'conflicts with VideoTemplate.Vcrf 23',
    },
    {
      what: 'Mode ABR without a Bitrate',
      raw: withValue(withValue(MP4, 'VideoTemplate.Mode', 'ABR'), 'VideoTemplate.Bitrate', 0),
      code: 'InvalidParameterValue.Mode',
      text: 'needs VideoTemplate.Bitrate',
    },
    {
      what: 'MP3 at 48000 Hz in flv',
      raw: {
        ...MP4,
        Container: 'flv',
        AudioTemplate: { Codec: 'libmp3lame', Bitrate: 128, SampleRate: 48000, AudioChannel: 2 },
      },
      code: 'InvalidParameterValue.AudioSampleRate',
      text: 'must be 44100 for libmp3lame in flv',
    },
  ])('refused: $what', ({ raw, code, text }) => {
    const e = errorOf(() => parseCreateTemplate('Transcode', raw));
    expect(e.code).toBe(code);
    expect(e.message).toContain(text);
  });

  test('Mode VCRF with Vcrf is accepted', () => {
    const body = parseCreateTemplate(
      'Transcode',
      withValue(withValue(MP4, 'VideoTemplate.Mode', 'VCRF'), 'VideoTemplate.Vcrf', 23),
    );
    expect(body.VideoTemplate).toMatchObject({ Mode: 'VCRF', Vcrf: 23 });
  });

  test('RemoveVideo 1 on mp4 makes an audio-only MP4 (ContainerType stays Video)', () => {
    const body = parseCreateTemplate('Transcode', { Container: 'mp4', RemoveVideo: 1, AudioTemplate: AAC });
    expect(body).toMatchObject({ RemoveVideo: 1, RemoveAudio: 0, ContainerType: 'Video' });
    expect(body.VideoTemplate).toBeUndefined();
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Recognized but unsupported fields: refused by name.

describe('Create: documented values OpenVOD cannot honour are refused by name', () => {
  test.each([
    { kind: 'Transcode' as const, raw: withValue(MP4, 'VideoTemplate.Codec', 'H.266'), code: 'VideoCodec' },
    { kind: 'Transcode' as const, raw: { ...MP4, TEHDConfig: { Type: 'TEHD-100' } }, code: 'TEHDType' },
    {
      kind: 'Transcode' as const,
      raw: { ...MP4, TEHDConfig: { Type: 'OFF', MaxVideoBitrate: 3000 } },
      code: 'MaxVideoBitrate',
    },
    {
      kind: 'Transcode' as const,
      raw: { ...MP4, EnhanceConfig: { VideoEnhance: { FrameRate: { Switch: 'ON' } } } },
      code: 'EnhanceConfig',
    },
    { kind: 'Transcode' as const, raw: { ...MP4, StdExtInfo: '{"x":1}' }, code: 'StdExtInfo' },
    { kind: 'AdaptiveDynamicStreaming' as const, raw: { ...ADAPTIVE, Format: 'MPEG-DASH' }, code: 'Format' },
    {
      kind: 'AdaptiveDynamicStreaming' as const,
      raw: { ...ADAPTIVE, DrmType: 'SimpleAES' },
      code: 'DrmType',
    },
    {
      kind: 'AdaptiveDynamicStreaming' as const,
      raw: { ...ADAPTIVE, DrmType: 'Widevine+FairPlay' },
      code: 'DrmType',
    },
    {
      kind: 'AdaptiveDynamicStreaming' as const,
      raw: { ...ADAPTIVE, DrmKeyProvider: 'VOD' },
      code: 'DrmKeyProvider',
    },
    {
      kind: 'AdaptiveDynamicStreaming' as const,
      raw: { ...ADAPTIVE, DrmEncryptType: 'cbcs' },
      code: 'DrmEncryptType',
    },
    {
      kind: 'AdaptiveDynamicStreaming' as const,
      raw: { ...ADAPTIVE, SegmentType: 'ts-packed-audio' },
      code: 'SegmentType',
    },
    {
      kind: 'AdaptiveDynamicStreaming' as const,
      raw: withValue(ADAPTIVE, 'StreamInfos.0.Video.Codec', 'av1'),
      code: 'VideoCodec',
    },
    {
      kind: 'AdaptiveDynamicStreaming' as const,
      raw: withValue(ADAPTIVE, 'StreamInfos.0.Video.Codec', 'H.266'),
      code: 'VideoCodec',
    },
    {
      kind: 'AdaptiveDynamicStreaming' as const,
      raw: withValue(ADAPTIVE, 'StreamInfos.0.RemoveVideo', 1),
      code: 'RemoveVideo',
    },
    {
      kind: 'AdaptiveDynamicStreaming' as const,
      raw: withValue(ADAPTIVE, 'StreamInfos.0.Video.Gop', 48),
      code: 'Gop',
    },
    {
      kind: 'AdaptiveDynamicStreaming' as const,
      raw: withValue(ADAPTIVE, 'StreamInfos.0.Video.VideoProfile', 'main'),
      code: 'VideoProfile',
    },
    {
      kind: 'AdaptiveDynamicStreaming' as const,
      raw: withValue(ADAPTIVE, 'StreamInfos.0.TEHDConfig', { Type: 'TEHD-100' }),
      code: 'TEHDType',
    },
    {
      kind: 'AdaptiveDynamicStreaming' as const,
      raw: withValue(ADAPTIVE, 'StreamInfos.0.EnhanceConfig', { AudioEnhance: {} }),
      code: 'EnhanceConfig',
    },
    {
      kind: 'AdaptiveDynamicStreaming' as const,
      raw: withValue(ADAPTIVE, 'StreamInfos.0.StdExtInfo', 'x'),
      code: 'StdExtInfo',
    },
  ])('$kind: InvalidParameterValue.$code "not supported by OpenVOD"', ({ kind, raw, code }) => {
    const e = errorOf(() => parseCreateTemplate(kind, raw));
    expect(e.code).toBe(`InvalidParameterValue.${code}`);
    expect(e.message).toContain('not supported by OpenVOD');
  });

  test('adaptive streaming: HlsTime is refused (Tencent: transcode templates only; use SegmentDuration)', () => {
    const e = errorOf(() =>
      parseCreateTemplate('AdaptiveDynamicStreaming', withValue(ADAPTIVE, 'StreamInfos.0.Video.HlsTime', 4)),
    );
    expect(e.code).toBe('InvalidParameterValue.HlsTime');
    expect(e.message).toContain('SegmentDuration');
  });

  test('empty EnhanceConfig / StdExtInfo ask for nothing and are accepted', () => {
    const body = parseCreateTemplate('Transcode', {
      ...MP4,
      EnhanceConfig: {},
      StdExtInfo: '',
    }) as unknown as Raw;
    expect(body.EnhanceConfig).toBeUndefined();
    expect(body.StdExtInfo).toBeUndefined();
  });

  test.each([
    { count: 0, ok: false },
    { count: 1, ok: true },
    { count: 10, ok: true },
    { count: 11, ok: false },
  ])('StreamInfos with $count substreams: accepted=$ok', ({ count, ok }) => {
    const raw = { ...ADAPTIVE, StreamInfos: Array.from({ length: count }, () => STREAM) };
    if (ok) expect(parseCreateTemplate('AdaptiveDynamicStreaming', raw).StreamInfos).toHaveLength(count);
    else {
      const e = errorOf(() => parseCreateTemplate('AdaptiveDynamicStreaming', raw));
      expect(e.code).toBe('InvalidParameterValue.StreamInfos');
      expect(e.message).toBe(`StreamInfos must hold 1–10 substreams; got ${count}.`);
    }
  });

  test('image sprite: a sprite wider than 15000 px is refused', () => {
    const e = errorOf(() => parseCreateTemplate('ImageSprite', { ...SPRITE, Width: 200, ColumnCount: 100 }));
    expect(e.code).toBe('InvalidParameterValue.ColumnCount');
    expect(e.message).toContain('at most 15000 px; got 100 × 200 = 20000');
    const rows = errorOf(() =>
      parseCreateTemplate('ImageSprite', {
        ...SPRITE,
        ResolutionAdaptive: 'close',
        Height: 400,
        RowCount: 38,
      }),
    );
    expect(rows.code).toBe('InvalidParameterValue.RowCount');
    expect(
      parseCreateTemplate('ImageSprite', {
        ...SPRITE,
        ResolutionAdaptive: 'close',
        Height: 400,
        RowCount: 37,
      }).RowCount,
    ).toBe(37);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Unknown fields, wrong types, missing fields.

describe('Create: unknown, mistyped and missing parameters', () => {
  test.each(KINDS)('%s: an unknown field → InvalidParameter naming it', (kind) => {
    const e = errorOf(() => parseCreateTemplate(kind, { ...BASES[kind], Colour: 'red' }));
    expect(e.code).toBe('InvalidParameter');
    expect(e.message).toBe('Unknown parameter Colour.');
  });

  test.each(KINDS)('%s: Definition is not a Create parameter', (kind) => {
    const e = errorOf(() => parseCreateTemplate(kind, { ...BASES[kind], Definition: 1 }));
    expect(e.code).toBe('InvalidParameter');
    expect(e.message).toContain('Definition');
  });

  test.each(KINDS)('%s: SubAppId is accepted and not part of the body', (kind) => {
    const body = parseCreateTemplate(kind, { ...BASES[kind], SubAppId: 1500000001 }) as unknown as Raw;
    expect(body.SubAppId).toBeUndefined();
  });

  test.each([
    {
      kind: 'Transcode' as const,
      raw: withValue(MP4, 'VideoTemplate.Bframe', 2),
      name: 'VideoTemplate.Bframe',
    },
    {
      kind: 'Transcode' as const,
      raw: withValue(MP4, 'AudioTemplate.Channels', 2),
      name: 'AudioTemplate.Channels',
    },
    {
      kind: 'Transcode' as const,
      raw: { ...MP4, TEHDConfig: { Type: '', Level: 1 } },
      name: 'TEHDConfig.Level',
    },
    {
      kind: 'AdaptiveDynamicStreaming' as const,
      raw: withValue(ADAPTIVE, 'StreamInfos.0.Subtitle', 1),
      name: 'StreamInfos.0.Subtitle',
    },
    { kind: 'AnimatedGraphics' as const, raw: { ...ANIMATED, FillType: 'black' }, name: 'FillType' },
    {
      kind: 'Transcode' as const,
      raw: withValue(MP4, 'AudioTemplate.StreamSelects', [0]),
      name: 'AudioTemplate.StreamSelects',
    },
  ])('$kind: nested unknown field $name → InvalidParameter', ({ kind, raw, name }) => {
    const e = errorOf(() => parseCreateTemplate(kind, raw));
    expect(e.code).toBe('InvalidParameter');
    expect(e.message).toBe(`Unknown parameter ${name}.`);
  });

  test.each([
    {
      kind: 'Transcode' as const,
      raw: withValue(MP4, 'VideoTemplate.Fps', '25'),
      path: 'VideoTemplate.Fps',
      type: 'number',
    },
    { kind: 'Transcode' as const, raw: { ...MP4, Container: 4 }, path: 'Container', type: 'string' },
    { kind: 'Transcode' as const, raw: { ...MP4, VideoTemplate: [] }, path: 'VideoTemplate', type: 'object' },
    {
      kind: 'AdaptiveDynamicStreaming' as const,
      raw: { ...ADAPTIVE, StreamInfos: STREAM },
      path: 'StreamInfos',
      type: 'array',
    },
    {
      kind: 'AdaptiveDynamicStreaming' as const,
      raw: { ...ADAPTIVE, StreamInfos: [1] },
      path: 'StreamInfos.0',
      type: 'object',
    },
    { kind: 'SampleSnapshot' as const, raw: { ...SAMPLE, Width: null }, path: 'Width', type: 'number' },
  ])('$kind: $path of the wrong type → InvalidParameter', ({ kind, raw, path, type }) => {
    const e = errorOf(() => parseCreateTemplate(kind, raw));
    expect(e.code).toBe('InvalidParameter');
    expect(e.message).toContain(`The parameter ${path} must be of type ${type}`);
  });

  test('a request that is not an object → InvalidParameter', () => {
    expect(errorOf(() => parseCreateTemplate('Transcode', 'mp4')).code).toBe('InvalidParameter');
  });

  test.each([
    { kind: 'Transcode' as const, raw: { VideoTemplate: H264, AudioTemplate: AAC }, path: 'Container' },
    {
      kind: 'Transcode' as const,
      raw: withValue(MP4, 'VideoTemplate', { Fps: 25, Bitrate: 0 }),
      path: 'VideoTemplate.Codec',
    },
    {
      kind: 'Transcode' as const,
      raw: withValue(MP4, 'VideoTemplate', { Codec: 'libx264', Bitrate: 0 }),
      path: 'VideoTemplate.Fps',
    },
    {
      kind: 'Transcode' as const,
      raw: withValue(MP4, 'VideoTemplate', { Codec: 'libx264', Fps: 0 }),
      path: 'VideoTemplate.Bitrate',
    },
    {
      kind: 'Transcode' as const,
      raw: withValue(MP4, 'AudioTemplate', { Codec: 'libfdk_aac', Bitrate: 0 }),
      path: 'AudioTemplate.SampleRate',
    },
    {
      kind: 'Transcode' as const,
      raw: withValue(MP4, 'AudioTemplate', { SampleRate: 44100, Bitrate: 0 }),
      path: 'AudioTemplate.Codec',
    },
    {
      kind: 'Transcode' as const,
      raw: { ...MP4, TEHDConfig: { MaxVideoBitrate: 0 } },
      path: 'TEHDConfig.Type',
    },
    { kind: 'SampleSnapshot' as const, raw: { SampleType: 'Time' }, path: 'SampleInterval' },
    { kind: 'SampleSnapshot' as const, raw: { SampleInterval: 5 }, path: 'SampleType' },
    { kind: 'ImageSprite' as const, raw: { ...SPRITE, RowCount: undefined }, path: 'RowCount' },
    { kind: 'ImageSprite' as const, raw: { ...SPRITE, ColumnCount: undefined }, path: 'ColumnCount' },
    { kind: 'ImageSprite' as const, raw: { ...SPRITE, SampleType: undefined }, path: 'SampleType' },
    { kind: 'ImageSprite' as const, raw: { ...SPRITE, SampleInterval: undefined }, path: 'SampleInterval' },
    { kind: 'AnimatedGraphics' as const, raw: { Format: 'gif' }, path: 'Fps' },
    { kind: 'AdaptiveDynamicStreaming' as const, raw: { StreamInfos: [STREAM] }, path: 'Format' },
    { kind: 'AdaptiveDynamicStreaming' as const, raw: { Format: 'HLS' }, path: 'StreamInfos' },
    {
      kind: 'AdaptiveDynamicStreaming' as const,
      raw: { Format: 'HLS', StreamInfos: [{ Video: STREAM.Video }] },
      path: 'StreamInfos.0.Audio',
    },
    {
      kind: 'AdaptiveDynamicStreaming' as const,
      raw: withValue(ADAPTIVE, 'StreamInfos.0.Video', { Codec: 'libx264', Fps: 0 }),
      path: 'StreamInfos.0.Video.Bitrate',
    },
  ])('$kind: $path missing → MissingParameter', ({ kind, raw, path }) => {
    const e = errorOf(() => parseCreateTemplate(kind, raw));
    expect(e.code).toBe('MissingParameter');
    expect(e.message).toBe(`The parameter ${path} is required.`);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Defaults.

describe('Create: Tencent documented defaults are filled', () => {
  test('Transcode mp4', () => {
    expect(parseCreateTemplate('Transcode', MP4)).toEqual({
      Name: '',
      Comment: '',
      Container: 'mp4',
      RemoveVideo: 0,
      RemoveAudio: 0,
      ContainerType: 'Video',
      VideoTemplate: {
        Codec: 'libx264',
        Fps: 25,
        Bitrate: 1000,
        ResolutionAdaptive: 'open',
        Width: 0,
        Height: 0,
        FillType: 'black',
        Vcrf: 0,
        Gop: 0,
        GopUnit: 'frame',
        PreserveHDRSwitch: 'OFF',
        Mode: 'VBR',
        VideoProfile: 'default',
      },
      AudioTemplate: { Codec: 'libfdk_aac', Bitrate: 128, SampleRate: 44100, AudioChannel: 2 },
      TEHDConfig: { Type: '', MaxVideoBitrate: 0 },
    });
  });

  test('Transcode hls with H.265: SegmentType ts, HlsTime 0, CodecTag hvc1, no VideoProfile', () => {
    const body = parseCreateTemplate('Transcode', withValue(HLS, 'VideoTemplate.Codec', 'libx265'));
    expect(body.SegmentType).toBe('ts');
    expect(body.VideoTemplate).toMatchObject({ HlsTime: 0, CodecTag: 'hvc1' });
    expect(body.VideoTemplate?.VideoProfile).toBeUndefined();
  });

  test('Transcode mp3: RemoveVideo 1 implied, ContainerType PureAudio, no VideoTemplate', () => {
    expect(parseCreateTemplate('Transcode', MP3)).toEqual({
      Name: '',
      Comment: '',
      Container: 'mp3',
      RemoveVideo: 1,
      RemoveAudio: 0,
      ContainerType: 'PureAudio',
      AudioTemplate: { Codec: 'libmp3lame', Bitrate: 128, SampleRate: 44100, AudioChannel: 2 },
      TEHDConfig: { Type: '', MaxVideoBitrate: 0 },
    });
  });

  test('Transcode: a Vcrf without a Mode gets Mode VCRF', () => {
    expect(
      parseCreateTemplate('Transcode', withValue(MP4, 'VideoTemplate.Vcrf', 28)).VideoTemplate?.Mode,
    ).toBe('VCRF');
  });

  test('SampleSnapshot', () => {
    expect(parseCreateTemplate('SampleSnapshot', SAMPLE)).toEqual({
      Name: '',
      Comment: '',
      Width: 0,
      Height: 0,
      ResolutionAdaptive: 'open',
      Format: 'jpg',
      FillType: 'black',
      SampleType: 'Percent',
      SampleInterval: 10,
    });
  });

  test('SnapshotByTimeOffset (no parameter is required)', () => {
    expect(parseCreateTemplate('SnapshotByTimeOffset', {})).toEqual({
      Name: '',
      Comment: '',
      Width: 0,
      Height: 0,
      ResolutionAdaptive: 'open',
      Format: 'jpg',
      FillType: 'black',
    });
  });

  test('ImageSprite', () => {
    expect(
      parseCreateTemplate('ImageSprite', {
        SampleType: 'Percent',
        SampleInterval: 5,
        RowCount: 4,
        ColumnCount: 5,
      }),
    ).toEqual({
      Name: '',
      Comment: '',
      Width: 0,
      Height: 0,
      ResolutionAdaptive: 'open',
      Format: 'jpg',
      FillType: 'black',
      SampleType: 'Percent',
      SampleInterval: 5,
      RowCount: 4,
      ColumnCount: 5,
    });
  });

  test('AnimatedGraphics: Format gif, Quality 75', () => {
    expect(parseCreateTemplate('AnimatedGraphics', { Fps: 12, Name: 'gif12' })).toEqual({
      Name: 'gif12',
      Comment: '',
      Width: 0,
      Height: 0,
      ResolutionAdaptive: 'open',
      Format: 'gif',
      Fps: 12,
      Quality: 75,
    });
  });

  test('AdaptiveDynamicStreaming: no DRM, ts-segment of 6 s, substream defaults', () => {
    expect(parseCreateTemplate('AdaptiveDynamicStreaming', ADAPTIVE)).toEqual({
      Name: '',
      Comment: '',
      Format: 'HLS',
      DrmType: '',
      DisableHigherVideoBitrate: 0,
      DisableHigherVideoResolution: 0,
      SegmentType: 'ts-segment',
      SegmentDuration: 6,
      StreamInfos: [
        {
          Video: {
            Codec: 'libx264',
            Fps: 24,
            Bitrate: 800,
            ResolutionAdaptive: 'open',
            Width: 0,
            Height: 480,
            FillType: 'black',
            Vcrf: 0,
            Gop: 0,
            GopUnit: 'frame',
            PreserveHDRSwitch: 'OFF',
            Mode: 'VBR',
            VideoProfile: 'default',
          },
          Audio: { Codec: 'libfdk_aac', Bitrate: 128, SampleRate: 44100, AudioChannel: 2 },
          RemoveAudio: 0,
          RemoveVideo: 0,
        },
      ],
    });
  });

  test('the input is not changed', () => {
    const raw = structuredClone(MP4);
    parseCreateTemplate('Transcode', raw);
    expect(raw).toEqual(MP4);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Modify.

describe('Modify Transcode', () => {
  const existing = stored('Transcode', { ...MP4, Name: 'hd', Comment: 'c' }, '1001');
  const modify = (raw: Raw) =>
    applyModifyTemplate('Transcode', existing, { Definition: 1001, SubAppId: 1500000001, ...raw });

  test('a field not given keeps its value; Definition/Type/CreateTime/UpdateTime are untouched', () => {
    const t = modify({ Name: 'renamed' });
    expect(t).toEqual({ ...existing, Name: 'renamed' });
    expect(t).toMatchObject({ Definition: '1001', Type: 'Custom', CreateTime: TIME, UpdateTime: TIME });
  });

  test('a partial VideoTemplate is merged field by field', () => {
    const t = modify({ VideoTemplate: { Fps: 30, Width: 1280 } });
    expect(t.VideoTemplate).toEqual({ ...existing.VideoTemplate, Fps: 30, Width: 1280 });
    expect(t.AudioTemplate).toEqual(existing.AudioTemplate);
  });

  test('a partial AudioTemplate is merged field by field', () => {
    const t = modify({ AudioTemplate: { Bitrate: 64, AudioChannel: 1 } });
    expect(t.AudioTemplate).toEqual({ Codec: 'libfdk_aac', Bitrate: 64, SampleRate: 44100, AudioChannel: 1 });
    expect(t.VideoTemplate).toEqual(existing.VideoTemplate);
  });

  test('the existing template is not changed', () => {
    const before = structuredClone(existing);
    modify({ VideoTemplate: { Fps: 30 }, Name: 'x' });
    expect(existing).toEqual(before);
  });

  test.each([
    {
      what: 'a merged value out of range',
      raw: { VideoTemplate: { Fps: 101 } },
      code: 'InvalidParameterValue.Fps',
    },
    {
      what: 'Container mp3 while the audio is AAC',
      raw: { Container: 'mp3' },
      code: 'InvalidParameterValue.AudioCodec',
    },
    {
      what: 'Container mp3 with RemoveVideo 0',
      raw: { Container: 'mp3', RemoveVideo: 0, AudioTemplate: { Codec: 'libmp3lame' } },
      code: 'InvalidParameterValue.RemoveVideo',
    },
    {
      what: 'Container mp3 with a VideoTemplate',
      raw: { Container: 'mp3', VideoTemplate: { Fps: 30 }, AudioTemplate: { Codec: 'libmp3lame' } },
      code: 'InvalidParameterValue.VideoTemplate',
    },
    {
      what: 'Container hls while the video is av1',
      raw: { Container: 'hls', VideoTemplate: { Codec: 'av1' } },
      code: 'InvalidParameterValue.VideoCodec',
    },
    {
      what: 'RemoveVideo and RemoveAudio both 1',
      raw: { RemoveVideo: 1, RemoveAudio: 1 },
      code: 'InvalidParameterValue.RemoveAudio',
    },
    {
      what: 'CodecTag on the stored libx264',
      raw: { VideoTemplate: { CodecTag: 'hev1' } },
      code: 'InvalidParameterValue.CodecTag',
    },
    { what: 'Bframes -2', raw: { VideoTemplate: { Bframes: -2 } }, code: 'InvalidParameterValue.Bframes' },
    {
      what: 'StreamSelects (only in OverrideParameter)',
      raw: { AudioTemplate: { StreamSelects: [0] } },
      code: 'InvalidParameterValue.StreamSelects',
    },
    { what: 'an unknown field', raw: { Colour: 'red' }, code: 'InvalidParameter' },
    {
      what: 'an unknown VideoTemplate field',
      raw: { VideoTemplate: { Profile: 'high' } },
      code: 'InvalidParameter',
    },
    {
      what: 'EnhanceConfig',
      raw: { EnhanceConfig: { VideoEnhance: { Hdr: { Switch: 'ON' } } } },
      code: 'InvalidParameterValue.EnhanceConfig',
    },
    { what: 'TEHD', raw: { TEHDConfig: { Type: 'TEHD-100' } }, code: 'InvalidParameterValue.TEHDType' },
  ])('refused: $what', ({ raw, code }) => {
    expect(errorOf(() => modify(raw)).code).toBe(code);
  });

  test('Definition is required', () => {
    const e = errorOf(() => applyModifyTemplate('Transcode', existing, { Name: 'x' }));
    expect(e.code).toBe('MissingParameter');
    expect(e.message).toBe('The parameter Definition is required.');
  });

  test('Container mp3 with an MP3 codec: RemoveVideo 1 implied, the VideoTemplate dropped', () => {
    const t = modify({ Container: 'mp3', AudioTemplate: { Codec: 'libmp3lame' } });
    expect(t).toMatchObject({ Container: 'mp3', RemoveVideo: 1, ContainerType: 'PureAudio' });
    expect(t.VideoTemplate).toBeUndefined();
    expect(t.AudioTemplate).toEqual({
      Codec: 'libmp3lame',
      Bitrate: 128,
      SampleRate: 44100,
      AudioChannel: 2,
    });
  });

  test('back from mp3 to mp4 needs RemoveVideo 0 and a whole VideoTemplate', () => {
    const mp3 = stored('Transcode', MP3);
    const m = (raw: Raw) => applyModifyTemplate('Transcode', mp3, { Definition: 1000, ...raw });
    const audioOnlyMp4 = m({ Container: 'mp4', AudioTemplate: { Codec: 'libfdk_aac' } });
    expect(audioOnlyMp4).toMatchObject({ Container: 'mp4', RemoveVideo: 1, ContainerType: 'Video' });
    const partial = errorOf(() =>
      m({
        Container: 'mp4',
        RemoveVideo: 0,
        VideoTemplate: { Fps: 25 },
        AudioTemplate: { Codec: 'libfdk_aac' },
      }),
    );
    expect(partial.code).toBe('MissingParameter');
    expect(partial.message).toBe('The parameter VideoTemplate.Codec is required.');
    const whole = m({
      Container: 'mp4',
      RemoveVideo: 0,
      VideoTemplate: H264,
      AudioTemplate: { Codec: 'libfdk_aac' },
    });
    expect(whole.VideoTemplate).toMatchObject({ ...H264, FillType: 'black', ResolutionAdaptive: 'open' });
  });

  test('RemoveVideo 1 drops the stored VideoTemplate', () => {
    const t = modify({ RemoveVideo: 1 });
    expect(t.RemoveVideo).toBe(1);
    expect(t.VideoTemplate).toBeUndefined();
  });

  test('Container hls fills SegmentType ts and HlsTime 0; back to mp4 drops them', () => {
    const hls = modify({ Container: 'hls', VideoTemplate: { HlsTime: 4 } });
    expect(hls.SegmentType).toBe('ts');
    expect(hls.VideoTemplate?.HlsTime).toBe(4);
    const mp4 = applyModifyTemplate('Transcode', hls, { Definition: 1001, Container: 'mp4' });
    expect(mp4.SegmentType).toBeUndefined();
    expect(mp4.VideoTemplate?.HlsTime).toBeUndefined();
    expect(
      errorOf(() =>
        applyModifyTemplate('Transcode', hls, { Definition: 1001, Container: 'mp4', SegmentType: 'fmp4' }),
      ).code,
    ).toBe('InvalidParameterValue.SegmentType');
  });

  test('Codec libx265 fills CodecTag hvc1 and drops VideoProfile; back to libx264 drops CodecTag', () => {
    const h265 = modify({ VideoTemplate: { Codec: 'libx265' } });
    expect(h265.VideoTemplate).toMatchObject({ Codec: 'libx265', CodecTag: 'hvc1' });
    expect(h265.VideoTemplate?.VideoProfile).toBeUndefined();
    const h264 = applyModifyTemplate('Transcode', h265, {
      Definition: 1001,
      VideoTemplate: { Codec: 'libx264' },
    });
    expect(h264.VideoTemplate?.CodecTag).toBeUndefined();
    expect(h264.VideoTemplate?.VideoProfile).toBe('default');
  });

  test('Bframes -1 sets it back to automatic (removed)', () => {
    const withB = modify({ VideoTemplate: { Bframes: 3 } });
    expect(withB.VideoTemplate?.Bframes).toBe(3);
    const auto = applyModifyTemplate('Transcode', withB, {
      Definition: 1001,
      VideoTemplate: { Bframes: -1 },
    });
    expect(auto.VideoTemplate).not.toHaveProperty('Bframes');
  });

  test('Vcrf switches Mode to VCRF, and Vcrf 0 back to VBR', () => {
    const crf = modify({ VideoTemplate: { Vcrf: 23 } });
    expect(crf.VideoTemplate).toMatchObject({ Vcrf: 23, Mode: 'VCRF' });
    const vbr = applyModifyTemplate('Transcode', crf, { Definition: 1001, VideoTemplate: { Vcrf: 0 } });
    expect(vbr.VideoTemplate).toMatchObject({ Vcrf: 0, Mode: 'VBR' });
  });

  test('TEHDConfig is merged field by field', () => {
    const t = modify({ TEHDConfig: { Type: 'OFF' } });
    expect(t.TEHDConfig).toEqual({ Type: 'OFF', MaxVideoBitrate: 0 });
  });

  test('a preset-shaped template (Tencent preset 100010) can be the starting point', () => {
    const preset = presetTemplate('Transcode', 100010);
    if (!preset) throw new Error('no preset 100010');
    const t = applyModifyTemplate(
      'Transcode',
      { ...preset, Type: 'Custom' },
      { Definition: 100010, VideoTemplate: { Bitrate: 500 } },
    );
    expect(t.VideoTemplate).toMatchObject({ Codec: 'libx264', Fps: 25, Bitrate: 500, Height: 360 });
  });
});

describe('Modify: the other kinds', () => {
  test.each([
    {
      kind: 'SampleSnapshot' as const,
      raw: { Format: 'png' },
      expected: { Format: 'png', SampleType: 'Percent', SampleInterval: 10 },
    },
    {
      kind: 'SampleSnapshot' as const,
      raw: { SampleType: 'Time', SampleInterval: 300 },
      expected: { SampleType: 'Time', SampleInterval: 300 },
    },
    {
      kind: 'SnapshotByTimeOffset' as const,
      raw: { Width: 640, FillType: 'gauss' },
      expected: { Width: 640, Height: 0, FillType: 'gauss', Format: 'jpg' },
    },
    {
      kind: 'ImageSprite' as const,
      raw: { RowCount: 5 },
      expected: { RowCount: 5, ColumnCount: 10, Width: 160, Height: 90 },
    },
    {
      kind: 'AnimatedGraphics' as const,
      raw: { Format: 'webp', Quality: 90 },
      expected: { Format: 'webp', Quality: 90, Fps: 10 },
    },
    {
      kind: 'AdaptiveDynamicStreaming' as const,
      raw: { Name: 'abr', SegmentDuration: 4 },
      expected: { Name: 'abr', SegmentDuration: 4, Format: 'HLS' },
    },
  ])('$kind: given fields change, the others keep their values', ({ kind, raw, expected }) => {
    const existing = stored(kind, BASES[kind]);
    const t = applyModifyTemplate(kind, existing, { Definition: 1000, ...raw }) as unknown as Raw;
    expect(t).toMatchObject({
      ...expected,
      Definition: 1000,
      Type: 'Custom',
      CreateTime: TIME,
      UpdateTime: TIME,
    });
    const untouched = Object.keys(existing).filter((k) => !(k in raw));
    for (const k of untouched) expect(t[k]).toEqual((existing as unknown as Raw)[k]);
  });

  test.each([
    {
      kind: 'SampleSnapshot' as const,
      raw: { SampleType: 'Time' },
      existing: { SampleType: 'Time', SampleInterval: 300 },
      change: { SampleType: 'Percent' },
      code: 'SampleInterval',
    },
    {
      kind: 'ImageSprite' as const,
      raw: SPRITE,
      existing: undefined,
      change: { ColumnCount: 94 },
      code: 'ColumnCount',
    },
    { kind: 'ImageSprite' as const, raw: SPRITE, existing: undefined, change: { Width: 31 }, code: 'Width' },
    {
      kind: 'AnimatedGraphics' as const,
      raw: ANIMATED,
      existing: undefined,
      change: { Fps: 31 },
      code: 'Fps',
    },
    {
      kind: 'SnapshotByTimeOffset' as const,
      raw: OFFSET,
      existing: undefined,
      change: { Format: 'gif' },
      code: 'Format',
    },
    {
      kind: 'AdaptiveDynamicStreaming' as const,
      raw: ADAPTIVE,
      existing: undefined,
      change: { Format: 'MPEG-DASH' },
      code: 'Format',
    },
  ])('$kind: the merged template is re-validated ($code)', ({ kind, existing, change, code }) => {
    const base = stored(kind, existing ?? BASES[kind]);
    const e = errorOf(() => applyModifyTemplate(kind, base, { Definition: 1000, ...change }));
    expect(e.code).toBe(`InvalidParameterValue.${code}`);
  });

  test('SampleSnapshot: Time → Percent with an interval over 100 is refused, with one in range accepted', () => {
    const base = stored('SampleSnapshot', { SampleType: 'Time', SampleInterval: 300 });
    const e = errorOf(() =>
      applyModifyTemplate('SampleSnapshot', base, { Definition: 1000, SampleType: 'Percent' }),
    );
    expect(e.message).toContain('1–100');
    expect(
      applyModifyTemplate('SampleSnapshot', base, {
        Definition: 1000,
        SampleType: 'Percent',
        SampleInterval: 20,
      }),
    ).toMatchObject({
      SampleType: 'Percent',
      SampleInterval: 20,
    });
  });

  test('AdaptiveDynamicStreaming: StreamInfos is replaced as a whole (with defaults)', () => {
    const base = stored('AdaptiveDynamicStreaming', { ...ADAPTIVE, StreamInfos: [STREAM, STREAM] });
    const next = {
      Video: { Codec: 'libx265', Fps: 30, Bitrate: 0, Width: 1280, Height: 720 },
      Audio: { ...AAC, Bitrate: 96 },
    };
    const t = applyModifyTemplate('AdaptiveDynamicStreaming', base, {
      Definition: 1000,
      StreamInfos: [next],
    });
    expect(t.StreamInfos).toHaveLength(1);
    expect(t.StreamInfos[0].Video).toMatchObject({
      Codec: 'libx265',
      CodecTag: 'hvc1',
      Width: 1280,
      Height: 720,
      FillType: 'black',
    });
    expect(t.StreamInfos[0].Audio).toEqual({ ...AAC, Bitrate: 96, AudioChannel: 2 });
  });

  test('AdaptiveDynamicStreaming: DrmType is not a Modify parameter', () => {
    const base = stored('AdaptiveDynamicStreaming', ADAPTIVE);
    const e = errorOf(() =>
      applyModifyTemplate('AdaptiveDynamicStreaming', base, { Definition: 1000, DrmType: '' }),
    );
    expect(e.code).toBe('InvalidParameter');
    expect(e.message).toBe('Unknown parameter DrmType.');
  });

  test.each(KINDS)('%s: Definition is required, unknown fields are refused', (kind) => {
    const base = stored(kind, BASES[kind]);
    expect(errorOf(() => applyModifyTemplate(kind, base, { Name: 'x' })).code).toBe('MissingParameter');
    const e = errorOf(() => applyModifyTemplate(kind, base, { Definition: 1000, Colour: 'red' }));
    expect(e.code).toBe('InvalidParameter');
    expect(e.message).toBe('Unknown parameter Colour.');
  });

  test.each(KINDS)('%s: Name over 64 characters is refused on Modify too', (kind) => {
    const base = stored(kind, BASES[kind]);
    const e = errorOf(() => applyModifyTemplate(kind, base, { Definition: 1000, Name: 'n'.repeat(65) }));
    expect(e.code).toBe('InvalidParameterValue.Name');
  });
});
