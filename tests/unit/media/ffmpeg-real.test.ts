/**
 * The plans run by real ffmpeg on small generated inputs (and the CC0 camera clip), outputs checked with
 * ffprobe. Inputs are 2–4 s and tiny so the whole file stays well under a minute on 2 cores.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
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
import { PermanentError } from '../../../src/domain/errors';
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
} from '../../../src/media/plans';
import { probeMedia, type MediaProbe } from '../../../src/media/probe';
import { runFfmpeg } from '../../../src/media/run';
import {
  presetTemplate,
  type AdaptiveDynamicStreamingTemplate,
  type TemplateKind,
  type TemplateOf,
  type TranscodeTemplate,
} from '../../../src/media/templates';

const run = promisify(execFile);
const bins = resolveFfmpeg();
const REAL = '/work/shared/media/real-footage-320x192-5994.mp4';
const hasReal = existsSync(REAL);
const STATIC_FFMPEG = path.resolve(__dirname, '../../../node_modules/@ffmpeg-installer/linux-x64/ffmpeg');

let work: string;
const media: Record<string, string> = {};
const probes: Record<string, MediaProbe> = {};
let counter = 0;

const preset = <K extends TemplateKind>(kind: K, def: number): TemplateOf<K> => {
  const t = presetTemplate(kind, def);
  if (!t) throw new Error(`no preset ${kind} ${def}`);
  return t;
};

async function gen(name: string, args: string[]): Promise<string> {
  const file = path.join(work, 'in', name);
  await run(bins.ffmpeg, ['-hide_banner', '-loglevel', 'error', '-y', ...args, file]);
  return file;
}

const lavfiVideo = (size: string, seconds: number, rate = 25) => [
  '-f',
  'lavfi',
  '-i',
  `testsrc2=s=${size}:r=${rate}:d=${seconds}`,
];
const lavfiAudio = (seconds: number) => ['-f', 'lavfi', '-i', `sine=f=440:sample_rate=48000:d=${seconds}`];
const h264 = ['-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p'];

beforeAll(async () => {
  work = mkdtempSync(path.join(tmpdir(), 'openvod-media-'));
  mkdirSync(path.join(work, 'in'));
  const jobs: Array<Promise<void>> = [
    gen('land.mp4', [
      ...lavfiVideo('320x180', 4),
      ...lavfiAudio(4),
      ...h264,
      '-c:a',
      'aac',
      '-shortest',
    ]).then((f) => void (media.land = f)),
    gen('portrait.mp4', [
      ...lavfiVideo('180x320', 2),
      ...lavfiAudio(2),
      ...h264,
      '-c:a',
      'aac',
      '-shortest',
    ]).then((f) => void (media.portrait = f)),
    gen('noaudio.mp4', [...lavfiVideo('320x180', 2), ...h264]).then((f) => void (media.noaudio = f)),
    gen('audio.m4a', [...lavfiAudio(3), '-c:a', 'aac']).then((f) => void (media.audio = f)),
    // Odd sizes cannot be 4:2:0; 4:4:4 H.264 can hold them.
    gen('odd.mp4', [
      ...['-f', 'lavfi', '-i', 'testsrc=s=321x241:r=25:d=2'], // (testsrc2 rounds sizes to even)
      '-c:v',
      'libx264',
      '-preset',
      'ultrafast',
      '-pix_fmt',
      'yuv444p',
    ]).then((f) => void (media.odd = f)),
    // Variable frame rate: frames dropped unevenly, timestamps kept.
    gen('vfr.mp4', [
      ...lavfiVideo('320x180', 3, 30),
      '-vf',
      "select='lt(mod(n\\,10)\\,3)+lt(n\\,20)'",
      '-vsync',
      'vfr',
      ...h264,
    ]).then((f) => void (media.vfr = f)),
  ];
  await Promise.all(jobs);
  // A phone-style rotated clip: a display matrix on the stream (rotate tag → matrix when remuxing).
  media.rotated = await gen('rotated.mp4', ['-i', media.land, '-c', 'copy', '-metadata:s:v:0', 'rotate=90']);
  media.random = path.join(work, 'in', 'random.mp4');
  writeFileSync(media.random, randomBytes(64 * 1024));
  if (hasReal) {
    const real = readFileSync(REAL);
    media.truncated = path.join(work, 'in', 'truncated.mp4');
    writeFileSync(media.truncated, real.subarray(0, Math.floor(real.length * 0.3)));
  }
  for (const [k, f] of Object.entries(media)) {
    if (k !== 'random' && k !== 'truncated') probes[k] = await probeMedia(bins.ffprobe, f);
  }
  if (hasReal) probes.real = await probeMedia(bins.ffprobe, REAL);
});

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

/** Runs a plan like the worker does; returns the output dir and the progress reports. */
async function execute(
  make: (io: { input: string; outDir: string }) => FfmpegPlan,
  input: string,
  ffmpeg = bins.ffmpeg,
) {
  const outDir = path.join(work, `out-${++counter}`);
  mkdirSync(outDir);
  const plan = make({ input, outDir });
  const progress: number[] = [];
  for (const args of plan.runs) {
    await runFfmpeg(ffmpeg, args, {
      durationSeconds: 4,
      cwd: outDir,
      onProgress: (p) => progress.push(p),
      timeoutMs: 60_000,
    });
  }
  for (const f of plan.extraFiles ?? []) writeFileSync(path.join(outDir, f.path), f.content);
  return {
    outDir,
    plan,
    progress,
    files: (readdirSync(outDir, { recursive: true }) as string[]).map(String).sort(),
  };
}

