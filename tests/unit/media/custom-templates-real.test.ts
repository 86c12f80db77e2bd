/**
 * Custom templates really drive ffmpeg: every supported field of a custom (Type 'Custom') template changes the
 * produced file as a user expects. Each case builds a template, runs its plan with the runner the worker uses
 * (`runFfmpeg`), and checks the output with ffprobe (streams, frame rates, keyframes, picture types, profiles,
 * colour tags) or by decoding a frame and reading pixels (fill colours, snapshot timing).
 *
 * Inputs are short generated patterns (320×180, 1–3 s) and 2–5 s of the real camera clip, so the file stays well
 * under two minutes on a loaded 2-core machine.
 */
import { execFile } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { resolveFfmpeg } from '../../../src/media/ffmpeg-path';
import {
  planAdaptiveStreaming,
  planAnimatedGraphic,
  planCoverBySnapshot,
  planImageSprite,
  planSampleSnapshot,
  planSnapshotByTimeOffset,
  planTranscode,
  type FfmpegPlan,
  type PlanIo,
} from '../../../src/media/plans';
import { probeMedia, type MediaProbe } from '../../../src/media/probe';
import { runFfmpeg } from '../../../src/media/run';
import type {
  AdaptiveDynamicStreamingTemplate,
  AdaptiveStreamTemplate,
  AnimatedGraphicsTemplate,
  AudioTemplateInfo,
  ImageSpriteTemplate,
  SampleSnapshotTemplate,
  SnapshotByTimeOffsetTemplate,
  TranscodeTemplate,
  VideoTemplateInfo,
} from '../../../src/media/templates';

jest.setTimeout(120_000);

const exec = promisify(execFile);
const bins = resolveFfmpeg();
const REAL = path.resolve(__dirname, '../../../../shared/media/real-footage-320x192-5994.mp4');

let work: string;
const media: Record<string, string> = {};
const probes: Record<string, MediaProbe> = {};
let encoders = '';
let counter = 0;

// ---------------------------------------------------------------------------------------------------------------
// Custom templates.

const TIME = '2026-01-01T00:00:00Z';

const video = (over: Partial<VideoTemplateInfo> = {}): VideoTemplateInfo => ({
  Codec: 'libx264',
  Fps: 0,
  Bitrate: 0,
  ResolutionAdaptive: 'open',
  Width: 0,
  Height: 0,
  FillType: 'black',
  ...over,
});

const audio = (over: Partial<AudioTemplateInfo> = {}): AudioTemplateInfo => ({
  Codec: 'libfdk_aac',
  Bitrate: 64,
  SampleRate: 44100,
  AudioChannel: 2,
  ...over,
});

const transcode = (over: Partial<TranscodeTemplate> = {}): TranscodeTemplate => ({
  Definition: '1000001',
  Type: 'Custom',
  Name: 'custom',
  Comment: '',
  Container: 'mp4',
  RemoveVideo: 0,
  RemoveAudio: 0,
  VideoTemplate: video(),
  AudioTemplate: audio(),
  CreateTime: TIME,
  UpdateTime: TIME,
  ...over,
});

const sampleSnapshot = (over: Partial<SampleSnapshotTemplate>): SampleSnapshotTemplate => ({
  Definition: 1000001,
  Type: 'Custom',
  Name: 'custom',
  Comment: '',
  Width: 0,
  Height: 0,
  ResolutionAdaptive: 'open',
  Format: 'jpg',
  SampleType: 'Percent',
  SampleInterval: 10,
  FillType: 'black',
  CreateTime: TIME,
  UpdateTime: TIME,
  ...over,
});

const snapshotByTime = (over: Partial<SnapshotByTimeOffsetTemplate>): SnapshotByTimeOffsetTemplate => ({
  Definition: 1000001,
  Type: 'Custom',
  Name: 'custom',
  Comment: '',
  Width: 0,
  Height: 0,
  ResolutionAdaptive: 'open',
  Format: 'jpg',
  FillType: 'black',
  CreateTime: TIME,
  UpdateTime: TIME,
  ...over,
});

const sprite = (over: Partial<ImageSpriteTemplate>): ImageSpriteTemplate => ({
  Definition: 1000001,
  Type: 'Custom',
  Name: 'custom',
  Comment: '',
  Width: 128,
  Height: 72,
  ResolutionAdaptive: 'open',
  SampleType: 'Time',
  SampleInterval: 1,
  RowCount: 2,
  ColumnCount: 2,
  FillType: 'black',
  Format: 'jpg',
  CreateTime: TIME,
  UpdateTime: TIME,
  ...over,
});

const stream = (
  v: Partial<VideoTemplateInfo>,
  a: Partial<AudioTemplateInfo> = {},
): AdaptiveStreamTemplate => ({
  Video: video(v),
  Audio: audio(a),
  RemoveAudio: 0,
  RemoveVideo: 0,
});

const adaptive = (over: Partial<AdaptiveDynamicStreamingTemplate>): AdaptiveDynamicStreamingTemplate => ({
  Definition: 1000001,
  Type: 'Custom',
  Name: 'custom',
  Comment: '',
  Format: 'HLS',
  DrmType: '',
  StreamInfos: [],
  DisableHigherVideoBitrate: 0,
  DisableHigherVideoResolution: 0,
  CreateTime: TIME,
  UpdateTime: TIME,
  ...over,
});

const animated = (over: Partial<AnimatedGraphicsTemplate>): AnimatedGraphicsTemplate => ({
  Definition: 1000001,
  Type: 'Custom',
  Name: 'custom',
  Comment: '',
  Width: 0,
  Height: 0,
  ResolutionAdaptive: 'open',
  Format: 'gif',
  Fps: 10,
  Quality: 75,
  CreateTime: TIME,
  UpdateTime: TIME,
  ...over,
});

// ---------------------------------------------------------------------------------------------------------------
// Inputs.

async function gen(name: string, args: string[]): Promise<string> {
  const file = path.join(work, 'in', name);
  await exec(bins.ffmpeg, ['-hide_banner', '-loglevel', 'error', '-y', ...args, file]);
  return file;
}