const near = (actual: number, expected: number, tolerance: number) => {
  expect(Math.abs(actual - expected)).toBeLessThanOrEqual(tolerance);
};

async function countFrames(file: string): Promise<number> {
  const { stdout } = await run(bins.ffprobe, [
    '-v',
    'error',
    '-count_frames',
    '-select_streams',
    'v:0',
    '-show_entries',
    'stream=nb_read_frames',
    '-of',
    'csv=p=0',
    file,
  ]);
  return Number(stdout.trim());
}

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error('expected a failure');
}

describe('inputs as probed', () => {
  test('landscape, portrait, rotated, audio-only, no-audio, odd, VFR', () => {
    expect(probes.land).toMatchObject({
      container: 'mp4',
      video: { codec: 'h264', width: 320, height: 180, fps: 25 },
      audio: { codec: 'aac' },
    });
    near(probes.land.durationSeconds, 4, 0.1);
    expect(probes.portrait.video).toMatchObject({ displayWidth: 180, displayHeight: 320, rotation: 0 });
    expect([90, 270]).toContain(probes.rotated.video?.rotation);
    expect(probes.rotated.video).toMatchObject({
      width: 320,
      height: 180,
      displayWidth: 180,
      displayHeight: 320,
    });
    expect(probes.audio).toMatchObject({ container: 'm4a', audio: { codec: 'aac', sampleRate: 48000 } });
    expect(probes.audio.video).toBeUndefined();
    expect(probes.noaudio.audio).toBeUndefined();
    expect(probes.odd.video).toMatchObject({ width: 321, height: 241 });
    expect(probes.vfr.video?.fps).toBeLessThan(30);
  });
});

describe('transcode', () => {
  test('100010 on 320×180: MP4 H.264 25 fps, no upscaling, AAC 44.1 kHz stereo, bitrate under the cap, progress to 100', async () => {
    const { outDir, plan, progress } = await execute(
      (io) => planTranscode(preset('Transcode', 100010), probes.land, io),
      media.land,
    );
    const out = await probeMedia(bins.ffprobe, path.join(outDir, plan.mainOutput ?? ''));
    expect(out).toMatchObject({
      container: 'mp4',
      video: { codec: 'h264', width: 320, height: 180, fps: 25, pixFmt: 'yuv420p', rotation: 0 },
      audio: { codec: 'aac', sampleRate: 44100, channels: 2 },
    });
    near(out.durationSeconds, 4, 0.15);
    expect(out.video?.bitrate).toBeLessThanOrEqual(400_000 * 1.5);
    near(out.audio?.bitrate ?? 0, 64_000, 16_000);
    expect(progress[progress.length - 1]).toBe(100);
    // faststart: the moov box comes before mdat.
    const head = readFileSync(path.join(outDir, 'video.mp4'))
      .subarray(0, 64 * 1024)
      .toString('latin1');
    expect(head.indexOf('moov')).toBeGreaterThan(0);
    expect(head.indexOf('moov')).toBeLessThan(head.indexOf('mdat') === -1 ? Infinity : head.indexOf('mdat'));
  });

  test('100210 on 320×180: an HLS playlist with TS segments that probes as H.264/AAC', async () => {
    const { outDir, files } = await execute(
      (io) => planTranscode(preset('Transcode', 100210), probes.land, io),
      media.land,
    );
    expect(files).toEqual(['index.m3u8', 'seg_00000.ts']);
    const playlist = readFileSync(path.join(outDir, 'index.m3u8'), 'utf8');
    expect(playlist).toContain('#EXT-X-ENDLIST');
    expect(playlist.split('\n')).toContain('seg_00000.ts'); // relative, so it plays from wherever it is uploaded
    expect(playlist).not.toContain(outDir);
    const out = await probeMedia(bins.ffprobe, path.join(outDir, 'index.m3u8'));
    expect(out).toMatchObject({
      container: 'hls',
      video: { codec: 'h264', width: 320, height: 180 },
      audio: { codec: 'aac' },
    });
  });

  test('HLS with fMP4 segments', async () => {
    const t: TranscodeTemplate = { ...preset('Transcode', 100210), SegmentType: 'fmp4' };
    const { outDir, files } = await execute((io) => planTranscode(t, probes.land, io), media.land);
    expect(files).toEqual(['index.m3u8', 'init.mp4', 'seg_00000.m4s']);
    expect((await probeMedia(bins.ffprobe, path.join(outDir, 'index.m3u8'))).video?.codec).toBe('h264');
  });

  test('a portrait source gets a portrait output; a box with gauss fill keeps the box size', async () => {
    const base = preset('Transcode', 100010);
    const scaled: TranscodeTemplate = {
      ...base,
      VideoTemplate: {
        ...(base.VideoTemplate as NonNullable<TranscodeTemplate['VideoTemplate']>),
        Height: 120,
      },
    };
    const a = await execute((io) => planTranscode(scaled, probes.portrait, io), media.portrait);
    expect((await probeMedia(bins.ffprobe, path.join(a.outDir, 'video.mp4'))).video).toMatchObject({
      width: 120,
      height: 214,
    });
    const boxed: TranscodeTemplate = {
      ...base,
      VideoTemplate: {
        ...(base.VideoTemplate as NonNullable<TranscodeTemplate['VideoTemplate']>),
        Width: 160,
        Height: 160,
        ResolutionAdaptive: 'close',
        FillType: 'gauss',
      },
    };
    const b = await execute((io) => planTranscode(boxed, probes.portrait, io), media.portrait);
    expect((await probeMedia(bins.ffprobe, path.join(b.outDir, 'video.mp4'))).video).toMatchObject({
      width: 160,
      height: 160,
    });
  });

  test('a rotated phone clip comes out upright (display size, no rotation left)', async () => {
    const { outDir } = await execute(
      (io) => planTranscode(preset('Transcode', 100010), probes.rotated, io),
      media.rotated,
    );
    expect((await probeMedia(bins.ffprobe, path.join(outDir, 'video.mp4'))).video).toMatchObject({
      width: 180,
      height: 320,
      rotation: 0,
    });
  });

  test('odd 321×241 → even 320×240; VFR → constant 25 fps', async () => {
    const odd = await execute((io) => planTranscode(preset('Transcode', 100010), probes.odd, io), media.odd);
    expect((await probeMedia(bins.ffprobe, path.join(odd.outDir, 'video.mp4'))).video).toMatchObject({
      width: 320,
      height: 240,
      pixFmt: 'yuv420p',
    });
    const vfr = await execute((io) => planTranscode(preset('Transcode', 100010), probes.vfr, io), media.vfr);
    const out = await probeMedia(bins.ffprobe, path.join(vfr.outDir, 'video.mp4'));
    expect(out.video?.fps).toBe(25);
    near(out.durationSeconds, probes.vfr.durationSeconds, 0.2);
  });

  test('a source without audio → video only; an audio-only source with a video template → audio-only MP4', async () => {
    const v = await execute(
      (io) => planTranscode(preset('Transcode', 100010), probes.noaudio, io),
      media.noaudio,
    );
    const vo = await probeMedia(bins.ffprobe, path.join(v.outDir, 'video.mp4'));
    expect([vo.video?.codec, vo.audio]).toEqual(['h264', undefined]);
    const a = await execute(
      (io) => planTranscode(preset('Transcode', 100010), probes.audio, io),
      media.audio,
    );
    const ao = await probeMedia(bins.ffprobe, path.join(a.outDir, 'video.mp4'));
    expect([ao.video, ao.audio?.codec, ao.audio?.sampleRate]).toEqual([undefined, 'aac', 44100]);
  });

  test('audio presets: 1010 MP3 128 kbps, 1100 M4A 24 kbps', async () => {
    const mp3 = await execute((io) => planTranscode(preset('Transcode', 1010), probes.land, io), media.land);
    const m = await probeMedia(bins.ffprobe, path.join(mp3.outDir, 'audio.mp3'));
    expect(m).toMatchObject({
      container: 'mp3',
      audio: { codec: 'mp3', sampleRate: 44100, channels: 2, bitrate: 128_000 },
    });
    expect(m.video).toBeUndefined();
    const m4a = await execute((io) => planTranscode(preset('Transcode', 1100), probes.land, io), media.land);
    const a = await probeMedia(bins.ffprobe, path.join(m4a.outDir, 'audio.m4a'));
    expect(a).toMatchObject({ container: 'm4a', audio: { codec: 'aac', sampleRate: 44100, channels: 2 } });
    near(a.audio?.bitrate ?? 0, 24_000, 8_000);
  });

  test('a time range: StartTimeOffset 1, EndTimeOffset 3 → 2 s', async () => {
    const { outDir } = await execute(
      (io) =>
        planTranscode(preset('Transcode', 100010), probes.land, {
          ...io,
          startTimeOffset: 1,
          endTimeOffset: 3,
        }),
      media.land,
    );
    near((await probeMedia(bins.ffprobe, path.join(outDir, 'video.mp4'))).durationSeconds, 2, 0.15);
  });

  (hasReal ? test : test.skip)(
    'the real camera clip: 100010 (59.94 → 25 fps, 320×192), remux 875 and 876 keep the streams',
    async () => {
      const t = await execute((io) => planTranscode(preset('Transcode', 100010), probes.real, io), REAL);
      const out = await probeMedia(bins.ffprobe, path.join(t.outDir, 'video.mp4'));
      expect(out.video).toMatchObject({ codec: 'h264', width: 320, height: 192, fps: 25 });
      near(out.durationSeconds, probes.real.durationSeconds, 0.2);
      const mp4 = await execute((io) => planTranscode(preset('Transcode', 875), probes.real, io), REAL);
      const remuxed = await probeMedia(bins.ffprobe, path.join(mp4.outDir, 'video.mp4'));
      expect(remuxed.video).toMatchObject({ codec: 'h264', width: 320, height: 192 });
      near(remuxed.video?.fps ?? 0, 59.94, 0.01);
      near(remuxed.durationSeconds, probes.real.durationSeconds, 0.1);
      const hls = await execute((io) => planTranscode(preset('Transcode', 876), probes.real, io), REAL);
      expect(hls.files.filter((f) => f.endsWith('.ts')).length).toBeGreaterThanOrEqual(2);
      expect((await probeMedia(bins.ffprobe, path.join(hls.outDir, 'index.m3u8'))).audio?.codec).toBe('aac');
    },
  );
});