const sine = (seconds: number) => ['-f', 'lavfi', '-i', `sine=f=440:sample_rate=48000:d=${seconds}`];
const x264 = ['-c:v', 'libx264', '-preset', 'ultrafast', '-crf', '10', '-pix_fmt', 'yuv420p'];
const stereoAac = ['-c:a', 'aac', '-ac', '2', '-shortest'];

beforeAll(async () => {
  work = mkdtempSync(path.join(tmpdir(), 'openvod-custom-'));
  mkdirSync(path.join(work, 'in'));
  encoders = (await exec(bins.ffmpeg, ['-hide_banner', '-encoders'])).stdout;
  await Promise.all([
    // A busy test pattern with stereo audio: 3 s.
    gen('land.mp4', [
      ...['-f', 'lavfi', '-i', 'testsrc2=s=320x180:r=25:d=3'],
      ...sine(3),
      ...x264,
      ...stereoAac,
    ]).then((f) => void (media.land = f)),
    gen('portrait.mp4', ['-f', 'lavfi', '-i', 'testsrc2=s=180x320:r=25:d=1', ...x264]).then(
      (f) => void (media.portrait = f),
    ),
    // Red with a lime band on the left (x < 40) and a blue band on the right (x ≥ 280): shows what fills a box.
    gen('bands.mp4', [
      ...[
        '-f',
        'lavfi',
        '-i',
        'color=c=red:s=320x180:r=25:d=1,drawbox=x=0:y=0:w=40:h=180:color=0x00FF00:t=fill,drawbox=x=280:y=0:w=40:h=180:color=blue:t=fill',
      ],
      ...x264,
    ]).then((f) => void (media.bands = f)),
    // A clock in the picture: red = 80 × t (t in seconds), green = blue = 0; 3 s.
    gen('ramp.mp4', [
      ...['-f', 'lavfi', '-i', "nullsrc=s=320x180:r=25:d=3,format=gbrp,geq=r='min(255,80*T)':g=0:b=0"],
      ...x264,
    ]).then((f) => void (media.ramp = f)),
    // HDR10: 10-bit H.265, BT.2020 primaries, PQ transfer.
    gen('hdr.mp4', [
      ...['-f', 'lavfi', '-i', 'testsrc2=s=320x180:r=25:d=1'],
      ...['-c:v', 'libx265', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p10le'],
      ...['-x265-params', 'log-level=error:colorprim=bt2020:transfer=smpte2084:colormatrix=bt2020nc'],
      ...['-color_primaries', 'bt2020', '-color_trc', 'smpte2084', '-colorspace', 'bt2020nc'],
    ]).then((f) => void (media.hdr = f)),
    // Hard scene cuts at 1 s and 2 s (three different patterns).
    gen('cuts.mp4', [
      '-filter_complex',
      'testsrc2=s=320x180:r=25:d=1[a];mandelbrot=s=320x180:r=25,trim=duration=1[b];smptebars=s=320x180:r=25:d=1[c];[a][b][c]concat=n=3',
      ...x264,
    ]).then((f) => void (media.cuts = f)),
    // The first 5 s of the real camera clip (59.94 fps), stream-copied.
    gen('real5.mp4', ['-t', '5', '-i', REAL, '-c', 'copy']).then((f) => void (media.real5 = f)),
  ]);
  for (const [k, f] of Object.entries(media)) probes[k] = await probeMedia(bins.ffprobe, f);
  // The probe may not report colour; the plans read it when it does.
  const c = await streamOf(media.hdr, 'v');
  probes.hdr.video = {
    ...(probes.hdr.video as NonNullable<MediaProbe['video']>),
    ...({
      colorTransfer: c.color_transfer,
      colorPrimaries: c.color_primaries,
      colorSpace: c.color_space,
    } as object),
  };
});

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

// ---------------------------------------------------------------------------------------------------------------
// Running and probing.

/** Runs a plan as the worker does (runFfmpeg for each run, then the extra files). */
async function execute(make: (io: PlanIo) => FfmpegPlan, input: string) {
  const outDir = path.join(work, `out-${++counter}`);
  mkdirSync(outDir);
  const plan = make({ input, outDir });
  for (const args of plan.runs) {
    await runFfmpeg(bins.ffmpeg, args, { durationSeconds: 5, cwd: outDir, timeoutMs: 90_000 });
  }
  for (const f of plan.extraFiles ?? []) writeFileSync(path.join(outDir, f.path), f.content);
  const files = (readdirSync(outDir, { recursive: true }) as string[]).map(String).sort();
  return { outDir, plan, files, main: path.join(outDir, plan.mainOutput ?? files[0]) };
}

type Json = Record<string, string | number | undefined>;

async function ffprobeJson(file: string, args: string[]): Promise<Record<string, Json[]>> {
  const { stdout } = await exec(bins.ffprobe, ['-v', 'error', '-of', 'json', ...args, file], {
    maxBuffer: 64 * 1024 * 1024,
  });
  return JSON.parse(stdout) as Record<string, Json[]>;
}

/** The first stream of a kind, as ffprobe reports it; undefined when there is none. */
async function streamOf(file: string, kind: 'v' | 'a'): Promise<Json> {
  const j = await ffprobeJson(file, ['-show_streams', '-select_streams', kind]);
  return (j.streams ?? [])[0];
}

async function formatOf(file: string): Promise<Json> {
  const j = (await ffprobeJson(file, ['-show_format'])) as unknown as { format: Json };
  return j.format;
}

/** Video packets: presentation time and whether each is a keyframe. */
async function packets(file: string): Promise<Array<{ t: number; key: boolean; size: number }>> {
  const j = await ffprobeJson(file, [
    '-select_streams',
    'v:0',
    '-show_entries',
    'packet=pts_time,flags,size',
  ]);
  return (j.packets ?? [])
    .map((p) => ({ t: Number(p.pts_time), key: String(p.flags).includes('K'), size: Number(p.size) }))
    .sort((a, b) => a.t - b.t);
}

async function keyframeTimes(file: string): Promise<number[]> {
  return (await packets(file)).filter((p) => p.key).map((p) => Math.round(p.t * 1000) / 1000);
}

async function pictTypes(file: string): Promise<Set<string>> {
  const j = await ffprobeJson(file, ['-select_streams', 'v:0', '-show_entries', 'frame=pict_type']);
  return new Set((j.frames ?? []).map((f) => String(f.pict_type)));
}

/** The video stream's bitrate in kbps, from its packets (what a viewer downloads). */
async function videoKbps(file: string): Promise<number> {
  const p = await packets(file);
  const bytes = p.reduce((a, b) => a + b.size, 0);
  const duration = (p[p.length - 1].t - p[0].t) * (p.length / Math.max(1, p.length - 1));
  return (bytes * 8) / duration / 1000;
}

/** One decoded frame as RGB. */
async function frame(
  file: string,
  at = 0,
): Promise<{ width: number; height: number; px: (x: number, y: number) => number[] }> {
  const v = await streamOf(file, 'v');
  const width = Number(v.width);
  const height = Number(v.height);
  const { stdout } = await exec(
    bins.ffmpeg,
    [
      ...['-hide_banner', '-loglevel', 'error', ...(at > 0 ? ['-ss', String(at)] : []), '-i', file],
      ...['-frames:v', '1', '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'],
    ],
    { encoding: 'buffer', maxBuffer: 64 * 1024 * 1024 },
  );
  const buf = stdout as unknown as Buffer;
  return {
    width,
    height,
    px: (x, y) => {
      const i = (y * width + x) * 3;
      return [buf[i], buf[i + 1], buf[i + 2]];
    },
  };
}

const RED = [255, 0, 0];
const LIME = [0, 255, 0];
const BLACK = [0, 0, 0];
const WHITE = [255, 255, 255];

function expectColor(actual: number[], expected: number[], tolerance = 40): void {
  const off = Math.max(...actual.map((c, i) => Math.abs(c - expected[i])));
  if (off > tolerance)
    throw new Error(`colour ${actual.join(',')} is not ${expected.join(',')} (±${tolerance})`);
}

const near = (actual: number, expected: number, tolerance: number) => {
  if (Math.abs(actual - expected) > tolerance)
    throw new Error(`${actual} is not within ${tolerance} of ${expected}`);
};

const has = (encoder: string) => new RegExp(`^ [A-Z.]{6} ${encoder} `, 'm').test(encoders);

/** Keyframe intervals in seconds (between consecutive keyframes). */
const intervals = (times: number[]) => times.slice(1).map((t, i) => Math.round((t - times[i]) * 1000) / 1000);

// ---------------------------------------------------------------------------------------------------------------

describe('custom transcode templates: video', () => {
  test('H.264 MP4 from the real clip: Fps 15, Height 144 (open: 240×144), Gop 2 s, Bframes 0, baseline; AAC 32 kHz mono', async () => {
    const t = transcode({
      VideoTemplate: video({
        Fps: 15,
        Height: 144,
        Gop: 2,
        GopUnit: 'second',
        Bframes: 0,
        VideoProfile: 'baseline',
        Bitrate: 200,
      }),
      AudioTemplate: audio({ Bitrate: 48, SampleRate: 32000, AudioChannel: 1 }),
    });
    const { main } = await execute(
      (io) => planTranscode(t, probes.real5, { ...io, endTimeOffset: 4.5 }),
      media.real5,
    );
    const v = await streamOf(main, 'v');
    expect([v.codec_name, v.width, v.height, v.r_frame_rate, v.avg_frame_rate, v.profile]).toEqual([
      'h264',
      240,
      144,
      '15/1',
      '15/1',
      'Constrained Baseline',
    ]);
    expect(intervals(await keyframeTimes(main))).toEqual([2, 2]);
    expect([...(await pictTypes(main))].sort()).toEqual(['I', 'P']);
    const a = await streamOf(main, 'a');
    expect([a.codec_name, a.sample_rate, a.channels]).toEqual(['aac', '32000', 1]);
  });

  test('H.265 MP4, CodecTag hev1, Vcrf 30 (Bitrate unused), Width 160 close, Gop 12 frames, Bframes 2, main; AAC 5.1 48 kHz', async () => {
    const t = transcode({
      VideoTemplate: video({
        Codec: 'libx265',
        CodecTag: 'hev1',
        Vcrf: 30,
        Bitrate: 5000,
        Width: 160,
        ResolutionAdaptive: 'close',
        Gop: 12,
        GopUnit: 'frame',
        Bframes: 2,
        VideoProfile: 'main',
      }),
      AudioTemplate: audio({ Bitrate: 192, SampleRate: 48000, AudioChannel: 6 }),
    });
    const { main } = await execute((io) => planTranscode(t, probes.land, io), media.land);
    const v = await streamOf(main, 'v');
    expect([v.codec_name, v.codec_tag_string, v.width, v.height, v.profile]).toEqual([
      'hevc',
      'hev1',
      160,
      90,
      'Main',
    ]);
    expect(new Set(intervals(await keyframeTimes(main)))).toEqual(new Set([0.48])); // 12 frames at 25 fps
    expect(await pictTypes(main)).toContain('B');
    expect(await videoKbps(main)).toBeLessThan(1000); // CRF, not the 5000 kbps Bitrate
    const a = await streamOf(main, 'a');
    expect([a.codec_name, a.sample_rate, a.channels]).toEqual(['aac', '48000', 6]);
  });

  test.each(['libx264', 'libx265'])(
    '%s: Gop 30 frames is exact on a source with scene cuts (keyframes at 0, 1.2, 2.4 s only)',
    async (codec) => {
      const t = transcode({
        VideoTemplate: video({ Codec: codec, Gop: 30, GopUnit: 'frame' }),
        RemoveAudio: 1,
      });
      const { main } = await execute((io) => planTranscode(t, probes.cuts, io), media.cuts);
      expect(await keyframeTimes(main)).toEqual([0, 1.2, 2.4]);
    },
  );

  test('H.265 with the default CodecTag is hvc1', async () => {
    const t = transcode({ VideoTemplate: video({ Codec: 'libx265', Height: 128 }), RemoveAudio: 1 });
    const { main } = await execute((io) => planTranscode(t, probes.portrait, io), media.portrait);
    expect((await streamOf(main, 'v')).codec_tag_string).toBe('hvc1');
  });

  test.each([
    { mode: undefined, kbps: 150, profile: 'main', expected: 'Main' },
    { mode: 'VBR', kbps: 300, profile: 'high', expected: 'High' },
    { mode: 'ABR', kbps: 400, profile: undefined, expected: 'High' },
    { mode: 'CBR', kbps: 250, profile: undefined, expected: 'High' },
  ])(
    'Bitrate $kbps kbps, Mode $mode on 5 s of real footage: within ±25 %; VideoProfile $profile',
    async ({ mode, kbps, profile, expected }) => {
      const t = transcode({
        VideoTemplate: video({ Bitrate: kbps, Mode: mode, VideoProfile: profile }),
        RemoveAudio: 1,
      });
      const { main } = await execute((io) => planTranscode(t, probes.real5, io), media.real5);
      const v = await streamOf(main, 'v');
      expect(v.profile).toBe(expected);
      const measured = await videoKbps(main);
      near(measured, kbps, kbps * 0.25);
      if (mode === 'CBR') {
        // Constant: no one-second window far above the target.
        const p = await packets(main);
        for (let s = 0; s + 1 <= p[p.length - 1].t; s += 0.5) {
          const bits = p.filter((x) => x.t >= s && x.t < s + 1).reduce((a, b) => a + b.size * 8, 0);
          expect(bits / 1000).toBeLessThan(kbps * 1.6);
        }
      }
    },
  );

  test.each([
    { fps: 0, expected: '60000/1001' },
    { fps: 30, expected: '30/1' },
    { fps: 24, expected: '24/1' },
    { fps: 100, expected: '60000/1001' },
  ])('Fps $fps on the 59.94 fps clip → $expected (never above the source)', async ({ fps, expected }) => {
    const t = transcode({ VideoTemplate: video({ Fps: fps }), RemoveAudio: 1 });
    const { main } = await execute(
      (io) => planTranscode(t, probes.real5, { ...io, endTimeOffset: 1.5 }),
      media.real5,
    );
    const v = await streamOf(main, 'v');
    expect([v.r_frame_rate, v.avg_frame_rate]).toEqual([expected, expected]);
  });

  test.each([
    // [template size, ResolutionAdaptive, source, expected size]
    { w: 0, h: 0, ra: 'open', src: 'land', size: [320, 180] },
    { w: 0, h: 128, ra: 'open', src: 'land', size: [228, 128] },
    { w: 160, h: 0, ra: 'close', src: 'land', size: [160, 90] },
    { w: 256, h: 144, ra: 'open', src: 'portrait', size: [144, 256] }, // long side 256 on a portrait source
    { w: 256, h: 144, ra: 'close', src: 'portrait', size: [256, 144] }, // literal width × height (padded)
    { w: 0, h: 144, ra: 'open', src: 'portrait', size: [144, 256] }, // short side 144
    { w: 0, h: 144, ra: 'close', src: 'portrait', size: [82, 144] }, // height 144
  ] as const)(
    'Width $w Height $h ResolutionAdaptive $ra on $src → $size',
    async ({ w, h, ra, src, size }) => {
      const t = transcode({
        VideoTemplate: video({ Width: w, Height: h, ResolutionAdaptive: ra }),
        RemoveAudio: 1,
      });
      const { main } = await execute(
        (io) => planTranscode(t, probes[src], { ...io, endTimeOffset: 0.5 }),
        media[src],
      );
      const v = await streamOf(main, 'v');
      expect([v.width, v.height]).toEqual(size);
    },
  );

  // The source is red with a lime band at the left edge; the box is square, so the picture (320×180) sits in
  // the middle (y 70…249) and the rows above and below it are the fill.
  test.each([
    { fill: 'black', top: BLACK, topLeft: BLACK, left: LIME },
    { fill: 'white', top: WHITE, topLeft: WHITE, left: LIME },
    // The blurred background is the centre of the picture enlarged: red, also at the left edge.
    { fill: 'gauss', top: RED, topLeft: RED, left: LIME },
    // Stretched: no fill; the lime band runs the full height.
    { fill: 'stretch', top: RED, topLeft: LIME, left: LIME },
  ] as const)('FillType $fill in a 320×320 box', async ({ fill, top, topLeft, left }) => {
    const t = transcode({
      VideoTemplate: video({
        Width: 320,
        Height: 320,
        ResolutionAdaptive: 'close',
        FillType: fill,
        Vcrf: 18,
      }),
      RemoveAudio: 1,
    });
    const { main } = await execute((io) => planTranscode(t, probes.bands, io), media.bands);
    const f = await frame(main);
    expect([f.width, f.height]).toEqual([320, 320]);
    expectColor(f.px(160, 20), top);
    expectColor(f.px(10, 20), topLeft, fill === 'gauss' ? 90 : 40);
    expectColor(f.px(10, 160), left);
    expectColor(f.px(160, 160), RED);
    if (fill === 'gauss') expect(f.px(10, 20)[0]).toBeGreaterThan(f.px(10, 20)[1] + 60); // red, not the band
  });

  test('other codecs when the build has them: AV1 and VP9 in MP4 with Fps and size', async () => {
    const codecs = [
      ...(has('libaom-av1') ? [{ codec: 'av1', name: 'av1' }] : []),
      ...(has('libvpx-vp9') ? [{ codec: 'libvpx-vp9', name: 'vp9' }] : []),
    ];
    expect(codecs.length).toBeGreaterThan(0);
    for (const { codec, name } of codecs) {
      const t = transcode({
        VideoTemplate: video({ Codec: codec, Fps: 10, Width: 160, Bitrate: 200 }),
        AudioTemplate: audio({ Codec: 'libfdk_aac' }),
      });
      const { main } = await execute(
        (io) => planTranscode(t, probes.land, { ...io, endTimeOffset: 1 }),
        media.land,
      );
      const v = await streamOf(main, 'v');
      expect([v.codec_name, v.width, v.height, v.r_frame_rate]).toEqual([name, 160, 90, '10/1']);
    }
  });

  test('PreserveHDRSwitch on an HDR10 source: OFF → SDR BT.709 8-bit; ON → HDR kept in H.265 (10-bit PQ); ON with H.264 → SDR', async () => {
    const cases = [
      { codec: 'libx265', sw: 'OFF', fmt: 'yuv420p', trc: 'bt709', prim: 'bt709' },
      { codec: 'libx265', sw: 'ON', fmt: 'yuv420p10le', trc: 'smpte2084', prim: 'bt2020' },
      { codec: 'libx264', sw: 'ON', fmt: 'yuv420p', trc: 'bt709', prim: 'bt709' },
    ] as const;
    for (const c of cases) {
      const t = transcode({
        VideoTemplate: video({ Codec: c.codec, PreserveHDRSwitch: c.sw, Width: 160 }),
        RemoveAudio: 1,
      });
      const { main } = await execute(
        (io) => planTranscode(t, probes.hdr, { ...io, endTimeOffset: 0.4 }),
        media.hdr,
      );
      const v = await streamOf(main, 'v');
      expect([c.sw, v.pix_fmt, v.color_transfer, v.color_primaries]).toEqual([c.sw, c.fmt, c.trc, c.prim]);
    }
  });
});

describe('custom transcode templates: containers and audio', () => {
  test('HLS with TS segments: HlsTime 1 → 1 s segments (keyframes follow), H.264 + AAC', async () => {
    const t = transcode({
      Container: 'hls',
      SegmentType: 'ts',
      VideoTemplate: video({ Bitrate: 300, HlsTime: 1 }),
    });
    const { outDir, files, main } = await execute((io) => planTranscode(t, probes.land, io), media.land);
    expect(files).toEqual(['index.m3u8', 'seg_00000.ts', 'seg_00001.ts', 'seg_00002.ts']);
    const playlist = readFileSync(main, 'utf8');
    for (const d of playlist.match(/#EXTINF:([\d.]+)/g) ?? []) near(Number(d.slice(8)), 1, 0.05);
    expect(playlist).toContain('#EXT-X-TARGETDURATION:1');
    const v = await streamOf(path.join(outDir, 'seg_00001.ts'), 'v');
    expect(v.codec_name).toBe('h264');
    expect((await streamOf(main, 'a')).codec_name).toBe('aac');
  });

  test('HLS with fMP4 segments (SegmentType fmp4): init.mp4 + .m4s, H.265 hvc1, HlsTime 1', async () => {
    const t = transcode({
      Container: 'hls',
      SegmentType: 'fmp4',
      VideoTemplate: video({ Codec: 'libx265', HlsTime: 1, Width: 160 }),
    });
    const { files, main } = await execute((io) => planTranscode(t, probes.land, io), media.land);
    expect(files).toEqual(['index.m3u8', 'init.mp4', 'seg_00000.m4s', 'seg_00001.m4s', 'seg_00002.m4s']);
    expect(readFileSync(main, 'utf8')).toContain('#EXT-X-MAP:URI="init.mp4"');
    const v = await streamOf(main, 'v');
    expect([v.codec_name, v.codec_tag_string, v.height]).toEqual(['hevc', 'hvc1', 90]);
  });

  test('FLV with MP3 at another rate than 44.1/22.05/11.025 kHz is refused (40000); SampleRate 0 on a 48 kHz source → 44.1 kHz', async () => {
    const t48 = transcode({
      Container: 'flv',
      AudioTemplate: audio({ Codec: 'libmp3lame', SampleRate: 48000 }),
    });
    expect(() => planTranscode(t48, probes.land, { input: media.land, outDir: work })).toThrow(
      /44100, 22050 or 11025/,
    );
    const t0 = transcode({
      Container: 'flv',
      RemoveVideo: 1,
      AudioTemplate: audio({ Codec: 'libmp3lame', SampleRate: 0 }),
    });
    const { main } = await execute((io) => planTranscode(t0, probes.land, io), media.land);
    expect((await streamOf(main, 'a')).sample_rate).toBe('44100');
  });

  test('FLV: H.264 + MP3 (libmp3lame) 44.1 kHz', async () => {
    const t = transcode({
      Container: 'flv',
      VideoTemplate: video({ Width: 160 }),
      AudioTemplate: audio({ Codec: 'libmp3lame', Bitrate: 96 }),
    });
    const { main } = await execute((io) => planTranscode(t, probes.land, io), media.land);
    expect((await formatOf(main)).format_name).toBe('flv');
    expect((await streamOf(main, 'v')).codec_name).toBe('h264');
    const a = await streamOf(main, 'a');
    expect([a.codec_name, a.sample_rate]).toEqual(['mp3', '44100']);
  });

  test.each([
    { container: 'mp3', codec: 'libmp3lame', rate: 32000, ch: 1, kbps: 96, format: 'mp3', name: 'mp3' },
    {
      container: 'm4a',
      codec: 'libfdk_aac',
      rate: 48000,
      ch: 2,
      kbps: 128,
      format: 'mov,mp4,m4a,3gp,3g2,mj2',
      name: 'aac',
    },
    {
      container: 'm4a',
      codec: 'ac3',
      rate: 48000,
      ch: 2,
      kbps: 192,
      format: 'mov,mp4,m4a,3gp,3g2,mj2',
      name: 'ac3',
    },
    { container: 'flac', codec: 'flac', rate: 44100, ch: 1, kbps: 0, format: 'flac', name: 'flac' },
    { container: 'ogg', codec: 'flac', rate: 48000, ch: 2, kbps: 0, format: 'ogg', name: 'flac' },
    { container: 'ogg', codec: 'libvorbis', rate: 44100, ch: 2, kbps: 128, format: 'ogg', name: 'vorbis' },
    { container: 'ogg', codec: 'libopus', rate: 48000, ch: 1, kbps: 64, format: 'ogg', name: 'opus' },
    { container: 'wav', codec: 'pcm16', rate: 16000, ch: 1, kbps: 0, format: 'wav', name: 'pcm_s16le' },
  ])(
    '$container with $codec, $rate Hz, $ch channel(s): audio only (the video is dropped)',
    async ({ container, codec, rate, ch, kbps, format, name }) => {
      const t = transcode({
        Container: container,
        RemoveVideo: 0, // an audio container drops the video whatever RemoveVideo says
        AudioTemplate: audio({ Codec: codec, SampleRate: rate, AudioChannel: ch, Bitrate: kbps }),
      });
      // The real clip's sound (a sine wave would need far fewer bits than asked).
      const { main } = await execute((io) => planTranscode(t, probes.real5, io), media.real5);
      expect(path.extname(main)).toBe(`.${container}`);
      expect((await formatOf(main)).format_name).toBe(format);
      expect(await streamOf(main, 'v')).toBeUndefined();
      const a = await streamOf(main, 'a');
      expect([a.codec_name, Number(a.sample_rate), a.channels]).toEqual([name, rate, ch]);
      if (kbps > 0 && codec !== 'libopus' && codec !== 'libvorbis') {
        const bitrate = Number(a.bit_rate) || Number((await formatOf(main)).bit_rate);
        near(bitrate / 1000, kbps, kbps * 0.25);
      }
    },
  );

  test('RemoveVideo=1 in MP4 (MP2 audio): no video stream; RemoveAudio=1: no audio stream', async () => {
    const noVideo = await execute(
      (io) =>
        planTranscode(
          transcode({ RemoveVideo: 1, AudioTemplate: audio({ Codec: 'mp2', Bitrate: 128 }) }),
          probes.land,
          io,
        ),
      media.land,
    );
    expect(await streamOf(noVideo.main, 'v')).toBeUndefined();
    // MP4 labels every MPEG-1 audio layer alike (ffprobe says mp3): the frame header says Layer II (0xFFFC/D).
    const first = await ffprobeJson(noVideo.main, [
      '-select_streams',
      'a:0',
      '-show_packets',
      '-show_data',
      '-read_intervals',
      '%+#1',
    ]);
    expect(
      String(first.packets[0].data)
        .trim()
        .replace(/^\S+:\s*/, '')
        .slice(0, 4),
    ).toMatch(/^fff[cd]$/);
    const noAudio = await execute(
      (io) =>
        planTranscode(transcode({ RemoveAudio: 1, VideoTemplate: video({ Width: 160 }) }), probes.land, io),
      media.land,
    );
    expect(await streamOf(noAudio.main, 'a')).toBeUndefined();
    expect((await streamOf(noAudio.main, 'v')).codec_name).toBe('h264');
  });
});

describe('custom snapshot and sprite templates', () => {
  // ramp.mp4: red = 80 × t, so an image's red value says when it was taken.
  const redAt = async (file: string, x = 5, y = 5) => (await frame(file)).px(x, y)[0];

  test('SampleSnapshot Time 1 s, PNG, Width 160 → 3 images at 0, 1, 2 s of 160×90', async () => {
    const t = sampleSnapshot({ SampleType: 'Time', SampleInterval: 1, Format: 'png', Width: 160 });
    const { outDir, files } = await execute((io) => planSampleSnapshot(t, probes.ramp, io), media.ramp);
    expect(files).toEqual(['1.png', '2.png', '3.png']);
    for (const [i, f] of files.entries()) {
      const v = await streamOf(path.join(outDir, f), 'v');
      expect([v.codec_name, v.width, v.height]).toEqual(['png', 160, 90]);
      near(await redAt(path.join(outDir, f)), 80 * i, 12);
    }
  });

  test('SampleSnapshot Percent 50, WebP: 2 images at 0 % and 50 % (1.5 s)', async () => {
    const t = sampleSnapshot({ SampleType: 'Percent', SampleInterval: 50, Format: 'webp' });
    const { outDir, files } = await execute((io) => planSampleSnapshot(t, probes.ramp, io), media.ramp);
    expect(files).toEqual(['1.webp', '2.webp']);
    expect((await streamOf(path.join(outDir, '2.webp'), 'v')).codec_name).toBe('webp');
    near(await redAt(path.join(outDir, '1.webp')), 0, 12);
    near(await redAt(path.join(outDir, '2.webp')), 120, 14);
  });

  test('snapshots of an HDR10 source are tone-mapped to SDR', async () => {
    const t = sampleSnapshot({ SampleType: 'Percent', SampleInterval: 100, Format: 'png' });
    const mapped = await execute((io) => planSampleSnapshot(t, probes.hdr, io), media.hdr);
    // The same source as a probe without colour facts sees it (not HDR): no tone mapping.
    const plain = { ...(probes.hdr.video as NonNullable<MediaProbe['video']>) };
    delete (plain as { colorTransfer?: string }).colorTransfer;
    const untouched: MediaProbe = { ...probes.hdr, video: plain };
    const raw = await execute((io) => planSampleSnapshot(t, untouched, io), media.hdr);
    // PQ code values shown as if SDR are far too bright; tone-mapped (PQ → linear → hable → BT.709) they are not.
    const mean = async (file: string) => {
      const f = await frame(file);
      let sum = 0;
      for (let y = 0; y < f.height; y += 4) for (let x = 0; x < f.width; x += 4) sum += f.px(x, y)[1];
      return sum / (Math.ceil(f.height / 4) * Math.ceil(f.width / 4));
    };
    expect(await mean(mapped.main)).toBeLessThan((await mean(raw.main)) - 20);
  });

  test('SampleSnapshot JPG in a 160×160 box (close) with white fill', async () => {
    const t = sampleSnapshot({
      SampleType: 'Percent',
      SampleInterval: 100,
      Width: 160,
      Height: 160,
      ResolutionAdaptive: 'close',
      FillType: 'white',
    });
    const { outDir, files } = await execute((io) => planSampleSnapshot(t, probes.bands, io), media.bands);
    expect(files).toEqual(['1.jpg']);
    const f = await frame(path.join(outDir, '1.jpg'));
    expect([f.width, f.height, (await streamOf(path.join(outDir, '1.jpg'), 'v')).codec_name]).toEqual([
      160,
      160,
      'mjpeg',
    ]);
    expectColor(f.px(80, 10), WHITE);
    expectColor(f.px(80, 80), RED);
  });

  test('SnapshotByTimeOffset: PNG at 0, 1, 2 s with Width 160 (160×90); gauss in a box; cover by snapshot', async () => {
    const t = snapshotByTime({ Format: 'png', Width: 160 });
    const { outDir, files } = await execute(
      (io) => planSnapshotByTimeOffset(t, probes.ramp, { ...io, timeOffsetsMs: [0, 1000, 2000] }),
      media.ramp,
    );
    expect(files).toEqual(['0.png', '1000.png', '2000.png']);
    for (const ms of [0, 1000, 2000]) {
      const file = path.join(outDir, `${ms}.png`);
      const v = await streamOf(file, 'v');
      expect([v.codec_name, v.width, v.height]).toEqual(['png', 160, 90]);
      near(await redAt(file), (80 * ms) / 1000, 12);
    }
    const boxed = snapshotByTime({
      Format: 'jpg',
      Width: 200,
      Height: 200,
      ResolutionAdaptive: 'close',
      FillType: 'gauss',
    });
    const g = await execute(
      (io) => planSnapshotByTimeOffset(boxed, probes.bands, { ...io, timeOffsetsMs: [500] }),
      media.bands,
    );
    const f = await frame(g.main);
    expect([f.width, f.height]).toEqual([200, 200]);
    expectColor(f.px(100, 10), RED); // blurred picture, not black
    const cover = await execute(
      (io) =>
        planCoverBySnapshot(snapshotByTime({ Format: 'webp', Width: 160 }), probes.ramp, {
          ...io,
          positionType: 'Time',
          positionValue: 2,
        }),
      media.ramp,
    );
    const c = await streamOf(cover.main, 'v');
    expect([path.basename(cover.main), c.codec_name, c.width, c.height]).toEqual([
      'cover.webp',
      'webp',
      160,
      90,
    ]);
    near(await redAt(cover.main), 160, 14);
  });

  test('ImageSprite: 128×72 tiles, 2 rows × 3 columns, every 0.5 s, PNG → one 384×144 image, WebVTT coordinates match the tiles', async () => {
    const t = sprite({
      Width: 128,
      Height: 72,
      ResolutionAdaptive: 'close',
      RowCount: 2,
      ColumnCount: 3,
      SampleType: 'Time',
      SampleInterval: 0.5,
      Format: 'png',
    });
    const { outDir, files } = await execute((io) => planImageSprite(t, probes.ramp, io), media.ramp);
    expect(files).toEqual(['sprite.vtt', 'sprite_0.png']);
    const img = path.join(outDir, 'sprite_0.png');
    expect((await streamOf(img, 'v')).codec_name).toBe('png');
    const f = await frame(img);
    expect([f.width, f.height]).toEqual([384, 144]);
    const vtt = readFileSync(path.join(outDir, 'sprite.vtt'), 'utf8');
    const cues = [...vtt.matchAll(/([\d:.]+) --> ([\d:.]+)\n(\S+)#xywh=(\d+),(\d+),(\d+),(\d+)/g)];
    expect(cues).toHaveLength(6);
    for (const [i, c] of cues.entries()) {
      const [x, y, w, h] = c.slice(4, 8).map(Number);
      expect([c[3], x, y, w, h]).toEqual(['sprite_0.png', (i % 3) * 128, Math.floor(i / 3) * 72, 128, 72]);
      near(f.px(x + 64, y + 36)[0], 80 * 0.5 * i, 12); // the tile shows its time
    }
  });

  test('ImageSprite: Percent 25, 1×2 grid, JPG, a black-filled 128×128 box → two 256×128 images', async () => {
    const t = sprite({
      Width: 128,
      Height: 128,
      ResolutionAdaptive: 'close',
      RowCount: 1,
      ColumnCount: 2,
      SampleType: 'Percent',
      SampleInterval: 25,
      FillType: 'black',
    });
    const { outDir, files } = await execute((io) => planImageSprite(t, probes.bands, io), media.bands);
    expect(files).toEqual(['sprite.vtt', 'sprite_0.jpg', 'sprite_1.jpg']);
    const f = await frame(path.join(outDir, 'sprite_1.jpg'));
    expect([f.width, f.height]).toEqual([256, 128]);
    expectColor(f.px(64 + 128, 10), BLACK); // the fill above the 128×72 picture
    expectColor(f.px(64 + 128, 64), RED);
    expect(readFileSync(path.join(outDir, 'sprite.vtt'), 'utf8').match(/-->/g)).toHaveLength(4);
  });
});

describe('custom adaptive streaming and animated graphics templates', () => {
  test('custom StreamInfos, fMP4, SegmentDuration 1, DisableHigherVideoResolution 1 drops the rendition above the source', async () => {
    const t = adaptive({
      SegmentType: 'fmp4',
      SegmentDuration: 1,
      DisableHigherVideoResolution: 1,
      StreamInfos: [
        stream(
          { Width: 256, Height: 144, Fps: 15, Bitrate: 300 },
          { Bitrate: 64, SampleRate: 44100, AudioChannel: 2 },
        ),
        // Tencent: every substream runs at the first one's frame rate.
        stream(
          { Codec: 'libx265', Width: 160, Height: 0, Fps: 25, Bitrate: 150 },
          { Bitrate: 32, SampleRate: 32000, AudioChannel: 1 },
        ),
        stream({ Width: 640, Height: 360, Fps: 15, Bitrate: 800 }),
      ],
    });
    const { outDir, files } = await execute((io) => planAdaptiveStreaming(t, probes.land, io), media.land);
    expect(files.filter((f) => f.startsWith('2/'))).toEqual([]);
    expect(files).toEqual(
      expect.arrayContaining(['master.m3u8', '0/init_0.mp4', '0/seg_00000.m4s', '1/init_1.mp4']),
    );
    expect(readFileSync(path.join(outDir, '1', 'index.m3u8'), 'utf8')).toContain(
      '#EXT-X-MAP:URI="init_1.mp4"',
    );
    const master = readFileSync(path.join(outDir, 'master.m3u8'), 'utf8');
    expect(master.match(/#EXT-X-STREAM-INF/g)).toHaveLength(2);
    expect(master).toContain('RESOLUTION=256x144');
    expect(master).toContain('RESOLUTION=160x90');
    expect(master).not.toContain('640x360');
    for (const [dir, codec, w, h, rate, ch] of [
      ['0', 'h264', 256, 144, '44100', 2],
      ['1', 'hevc', 160, 90, '32000', 1],
    ] as const) {
      const playlist = path.join(outDir, dir, 'index.m3u8');
      const v = await streamOf(playlist, 'v');
      expect([v.codec_name, v.width, v.height, v.r_frame_rate]).toEqual([codec, w, h, '15/1']);
      const a = await streamOf(playlist, 'a');
      expect([a.sample_rate, a.channels]).toEqual([rate, ch]);
      const durations = (readFileSync(playlist, 'utf8').match(/#EXTINF:([\d.]+)/g) ?? []).map((d) =>
        Number(d.slice(8)),
      );
      expect(durations).toHaveLength(3);
      for (const d of durations.slice(0, -1)) near(d, 1, 0.1);
      // Keyframes (segment starts) at the same instants in every rendition: every 1 s.
      expect(intervals(await keyframeTimes(playlist))).toEqual([1, 1]);
    }
  });

  test('DisableHigherVideoResolution 0 keeps (upscales) it; TS segments of SegmentDuration 2; DisableHigherVideoBitrate 1 caps the bitrate at the source', async () => {
    const t = adaptive({
      SegmentType: 'ts',
      SegmentDuration: 2,
      DisableHigherVideoResolution: 0,
      DisableHigherVideoBitrate: 1,
      StreamInfos: [
        stream({ Width: 160, Height: 0, Fps: 10, Bitrate: 200 }),
        stream({ Width: 480, Height: 270, Fps: 10, Bitrate: 20000 }),
      ],
    });
    const { outDir, files } = await execute((io) => planAdaptiveStreaming(t, probes.real5, io), media.real5);
    expect(files).toEqual(expect.arrayContaining(['0/seg_00000.ts', '1/seg_00000.ts', '1/seg_00002.ts']));
    const master = readFileSync(path.join(outDir, 'master.m3u8'), 'utf8');
    expect(master).toContain('RESOLUTION=480x270');
    const big = await streamOf(path.join(outDir, '1', 'index.m3u8'), 'v');
    expect([big.width, big.height, big.r_frame_rate]).toEqual([480, 270, '10/1']);
    const segBytes = files
      .filter((f) => f.startsWith('1/') && f.endsWith('.ts'))
      .reduce((a, f) => a + readFileSync(path.join(outDir, f)).length, 0);
    const sourceKbps = (probes.real5.video?.bitrate ?? 0) / 1000;
    expect(sourceKbps).toBeGreaterThan(0);
    expect((segBytes * 8) / 5 / 1000).toBeLessThan(sourceKbps * 2 + 130); // video (capped) + audio + TS overhead
  });

  test('SegmentType mp4-byterange: one media file per rendition, segments addressed by EXT-X-BYTERANGE', async () => {
    const t = adaptive({
      SegmentType: 'mp4-byterange',
      SegmentDuration: 1,
      StreamInfos: [stream({ Width: 160, Height: 0, Bitrate: 200 })],
    });
    const { outDir, files } = await execute((io) => planAdaptiveStreaming(t, probes.land, io), media.land);
    expect(files.filter((f) => !f.endsWith('/') && f.includes('.'))).toEqual([
      '0/index.m3u8',
      '0/media.m4s',
      'master.m3u8',
    ]);
    const playlist = readFileSync(path.join(outDir, '0', 'index.m3u8'), 'utf8');
    expect(playlist.match(/#EXT-X-BYTERANGE:\d+@\d+\nmedia\.m4s/g)).toHaveLength(3);
    expect(playlist).toContain('#EXT-X-MAP:URI="media.m4s",BYTERANGE=');
    const v = await streamOf(path.join(outDir, '0', 'index.m3u8'), 'v');
    expect([v.codec_name, v.width, v.height]).toEqual(['h264', 160, 90]);
  });

  test('AnimatedGraphics GIF: Fps 5, Width 160 → 160×90, 10 frames over 2 s', async () => {
    const t = animated({ Format: 'gif', Fps: 5, Width: 160 });
    const { main } = await execute(
      (io) => planAnimatedGraphic(t, probes.land, { ...io, startTimeOffset: 0, endTimeOffset: 2 }),
      media.land,
    );
    const j = await ffprobeJson(main, ['-count_frames', '-show_streams']);
    const v = j.streams[0];
    expect([v.codec_name, v.width, v.height, Number(v.nb_read_frames)]).toEqual(['gif', 160, 90, 10]);
  });

  test('AnimatedGraphics WebP: Fps 10 (frames), Width 160, Quality 20 vs 90 (size)', async () => {
    const make = (quality: number) =>
      execute(
        (io) =>
          planAnimatedGraphic(
            animated({ Format: 'webp', Fps: 10, Width: 160, Quality: quality }),
            probes.land,
            {
              ...io,
              startTimeOffset: 0,
              endTimeOffset: 1,
            },
          ),
        media.land,
      );
    const low = await make(20);
    const high = await make(90);
    for (const out of [low, high]) {
      const bytes = readFileSync(out.main);
      expect(bytes.subarray(0, 4).toString('latin1')).toBe('RIFF');
      expect(bytes.includes(Buffer.from('ANIM'))).toBe(true);
      const frames = bytes.toString('latin1').split('ANMF').length - 1;
      near(frames, 10, 1);
      // Canvas size: VP8X chunk, 24-bit width-1 and height-1 at offsets 24 and 27.
      const vp8x = bytes.indexOf('VP8X');
      expect([bytes.readUIntLE(vp8x + 12, 3) + 1, bytes.readUIntLE(vp8x + 15, 3) + 1]).toEqual([160, 90]);
    }
    expect(readFileSync(low.main).length).toBeLessThan(readFileSync(high.main).length * 0.8);
  });
});

test('the real footage exists', () => {
  expect(existsSync(REAL)).toBe(true);
});