describe('snapshots and sprites', () => {
  test('sample snapshot 10 on 4 s: 10 JPEGs 1.jpg…10.jpg at the source size', async () => {
    const { outDir, files } = await execute(
      (io) => planSampleSnapshot(preset('SampleSnapshot', 10), probes.land, io),
      media.land,
    );
    expect(files).toEqual(Array.from({ length: 10 }, (_, i) => `${i + 1}.jpg`).sort());
    expect((await probeMedia(bins.ffprobe, path.join(outDir, '10.jpg'))).video).toMatchObject({
      codec: 'mjpeg',
      width: 320,
      height: 180,
    });
  });

  test('time offsets 0, 1.5 s, 4 s (the end) and 9 s (past it): four images, the last two the last frame', async () => {
    const { outDir, files } = await execute(
      (io) =>
        planSnapshotByTimeOffset(preset('SnapshotByTimeOffset', 10), probes.land, {
          ...io,
          timeOffsetsMs: [0, 1500, 4000, 9000],
        }),
      media.land,
    );
    expect(files).toEqual(['0.jpg', '1500.jpg', '4000.jpg', '9000.jpg']);
    for (const f of files)
      expect((await probeMedia(bins.ffprobe, path.join(outDir, f))).video?.codec).toBe('mjpeg');
    expect(
      readFileSync(path.join(outDir, '4000.jpg')).equals(readFileSync(path.join(outDir, '9000.jpg'))),
    ).toBe(true);
    expect(readFileSync(path.join(outDir, '0.jpg')).equals(readFileSync(path.join(outDir, '1500.jpg')))).toBe(
      false,
    );
  });

  test('cover by snapshot at 50 %, as PNG', async () => {
    const t = { ...preset('SnapshotByTimeOffset', 10), Format: 'png' };
    const { outDir, files } = await execute(
      (io) => planCoverBySnapshot(t, probes.portrait, { ...io, positionType: 'Percent', positionValue: 50 }),
      media.portrait,
    );
    expect(files).toEqual(['cover.png']);
    expect((await probeMedia(bins.ffprobe, path.join(outDir, 'cover.png'))).video).toMatchObject({
      codec: 'png',
      width: 180,
      height: 320,
    });
  });

  test('snapshots of an audio-only source: 60000', () => {
    expect(() =>
      planSampleSnapshot(preset('SampleSnapshot', 10), probes.audio, { input: media.audio, outDir: work }),
    ).toThrow('the source has no video stream; snapshots need video');
  });

  test('a sprite every 1 s on 4 s, 2×2 tiles of 142×80: one 284×160 image and 4 VTT cues', async () => {
    const t = { ...preset('ImageSprite', 10), SampleInterval: 1, RowCount: 2, ColumnCount: 2 };
    const { outDir, files } = await execute((io) => planImageSprite(t, probes.land, io), media.land);
    expect(files).toEqual(['sprite.vtt', 'sprite_0.jpg']);
    expect((await probeMedia(bins.ffprobe, path.join(outDir, 'sprite_0.jpg'))).video).toMatchObject({
      width: 284,
      height: 160,
    });
    const vtt = readFileSync(path.join(outDir, 'sprite.vtt'), 'utf8');
    expect(vtt.match(/-->/g)).toHaveLength(4);
    expect(vtt).toContain('00:00:03.000 --> 00:00:04.000\nsprite_0.jpg#xywh=142,80,142,80');
  });

  test('sprites spill into several images', async () => {
    const t = { ...preset('ImageSprite', 10), SampleInterval: 1, RowCount: 1, ColumnCount: 3 };
    const { outDir, files } = await execute((io) => planImageSprite(t, probes.land, io), media.land);
    expect(files).toEqual(['sprite.vtt', 'sprite_0.jpg', 'sprite_1.jpg']);
    expect((await probeMedia(bins.ffprobe, path.join(outDir, 'sprite_1.jpg'))).video).toMatchObject({
      width: 426,
      height: 80,
    });
    expect(readFileSync(path.join(outDir, 'sprite.vtt'), 'utf8')).toContain('sprite_1.jpg#xywh=0,0,142,80');
  });

  (hasReal ? test : test.skip)(
    'preset sprite 10 on the real 24.5 s clip: 3 tiles in one 1420×800 image',
    async () => {
      const { outDir, files } = await execute(
        (io) => planImageSprite(preset('ImageSprite', 10), probes.real, io),
        REAL,
      );
      expect(files).toEqual(['sprite.vtt', 'sprite_0.jpg']);
      expect((await probeMedia(bins.ffprobe, path.join(outDir, 'sprite_0.jpg'))).video).toMatchObject({
        width: 1420,
        height: 800,
      });
      expect(readFileSync(path.join(outDir, 'sprite.vtt'), 'utf8').match(/-->/g)).toHaveLength(3);
    },
  );
});

describe('adaptive streaming and animated graphics', () => {
  test('two renditions (120p, 180p): a master playlist referencing playable variants', async () => {
    const base = preset('AdaptiveDynamicStreaming', 10);
    const t: AdaptiveDynamicStreamingTemplate = {
      ...base,
      StreamInfos: [120, 180].map((h, i) => ({
        ...base.StreamInfos[i],
        Video: { ...base.StreamInfos[i].Video, Height: h },
      })),
    };
    const { outDir, files } = await execute((io) => planAdaptiveStreaming(t, probes.land, io), media.land);
    expect(files).toEqual(
      expect.arrayContaining([
        'master.m3u8',
        '0/index.m3u8',
        '0/seg_00000.ts',
        '1/index.m3u8',
        '1/seg_00000.ts',
      ]),
    );
    const master = readFileSync(path.join(outDir, 'master.m3u8'), 'utf8');
    expect(
      master.match(
        /#EXT-X-STREAM-INF:BANDWIDTH=\d+,AVERAGE-BANDWIDTH=\d+,RESOLUTION=\d+x\d+,FRAME-RATE=24\.000,CODECS="avc1\.[0-9a-f]{6},mp4a\.40\.2"/g,
      ),
    ).toHaveLength(2);
    expect(master).toContain('RESOLUTION=214x120');
    expect(master).toContain('RESOLUTION=320x180');
    for (const [dir, w, h] of [
      ['0', 214, 120],
      ['1', 320, 180],
    ] as const) {
      expect(master).toContain(`${dir}/index.m3u8`);
      expect(readFileSync(path.join(outDir, dir, 'index.m3u8'), 'utf8')).not.toContain(outDir);
      const v = await probeMedia(bins.ffprobe, path.join(outDir, dir, 'index.m3u8'));
      expect(v).toMatchObject({
        video: { codec: 'h264', width: w, height: h, fps: 24 },
        audio: { codec: 'aac', sampleRate: 44100 },
      });
    }
    const whole = await probeMedia(bins.ffprobe, path.join(outDir, 'master.m3u8'));
    expect(whole.container).toBe('hls');
  });

  (hasReal ? test : test.skip)(
    'preset 10 on the real 320×192 clip: one rendition at the source size',
    async () => {
      const { outDir } = await execute(
        (io) => planAdaptiveStreaming(preset('AdaptiveDynamicStreaming', 10), probes.real, io),
        REAL,
      );
      expect(readFileSync(path.join(outDir, 'master.m3u8'), 'utf8')).toContain('RESOLUTION=320x192');
      expect((await probeMedia(bins.ffprobe, path.join(outDir, '0', 'index.m3u8'))).video).toMatchObject({
        width: 320,
        height: 192,
      });
    },
  );

  test('GIF 20000 over 2 s at 2 fps: about 4 frames at the source size; WEBP 20001', async () => {
    const gif = await execute(
      (io) =>
        planAnimatedGraphic(preset('AnimatedGraphics', 20000), probes.land, {
          ...io,
          startTimeOffset: 1,
          endTimeOffset: 3,
        }),
      media.land,
    );
    expect(gif.files).toEqual(['animated.gif']);
    const g = await probeMedia(bins.ffprobe, path.join(gif.outDir, 'animated.gif'));
    expect(g).toMatchObject({ container: 'gif', video: { codec: 'gif', width: 320, height: 180 } });
    near(await countFrames(path.join(gif.outDir, 'animated.gif')), 4, 1);
    const webp = await execute(
      (io) =>
        planAnimatedGraphic(preset('AnimatedGraphics', 20001), probes.land, {
          ...io,
          startTimeOffset: 0,
          endTimeOffset: 2,
        }),
      media.land,
    );
    const w = await probeMedia(bins.ffprobe, path.join(webp.outDir, 'animated.webp'));
    expect(w).toMatchObject({ container: 'webp', video: { codec: 'webp', width: 320, height: 180 } });
  });
});

describe('bad input and failures', () => {
  test('random bytes: probeMedia fails 60000 (not a valid media file)', async () => {
    const e = await rejection(probeMedia(bins.ffprobe, media.random));
    expect(e).toBeInstanceOf(PermanentError);
    expect((e as PermanentError).errCode).toBe(60000);
    // (Named .mp4, it is read as MP4 and fails on the missing moov box.)
    expect((e as Error).message).toMatch(/not a valid media file|not an MP4|neither a video nor an audio/);
  });

  (hasReal ? test : test.skip)(
    'a truncated MP4 (first 30 % of the real clip): probeMedia and runFfmpeg fail 60000',
    async () => {
      const e = await rejection(probeMedia(bins.ffprobe, media.truncated));
      expect((e as PermanentError).errCode).toBe(60000);
      expect((e as Error).message).toMatch(/truncated or not an MP4\/MOV file \(moov atom not found\)/);
      const outDir = path.join(work, `out-${++counter}`);
      mkdirSync(outDir);
      const plan = planTranscode(preset('Transcode', 100010), probes.real, {
        input: media.truncated,
        outDir,
      });
      const r = await rejection(runFfmpeg(bins.ffmpeg, plan.runs[0], { durationSeconds: 24 }));
      expect(r).toBeInstanceOf(PermanentError);
      expect((r as PermanentError).errCode).toBe(60000);
    },
  );

  test('a missing file: 60000', async () => {
    const e = await rejection(probeMedia(bins.ffprobe, path.join(work, 'nope.mp4')));
    expect((e as PermanentError).errCode).toBe(60000);
    expect((e as Error).message).toMatch(/does not exist/);
  });

  describe('over http', () => {
    let server: Server;
    let base: string;
    beforeAll(async () => {
      server = createServer((req, res) => {
        if (req.url === '/hang.mp4') return; // accepts, never answers
        if (req.url === '/land.mp4') {
          // Like S3: byte ranges, so ffmpeg can seek to a moov box at the end.
          const body = readFileSync(media.land);
          const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
          if (!range) {
            res.writeHead(200, {
              'content-type': 'video/mp4',
              'content-length': body.length,
              'accept-ranges': 'bytes',
            });
            return void res.end(body);
          }
          const start = Number(range[1]);
          const end = range[2] ? Math.min(Number(range[2]), body.length - 1) : body.length - 1;
          res.writeHead(206, {
            'content-type': 'video/mp4',
            'content-length': end - start + 1,
            'content-range': `bytes ${start}-${end}/${body.length}`,
            'accept-ranges': 'bytes',
          });
          return void res.end(body.subarray(start, end + 1));
        }
        res.writeHead(404).end('not found');
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    afterAll(async () => {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    });

    test('a URL that answers 404: 60000 naming HTTP 404', async () => {
      const e = await rejection(probeMedia(bins.ffprobe, `${base}/missing.mp4`));
      expect((e as PermanentError).errCode).toBe(60000);
      expect((e as Error).message).toMatch(/^the source URL answered HTTP 404/);
    });

    test('a URL that never answers: 60000 within the timeout', async () => {
      const started = Date.now();
      const e = await rejection(probeMedia(bins.ffprobe, `${base}/hang.mp4`, { timeoutMs: 2000 }));
      expect((e as PermanentError).errCode).toBe(60000);
      expect((e as Error).message).toBe('the source did not answer within 2 s');
      expect(Date.now() - started).toBeLessThan(5000);
    });

    test('a URL source is probed and transcoded', async () => {
      const src = await probeMedia(bins.ffprobe, `${base}/land.mp4`);
      expect(src.video).toMatchObject({ width: 320, height: 180 });
      const { outDir } = await execute(
        (io) => planTranscode(preset('Transcode', 100010), src, io),
        `${base}/land.mp4`,
      );
      expect((await probeMedia(bins.ffprobe, path.join(outDir, 'video.mp4'))).video?.codec).toBe('h264');
    });
  });

  test('runFfmpeg: an unknown encoder is 40000, a timeout is 60000, an abort kills the process', async () => {
    const lavfi = ['-f', 'lavfi', '-i', 'testsrc2=s=320x180:r=25:d=60'];
    const enc = await rejection(
      runFfmpeg(bins.ffmpeg, [...lavfi, '-c:v', 'no_such_encoder', '-f', 'null', '-'], {
        durationSeconds: 60,
      }),
    );
    expect((enc as PermanentError).errCode).toBe(40000);
    expect((enc as Error).message).toMatch(/encoder/);

    const slow = [...lavfi, '-c:v', 'libx264', '-preset', 'veryslow', '-f', 'null', '-'];
    const started = Date.now();
    const timeout = await rejection(runFfmpeg(bins.ffmpeg, slow, { durationSeconds: 60, timeoutMs: 500 }));
    expect((timeout as PermanentError).errCode).toBe(60000);
    expect((timeout as Error).message).toBe('processing did not finish within 1 s');

    const controller = new AbortController();
    setTimeout(() => controller.abort(), 300);
    const aborted = await rejection(
      runFfmpeg(bins.ffmpeg, slow, { durationSeconds: 60, signal: controller.signal }),
    );
    expect((aborted as Error).name).toBe('AbortError');
    expect(Date.now() - started).toBeLessThan(5000);
  });

  test('runFfmpeg progress: rising integers, at most every interval, ending at 100', async () => {
    const reports: Array<[number, number]> = [];
    await runFfmpeg(
      bins.ffmpeg,
      [
        '-f',
        'lavfi',
        '-i',
        'testsrc2=s=640x360:r=25:d=8',
        '-c:v',
        'libx264',
        '-preset',
        'fast',
        '-f',
        'null',
        '-',
      ],
      {
        durationSeconds: 8,
        progressIntervalMs: 200,
        onProgress: (p) => reports.push([p, Date.now()]),
      },
    );
    const values = reports.map(([p]) => p);
    expect(values[values.length - 1]).toBe(100);
    expect(values.every((v, i) => Number.isInteger(v) && (i === 0 || v > values[i - 1]))).toBe(true);
    for (let i = 1; i < reports.length - 1; i++)
      expect(reports[i][1] - reports[i - 1][1]).toBeGreaterThanOrEqual(190);
  });
});

(existsSync(STATIC_FFMPEG) ? describe : describe.skip)(
  'the 2018 static ffmpeg from @ffmpeg-installer runs every plan kind',
  () => {
    test('transcode MP4/HLS, remux, audio, snapshots, sprite, adaptive, GIF, WEBP', async () => {
      const io = (make: (io: { input: string; outDir: string }) => FfmpegPlan) =>
        execute(make, media.land, STATIC_FFMPEG);
      const checks: Array<[Promise<{ outDir: string; files: string[] }>, string[]]> = [
        [io((x) => planTranscode(preset('Transcode', 100010), probes.land, x)), ['video.mp4']],
        [
          io((x) => planTranscode(preset('Transcode', 100210), probes.land, x)),
          ['index.m3u8', 'seg_00000.ts'],
        ],
        [io((x) => planTranscode(preset('Transcode', 875), probes.land, x)), ['video.mp4']],
        [io((x) => planTranscode(preset('Transcode', 1100), probes.land, x)), ['audio.m4a']],
        [
          io((x) => planSampleSnapshot(preset('SampleSnapshot', 10), probes.land, x)),
          Array.from({ length: 10 }, (_, i) => `${i + 1}.jpg`).sort(),
        ],
        [
          io((x) =>
            planSnapshotByTimeOffset(preset('SnapshotByTimeOffset', 10), probes.land, {
              ...x,
              timeOffsetsMs: [500, 9000],
            }),
          ),
          ['500.jpg', '9000.jpg'],
        ],
        [
          io((x) => planImageSprite({ ...preset('ImageSprite', 10), SampleInterval: 1 }, probes.land, x)),
          ['sprite.vtt', 'sprite_0.jpg'],
        ],
        [
          io((x) => planAdaptiveStreaming(preset('AdaptiveDynamicStreaming', 10), probes.land, x)),
          ['0', '0/index.m3u8', '0/seg_00000.ts', 'master.m3u8'],
        ],
        [
          io((x) =>
            planAnimatedGraphic(preset('AnimatedGraphics', 20000), probes.land, {
              ...x,
              startTimeOffset: 0,
              endTimeOffset: 2,
            }),
          ),
          ['animated.gif'],
        ],
        [
          io((x) =>
            planAnimatedGraphic(preset('AnimatedGraphics', 20001), probes.land, {
              ...x,
              startTimeOffset: 0,
              endTimeOffset: 2,
            }),
          ),
          ['animated.webp'],
        ],
      ];
      for (const [p, expected] of checks) {
        const { outDir, files } = await p;
        expect(files).toEqual(expected);
        const main = expected.find((f) => /\.(mp4|m3u8|m4a|jpg|gif|webp)$/.test(f) && f !== '0');
        if (main && !main.endsWith('master.m3u8'))
          expect((await probeMedia(bins.ffprobe, path.join(outDir, main))).container).not.toBe('');
      }
    });
  },
);
