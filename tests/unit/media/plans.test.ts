import * as path from 'node:path';
import { PermanentError } from '../../../src/domain/errors';
import {
  adaptiveSegmentType,
  codecsAttribute,
  fpsValue,
  h264Level,
  planAdaptiveStreaming,
  planAnimatedGraphic,
  planCoverBySnapshot,
  planImageSprite,
  planSampleSnapshot,
  planSnapshotByTimeOffset,
  planTranscode,
  sampleSchedule,
  spriteVtt,
  vttTime,
  type FfmpegPlan,
} from '../../../src/media/plans';
import type { MediaProbe } from '../../../src/media/probe';
import {
  presetTemplate,
  type TemplateKind,
  type TemplateOf,
  type TranscodeTemplate,
} from '../../../src/media/templates';

const outDir = '/scratch/out';
const input = '/scratch/in.mp4';
const io = { input, outDir };

type Video = NonNullable<MediaProbe['video']>;
const video = (over: Partial<Video> = {}): Video => {
  const v: Video = {
    codec: 'h264',
    width: 1920,
    height: 1080,
    rotation: 0,
    displayWidth: 1920,
    displayHeight: 1080,
    fps: 25,
    bitrate: 4_000_000,
    pixFmt: 'yuv420p',
    ...over,
  };
  return v;
};
const audio = { codec: 'aac', sampleRate: 48000, channels: 2, bitrate: 128_000 };
const probe = (over: Partial<MediaProbe> = {}): MediaProbe => ({
  container: 'mp4',
  durationSeconds: 24.5,
  sizeBytes: 10_000_000,
  bitrate: 4_128_000,
  video: video(),
  audio,
  ...over,
});
const landscape = probe();
const portraitPhone = probe({ video: video({ rotation: 90, displayWidth: 1080, displayHeight: 1920 }) });
const small = probe({
  video: video({ width: 320, height: 192, displayWidth: 320, displayHeight: 192, fps: 59.94 }),
});
const audioOnly = probe({ container: 'm4a', video: undefined });
const videoOnly = probe({ audio: undefined });

const preset = <K extends TemplateKind>(kind: K, def: number): TemplateOf<K> => {
  const t = presetTemplate(kind, def);
  if (!t) throw new Error(`no preset ${kind} ${def}`);
  return t;
};
const transcode = (def: number, over: Partial<TranscodeTemplate> = {}): TranscodeTemplate => ({
  ...preset('Transcode', def),
  ...over,
});
const withVideo = (
  def: number,
  v: Partial<NonNullable<TranscodeTemplate['VideoTemplate']>>,
): TranscodeTemplate => {
  const t = transcode(def);
  return {
    ...t,
    VideoTemplate: { ...(t.VideoTemplate as NonNullable<TranscodeTemplate['VideoTemplate']>), ...v },
  };
};

/** The value after a flag in the (only) run. */
const after = (args: string[], flag: string): string | undefined => {
  const i = args.indexOf(flag);
  return i >= 0 ? args[i + 1] : undefined;
};
const only = (plan: FfmpegPlan): string[] => {
  expect(plan.runs).toHaveLength(1);
  return plan.runs[0];
};
const fails = (f: () => unknown, errCode: number, message: RegExp) => {
  let err: unknown;
  try {
    f();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(PermanentError);
  expect((err as PermanentError).errCode).toBe(errCode);
  expect((err as Error).message).toMatch(message);
};

describe('planTranscode', () => {
  test('100030 on a 1080p source: H.264 1280×720 25 fps 1800 kbps, AAC 128 kbps 44.1 kHz stereo, MP4 faststart', () => {
    const plan = planTranscode(transcode(100030), landscape, io);
    const a = only(plan);
    expect(plan.mainOutput).toBe('video.mp4');
    expect(a.slice(0, 2)).toEqual(['-i', input]);
    expect(after(a, '-map')).toBe('0:v:0?');
    expect(a.filter((x, i) => a[i - 1] === '-map')).toEqual(['0:v:0?', '0:a:0?']);
    expect(after(a, '-vf')).toBe('fps=25,scale=1280:720,setsar=1');
    expect(after(a, '-c:v')).toBe('libx264');
    expect(after(a, '-preset')).toBe('veryfast');
    expect([after(a, '-b:v'), after(a, '-maxrate'), after(a, '-bufsize')]).toEqual([
      '1800k',
      '2700k',
      '3600k',
    ]);
    expect(after(a, '-g')).toBe('50');
    expect(after(a, '-pix_fmt')).toBe('yuv420p');
    expect([after(a, '-c:a'), after(a, '-b:a'), after(a, '-ar'), after(a, '-ac')]).toEqual([
      'aac',
      '128k',
      '44100',
      '2',
    ]);
    expect(after(a, '-movflags')).toBe('+faststart');
    expect(after(a, '-f')).toBe('mp4');
    expect(a[a.length - 1]).toBe(path.join(outDir, 'video.mp4'));
    expect(a).not.toContain('-progress');
  });

  test('a rotated portrait phone video gets a portrait output from its display size', () => {
    expect(after(only(planTranscode(transcode(100030), portraitPhone, io)), '-vf')).toBe(
      'fps=25,scale=720:1280,setsar=1',
    );
  });

  test('no upscaling: a 320×192 source stays 320×192 with 100040', () => {
    expect(after(only(planTranscode(transcode(100040), small, io)), '-vf')).toBe(
      'fps=25,scale=320:192,setsar=1',
    );
  });

  test.each([
    { src: 59.94, template: 25, filter: 'fps=25' },
    { src: 24, template: 25, filter: 'fps=24' },
    { src: 23.976, template: 30, filter: 'fps=24000/1001' },
    { src: 29.97, template: 0, filter: undefined },
  ])('frame rate: source $src, template $template → $filter', ({ src, template, filter }) => {
    const vf =
      after(
        only(planTranscode(withVideo(100010, { Fps: template }), probe({ video: video({ fps: src }) }), io)),
        '-vf',
      ) ?? '';
    if (filter) expect(vf.split(',')[0]).toBe(filter);
    else expect(vf).not.toMatch(/fps=/);
  });

  test('HLS 100210: TS segments of 10 s and index.m3u8', () => {
    const plan = planTranscode(transcode(100210), landscape, io);
    const a = only(plan);
    expect(plan.mainOutput).toBe('index.m3u8');
    expect(after(a, '-f')).toBe('hls');
    expect([after(a, '-hls_time'), after(a, '-hls_playlist_type')]).toEqual(['10', 'vod']);
    expect(after(a, '-hls_segment_filename')).toBe(path.join(outDir, 'seg_%05d.ts'));
    expect(a).not.toContain('-hls_segment_type');
    expect(a[a.length - 1]).toBe(path.join(outDir, 'index.m3u8'));
  });

  test('HLS with SegmentType fmp4: fMP4 segments and init.mp4; HlsTime overrides the segment length', () => {
    const t = { ...withVideo(100210, { HlsTime: 4 }), SegmentType: 'fmp4' };
    const a = only(planTranscode(t, landscape, io));
    expect([
      after(a, '-hls_segment_type'),
      after(a, '-hls_fmp4_init_filename'),
      after(a, '-hls_time'),
    ]).toEqual(['fmp4', 'init.mp4', '4']);
    expect(after(a, '-hls_segment_filename')).toBe(path.join(outDir, 'seg_%05d.m4s'));
  });

  test('remux 875: -c copy into MP4, no filters', () => {
    const a = only(planTranscode(transcode(875), landscape, io));
    expect(after(a, '-c')).toBe('copy');
    expect(a).not.toContain('-vf');
    expect(a).not.toContain('-c:v');
    expect(a).not.toContain('-c:a');
    expect(after(a, '-movflags')).toBe('+faststart');
  });

  test('remux 876: -c copy into HLS', () => {
    const a = only(planTranscode(transcode(876), landscape, io));
    expect([after(a, '-c'), after(a, '-f')]).toEqual(['copy', 'hls']);
  });

  test('audio preset 1010 (MP3 128 kbps): no video, libmp3lame', () => {
    const plan = planTranscode(transcode(1010), landscape, io);
    const a = only(plan);
    expect(a).toContain('-vn');
    expect(a).not.toContain('-vf');
    expect([after(a, '-c:a'), after(a, '-b:a'), after(a, '-ar'), after(a, '-f')]).toEqual([
      'libmp3lame',
      '128k',
      '44100',
      'mp3',
    ]);
    expect(plan.mainOutput).toBe('audio.mp3');
  });

  test('audio preset 1100 (M4A 24 kbps): AAC in an M4A (ipod) file', () => {
    const plan = planTranscode(transcode(1100), landscape, io);
    const a = only(plan);
    expect([after(a, '-c:a'), after(a, '-b:a'), after(a, '-f')]).toEqual(['aac', '24k', 'ipod']);
    expect(plan.mainOutput).toBe('audio.m4a');
  });

  test.each([
    { container: 'flac', codec: 'flac', out: 'audio.flac', bitrate: undefined },
    { container: 'wav', codec: 'pcm16', out: 'audio.wav', bitrate: undefined },
    { container: 'ogg', codec: 'flac', out: 'audio.ogg', bitrate: undefined },
    { container: 'ogg', codec: 'libvorbis', out: 'audio.ogg', bitrate: '96k' },
  ])('audio container $container with $codec', ({ container, codec, out, bitrate }) => {
    const t: TranscodeTemplate = {
      ...transcode(1010),
      Container: container,
      AudioTemplate: { Codec: codec, Bitrate: 96, SampleRate: 44100, AudioChannel: 2 },
    };
    const a = only(planTranscode(t, landscape, io));
    expect(a[a.length - 1]).toBe(path.join(outDir, out));
    expect(after(a, '-b:a')).toBe(bitrate);
    expect(after(a, '-f')).toBe(container);
  });

  test('flv container', () => {
    const a = only(planTranscode({ ...transcode(100010), Container: 'flv' }, landscape, io));
    expect([after(a, '-f'), a[a.length - 1]]).toEqual(['flv', path.join(outDir, 'video.flv')]);
  });

  test('a source without audio: no audio mapping, -an (no failure)', () => {
    const a = only(planTranscode(transcode(100010), videoOnly, io));
    expect(a.filter((x, i) => a[i - 1] === '-map')).toEqual(['0:v:0?']);
    expect(a).toContain('-an');
    expect(a).not.toContain('-c:a');
  });

  test('an audio-only source with a video template: an audio-only MP4', () => {
    const plan = planTranscode(transcode(100010), audioOnly, io);
    const a = only(plan);
    expect(a).toContain('-vn');
    expect(a.filter((x, i) => a[i - 1] === '-map')).toEqual(['0:a:0?']);
    expect(plan.mainOutput).toBe('video.mp4');
  });

  test('RemoveVideo / RemoveAudio', () => {
    expect(only(planTranscode(transcode(100010, { RemoveVideo: 1 }), landscape, io))).toContain('-vn');
    const noAudio = only(planTranscode(transcode(100010, { RemoveAudio: 1 }), landscape, io));
    expect(noAudio).toContain('-an');
    expect(noAudio.filter((x) => x === '-map')).toHaveLength(1);
  });

  test('impossible combinations: 40000; a source lacking what is needed: 60000', () => {
    fails(
      () => planTranscode(transcode(100010, { RemoveVideo: 1, RemoveAudio: 1 }), landscape, io),
      40000,
      /removes both video and audio/,
    );
    fails(() => planTranscode(transcode(1010, { RemoveAudio: 1 }), landscape, io), 40000, /needs audio/);
    fails(() => planTranscode(transcode(1010), videoOnly, io), 60000, /no audio stream/);
    fails(
      () => planTranscode(transcode(100010, { RemoveAudio: 1 }), audioOnly, io),
      60000,
      /no video stream/,
    );
    fails(
      () => planTranscode(transcode(100010, { Container: 'avi' }), landscape, io),
      40000,
      /container "avi" is not supported/,
    );
    fails(() => planTranscode(withVideo(100010, { Codec: 'H.266' }), landscape, io), 40000, /H\.266/);
    fails(
      () => planTranscode({ ...withVideo(100010, { Codec: 'libx265' }), Container: 'flv' }, landscape, io),
      40000,
      /flv output cannot hold libx265/,
    );
    fails(
      () =>
        planTranscode(
          { ...transcode(1010), AudioTemplate: { Codec: 'libfdk_aac', Bitrate: 64, SampleRate: 44100 } },
          landscape,
          io,
        ),
      40000,
      /mp3 output cannot hold/,
    );
    fails(
      () =>
        planTranscode(
          {
            ...transcode(1010),
            AudioTemplate: { Codec: 'libmp3lame', Bitrate: 128, SampleRate: 44100, AudioChannel: 6 },
          },
          landscape,
          io,
        ),
      40000,
      /at most 2 channels/,
    );
  });

  test('Bitrate 0: CRF with a maxrate; Vcrf wins over Bitrate', () => {
    const auto = only(planTranscode(withVideo(100030, { Bitrate: 0 }), landscape, io));
    expect([after(auto, '-crf'), after(auto, '-maxrate'), after(auto, '-b:v')]).toEqual([
      '23',
      '2765k',
      undefined,
    ]);
    const crf = only(planTranscode(withVideo(100030, { Vcrf: 20 }), landscape, io));
    expect([after(crf, '-crf'), after(crf, '-b:v')]).toEqual(['20', undefined]);
  });

  test('Gop in frames or seconds; default 2 s', () => {
    expect(after(only(planTranscode(withVideo(100010, { Gop: 100 }), landscape, io)), '-g')).toBe('100');
    expect(
      after(only(planTranscode(withVideo(100010, { Gop: 3, GopUnit: 'second' }), landscape, io)), '-g'),
    ).toBe('75');
    expect(
      after(
        only(planTranscode(withVideo(100010, { Fps: 0 }), probe({ video: video({ fps: 30 }) }), io)),
        '-g',
      ),
    ).toBe('60');
  });

  test('Mode: VBR (default) average + 1.5× peak; ABR average only; CBR floor = ceiling = target; VCRF; unknown → 40000', () => {
    const vbr = only(planTranscode(withVideo(100010, { Bitrate: 500, Mode: 'VBR' }), landscape, io));
    expect([
      after(vbr, '-b:v'),
      after(vbr, '-maxrate'),
      after(vbr, '-bufsize'),
      after(vbr, '-minrate'),
    ]).toEqual(['500k', '750k', '1000k', undefined]);
    const abr = only(planTranscode(withVideo(100010, { Bitrate: 500, Mode: 'ABR' }), landscape, io));
    expect([after(abr, '-b:v'), after(abr, '-maxrate'), after(abr, '-crf')]).toEqual([
      '500k',
      undefined,
      undefined,
    ]);
    const cbr = only(planTranscode(withVideo(100010, { Bitrate: 500, Mode: 'CBR' }), landscape, io));
    expect([
      after(cbr, '-b:v'),
      after(cbr, '-minrate'),
      after(cbr, '-maxrate'),
      after(cbr, '-bufsize'),
      after(cbr, '-x264-params'),
    ]).toEqual(['500k', '500k', '500k', '500k', 'nal-hrd=cbr']);
    const cbr265 = only(
      planTranscode(withVideo(100010, { Codec: 'libx265', Bitrate: 500, Mode: 'CBR' }), landscape, io),
    );
    expect(after(cbr265, '-x265-params')).toContain('strict-cbr=1');
    const vcrf = only(planTranscode(withVideo(100010, { Bitrate: 500, Mode: 'VCRF' }), landscape, io));
    expect([after(vcrf, '-crf'), after(vcrf, '-b:v')]).toEqual(['23', undefined]);
    const crfWins = only(
      planTranscode(withVideo(100010, { Bitrate: 500, Mode: 'CBR', Vcrf: 30 }), landscape, io),
    );
    expect([after(crfWins, '-crf'), after(crfWins, '-b:v')]).toEqual(['30', undefined]);
    fails(() => planTranscode(withVideo(100010, { Mode: 'QVBR' }), landscape, io), 40000, /Mode "QVBR"/);
  });

  test('a template Gop is exact: no extra keyframes at scene cuts, closed GOPs in H.265', () => {
    const h264 = only(planTranscode(withVideo(100010, { Gop: 50 }), landscape, io));
    expect([after(h264, '-g'), after(h264, '-keyint_min'), after(h264, '-sc_threshold')]).toEqual([
      '50',
      '50',
      '0',
    ]);
    const h265 = only(planTranscode(withVideo(100010, { Codec: 'libx265', Gop: 50 }), landscape, io));
    expect(after(h265, '-x265-params')).toBe(
      'log-level=error:keyint=50:min-keyint=50:scenecut=0:no-open-gop=1',
    );
    const auto = only(planTranscode(withVideo(100010, { Gop: 0 }), landscape, io));
    expect([after(auto, '-g'), after(auto, '-sc_threshold')]).toEqual(['50', undefined]);
  });

  test('HLS: an automatic GOP is never longer than HlsTime', () => {
    const one = only(planTranscode(withVideo(100210, { HlsTime: 1 }), landscape, io));
    expect([after(one, '-g'), after(one, '-hls_time')]).toEqual(['25', '1']);
    const ten = only(planTranscode(withVideo(100210, { HlsTime: 0 }), landscape, io));
    expect([after(ten, '-g'), after(ten, '-hls_time')]).toEqual(['50', '10']);
  });

  test('Bframes, VideoProfile (x264 baseline/main/high, x265 main; default = none)', () => {
    const bf = only(
      planTranscode(withVideo(100010, { Bframes: 0, VideoProfile: 'baseline' }), landscape, io),
    );
    expect([after(bf, '-bf'), after(bf, '-profile:v')]).toEqual(['0', 'baseline']);
    const dflt = only(planTranscode(withVideo(100010, { VideoProfile: 'default' }), landscape, io));
    expect(after(dflt, '-profile:v')).toBeUndefined();
    const hevc = only(
      planTranscode(withVideo(100010, { Codec: 'libx265', Bframes: 3, VideoProfile: 'main' }), landscape, io),
    );
    expect([after(hevc, '-bf'), after(hevc, '-profile:v')]).toEqual(['3', 'main']);
    expect(after(hevc, '-x265-params')).toContain('bframes=3');
  });

  test('PreserveHDRSwitch: an HDR source is tone-mapped to SDR BT.709 unless ON with H.265/VP9/AV1 (10-bit, tags kept)', () => {
    const hdr = probe({
      video: {
        ...video(),
        ...({ colorTransfer: 'smpte2084', colorPrimaries: 'bt2020', colorSpace: 'bt2020nc' } as object),
      },
    });
    const off = only(planTranscode(withVideo(100010, { PreserveHDRSwitch: 'OFF' }), hdr, io));
    expect(after(off, '-vf')).toContain('tonemap=tonemap=hable');
    expect([after(off, '-color_trc'), after(off, '-color_primaries'), after(off, '-pix_fmt')]).toEqual([
      'bt709',
      'bt709',
      'yuv420p',
    ]);
    const on = only(planTranscode(withVideo(100010, { Codec: 'libx265', PreserveHDRSwitch: 'ON' }), hdr, io));
    expect(after(on, '-vf')).not.toContain('tonemap');
    expect([after(on, '-color_trc'), after(on, '-pix_fmt'), after(on, '-profile:v')]).toEqual([
      'smpte2084',
      'yuv420p10le',
      'main10',
    ]);
    const onH264 = only(planTranscode(withVideo(100010, { PreserveHDRSwitch: 'ON' }), hdr, io));
    expect(after(onH264, '-color_trc')).toBe('bt709');
    const sdr = only(planTranscode(withVideo(100010, { PreserveHDRSwitch: 'OFF' }), landscape, io));
    expect([after(sdr, '-color_trc'), after(sdr, '-vf')?.includes('zscale')]).toEqual([undefined, false]);
    const still = only(planSampleSnapshot(preset('SampleSnapshot', 10), hdr, io));
    expect(after(still, '-vf')).toContain('tonemap');
  });

  const box = { Width: 640, Height: 360, ResolutionAdaptive: 'close' as const };
  const fourThree = probe({
    video: video({ width: 640, height: 480, displayWidth: 640, displayHeight: 480 }),
  });
  test.each([
    {
      fill: 'black' as const,
      vf: 'fps=25,scale=480:360,pad=640:360:(ow-iw)/2:(oh-ih)/2:color=black,setsar=1',
    },
    {
      fill: 'white' as const,
      vf: 'fps=25,scale=480:360,pad=640:360:(ow-iw)/2:(oh-ih)/2:color=white,setsar=1',
    },
    { fill: 'stretch' as const, vf: 'fps=25,scale=640:360,setsar=1' },
    {
      fill: 'gauss' as const,
      vf:
        'fps=25,split=2[fillbg][fillfg];[fillbg]scale=640:360:force_original_aspect_ratio=increase,crop=640:360,gblur=sigma=20[fillblur];' +
        '[fillfg]scale=480:360[fillpic];[fillblur][fillpic]overlay=(W-w)/2:(H-h)/2,setsar=1',
    },
  ])('FillType $fill in a 640×360 box for a 4:3 source', ({ fill, vf }) => {
    expect(
      after(only(planTranscode(withVideo(100010, { ...box, FillType: fill }), fourThree, io)), '-vf'),
    ).toBe(vf);
  });

  test('H.265 in MP4: hvc1 tag; AV1: libaom-av1 (experimental in old builds)', () => {
    const hevc = only(planTranscode(withVideo(100010, { Codec: 'libx265' }), landscape, io));
    expect([after(hevc, '-c:v'), after(hevc, '-tag:v'), after(hevc, '-preset')]).toEqual([
      'libx265',
      'hvc1',
      'fast',
    ]);
    const av1 = only(planTranscode(withVideo(100010, { Codec: 'av1' }), landscape, io));
    expect([after(av1, '-c:v'), after(av1, '-strict')]).toEqual(['libaom-av1', 'experimental']);
  });

  test('SampleRate and AudioChannel (1 mono, 6 for 5.1)', () => {
    const mono = only(
      planTranscode(
        {
          ...transcode(100010),
          AudioTemplate: { Codec: 'libfdk_aac', Bitrate: 64, SampleRate: 48000, AudioChannel: 1 },
        },
        landscape,
        io,
      ),
    );
    expect([after(mono, '-ar'), after(mono, '-ac')]).toEqual(['48000', '1']);
    const surround = only(
      planTranscode(
        {
          ...transcode(100010),
          AudioTemplate: { Codec: 'libfdk_aac', Bitrate: 256, SampleRate: 48000, AudioChannel: 6 },
        },
        landscape,
        io,
      ),
    );
    expect(after(surround, '-ac')).toBe('6');
  });

  test('StartTimeOffset/EndTimeOffset become an input seek and a length', () => {
    const a = only(
      planTranscode(transcode(100010), landscape, { ...io, startTimeOffset: 2, endTimeOffset: 5 }),
    );
    expect(a.slice(0, 6)).toEqual(['-ss', '2', '-t', '3', '-i', input]);
    const tail = only(
      planTranscode(transcode(100010), landscape, { ...io, startTimeOffset: 20, endTimeOffset: 100 }),
    );
    expect(after(tail, '-t')).toBe('4.5');
    fails(
      () => planTranscode(transcode(100010), landscape, { ...io, startTimeOffset: 5, endTimeOffset: 5 }),
      40000,
      /EndTimeOffset/,
    );
    fails(
      () => planTranscode(transcode(100010), landscape, { ...io, startTimeOffset: 30 }),
      40000,
      /past the end/,
    );
  });

  test('an http input gets a read timeout and reconnects; a known stream index is mapped exactly', () => {
    const a = only(
      planTranscode(
        transcode(100010),
        probe({ video: video({ streamIndex: 2 }), audio: { ...audio, streamIndex: 0 } }),
        { input: 'https://s3/x?sig=1', outDir },
      ),
    );
    expect(a.slice(0, 2)).toEqual(['-rw_timeout', '30000000']);
    expect(a.indexOf('-reconnect')).toBeLessThan(a.indexOf('-i'));
    expect(a.filter((x, i) => a[i - 1] === '-map')).toEqual(['0:2', '0:0']);
  });
});

describe('snapshots', () => {
  test('sample snapshot 10 on 24.5 s: 10 JPEGs at 0 %, 10 %, … 90 %, named 1.jpg…', () => {
    const plan = planSampleSnapshot(preset('SampleSnapshot', 10), small, io);
    const a = only(plan);
    expect(after(a, '-vf')).toBe(
      'setpts=PTS-STARTPTS,select=gte(t\\,selected_n*2.45),scale=320:192,setsar=1',
    );
    expect([after(a, '-frames:v'), after(a, '-start_number'), after(a, '-vsync'), after(a, '-c:v')]).toEqual([
      '10',
      '1',
      '0',
      'mjpeg',
    ]);
    expect(a[a.length - 1]).toBe(path.join(outDir, '%d.jpg'));
    expect(a).toContain('-an');
    expect(plan.mainOutput).toBe('1.jpg');
  });

  test.each([
    { type: 'Percent', interval: 10, duration: 24.5, count: 10, step: 2.45 },
    { type: 'Percent', interval: 30, duration: 100, count: 4, step: 30 },
    { type: 'Percent', interval: 100, duration: 100, count: 1, step: 100 },
    { type: 'Time', interval: 10, duration: 24.5, count: 3, step: 10 },
    { type: 'Time', interval: 10, duration: 20, count: 2, step: 10 },
    { type: 'Time', interval: 10, duration: 5, count: 1, step: 10 },
    { type: 'Time', interval: 10, duration: 0, count: 1, step: 10 },
  ])('schedule $type $interval over $duration s → $count', ({ type, interval, duration, count, step }) => {
    expect(sampleSchedule(type, interval, duration)).toEqual({ count, step });
  });

  test('bad schedules and formats are 40000; an audio-only source is 60000', () => {
    fails(() => sampleSchedule('Percent', 0, 10), 40000, /SampleInterval/);
    fails(() => sampleSchedule('Percent', 101, 10), 40000, /at most 100/);
    fails(() => sampleSchedule('Every', 1, 10), 40000, /SampleType/);
    fails(
      () => planSampleSnapshot({ ...preset('SampleSnapshot', 10), Format: 'bmp' }, landscape, io),
      40000,
      /image format "bmp"/,
    );
    fails(
      () => planSampleSnapshot(preset('SampleSnapshot', 10), audioOnly, io),
      60000,
      /^the source has no video stream; snapshots need video$/,
    );
  });

  test('png and webp encoders; a still image gives one snapshot', () => {
    expect(
      after(
        only(planSampleSnapshot({ ...preset('SampleSnapshot', 10), Format: 'png' }, landscape, io)),
        '-c:v',
      ),
    ).toBe('png');
    expect(
      after(
        only(planSampleSnapshot({ ...preset('SampleSnapshot', 10), Format: 'webp' }, landscape, io)),
        '-c:v',
      ),
    ).toBe('libwebp');
    const still = only(
      planSampleSnapshot(
        preset('SampleSnapshot', 10),
        probe({ container: 'jpg', audio: undefined, durationSeconds: 0.04 }),
        io,
      ),
    );
    expect(after(still, '-frames:v')).toBe('1');
  });

  test('time offsets: one run per distinct offset, <ms>.jpg; at or past the end → the last frame', () => {
    const plan = planSnapshotByTimeOffset(preset('SnapshotByTimeOffset', 10), landscape, {
      ...io,
      timeOffsetsMs: [1000, 2000, 1000, 24500, 30000],
    });
    expect(plan.runs).toHaveLength(4);
    const [first, , end, beyond] = plan.runs;
    expect(first.slice(0, 4)).toEqual(['-ss', '1', '-i', input]);
    expect([after(first, '-frames:v'), first[first.length - 1]]).toEqual([
      '1',
      path.join(outDir, '1000.jpg'),
    ]);
    for (const [run, name] of [
      [end, '24500.jpg'],
      [beyond, '30000.jpg'],
    ] as const) {
      expect(after(run, '-ss')).toBe('22.5');
      expect(run).not.toContain('-frames:v');
      expect(after(run, '-update')).toBe('1');
      expect(run[run.length - 1]).toBe(path.join(outDir, name));
    }
    fails(
      () =>
        planSnapshotByTimeOffset(preset('SnapshotByTimeOffset', 10), landscape, { ...io, timeOffsetsMs: [] }),
      40000,
      /at least one time offset/,
    );
  });

  test('cover by snapshot: Time or Percent, cover.jpg', () => {
    const byTime = planCoverBySnapshot(preset('SnapshotByTimeOffset', 10), landscape, {
      ...io,
      positionType: 'Time',
      positionValue: 2,
    });
    expect(after(only(byTime), '-ss')).toBe('2');
    expect(byTime.mainOutput).toBe('cover.jpg');
    const byPercent = only(
      planCoverBySnapshot(preset('SnapshotByTimeOffset', 10), landscape, {
        ...io,
        positionType: 'Percent',
        positionValue: 50,
      }),
    );
    expect(after(byPercent, '-ss')).toBe('12.25');
    expect(byPercent[byPercent.length - 1]).toBe(path.join(outDir, 'cover.jpg'));
    fails(
      () =>
        planCoverBySnapshot(preset('SnapshotByTimeOffset', 10), audioOnly, {
          ...io,
          positionType: 'Time',
          positionValue: 0,
        }),
      60000,
      /no video stream/,
    );
  });
});

describe('image sprites', () => {
  test('preset 10 on 24.5 s: 3 tiles of 142×80 in one 10×10 sprite, and the WebVTT index', () => {
    const plan = planImageSprite(preset('ImageSprite', 10), small, io);
    const a = only(plan);
    expect(after(a, '-vf')).toBe(
      'setpts=PTS-STARTPTS,select=gte(t\\,selected_n*10),scale=142:80,setsar=1,tile=10x10',
    );
    expect([after(a, '-frames:v'), after(a, '-start_number')]).toEqual(['1', '0']);
    expect(a[a.length - 1]).toBe(path.join(outDir, 'sprite_%d.jpg'));
    expect(plan.extraFiles).toEqual([
      {
        path: 'sprite.vtt',
        content:
          'WEBVTT\n\n' +
          '00:00:00.000 --> 00:00:10.000\nsprite_0.jpg#xywh=0,0,142,80\n\n' +
          '00:00:10.000 --> 00:00:20.000\nsprite_0.jpg#xywh=142,0,142,80\n\n' +
          '00:00:20.000 --> 00:00:24.500\nsprite_0.jpg#xywh=284,0,142,80\n',
      },
    ]);
  });

  test('several sprite images when the tiles do not fit one grid', () => {
    const t = { ...preset('ImageSprite', 10), SampleInterval: 1, RowCount: 2, ColumnCount: 2 };
    const plan = planImageSprite(
      t,
      probe({ durationSeconds: 10, video: video({ durationSeconds: 10 }) }),
      io,
    );
    const a = only(plan);
    expect(after(a, '-frames:v')).toBe('3');
    expect(after(a, '-vf')).toMatch(/tile=2x2$/);
    const cues = (plan.extraFiles?.[0].content ?? '').split('\n\n').slice(1);
    expect(cues).toHaveLength(10);
    expect(cues[4]).toBe('00:00:04.000 --> 00:00:05.000\nsprite_1.jpg#xywh=0,0,142,80');
    expect(cues[6]).toBe('00:00:06.000 --> 00:00:07.000\nsprite_1.jpg#xywh=0,80,142,80');
    expect(cues[9].trim()).toBe('00:00:09.000 --> 00:00:10.000\nsprite_2.jpg#xywh=142,0,142,80');
  });

  test('a portrait source gets portrait tiles (ResolutionAdaptive open); Percent sampling', () => {
    const plan = planImageSprite(
      { ...preset('ImageSprite', 10), SampleType: 'Percent', SampleInterval: 25 },
      portraitPhone,
      io,
    );
    expect(after(only(plan), '-vf')).toBe(
      'setpts=PTS-STARTPTS,select=gte(t\\,selected_n*6.125),scale=80:142,setsar=1,tile=10x10',
    );
    expect(plan.extraFiles?.[0].content.match(/-->/g)).toHaveLength(4);
  });

  test('errors', () => {
    fails(
      () => planImageSprite({ ...preset('ImageSprite', 10), RowCount: 0 }, landscape, io),
      40000,
      /RowCount/,
    );
    fails(() => planImageSprite(preset('ImageSprite', 10), audioOnly, io), 60000, /image sprites need video/);
  });

  test('vttTime and spriteVtt edge cases', () => {
    expect(vttTime(3723.5)).toBe('01:02:03.500');
    expect(vttTime(59.9996)).toBe('00:01:00.000');
    expect(
      spriteVtt({
        count: 1,
        step: 10,
        duration: 0,
        tileWidth: 2,
        tileHeight: 2,
        rows: 1,
        columns: 1,
        imageName: () => 's.jpg',
      }),
    ).toBe('WEBVTT\n\n00:00:00.000 --> 00:00:10.000\ns.jpg#xywh=0,0,2,2\n');
  });
});

describe('adaptive streaming', () => {
  test('preset 10 on a 1080p source: the 240p…1080p renditions (no upscaling), one run, master.m3u8', () => {
    const plan = planAdaptiveStreaming(preset('AdaptiveDynamicStreaming', 10), landscape, io);
    const a = only(plan);
    const graph = after(a, '-filter_complex') ?? '';
    expect(graph.split(';')).toEqual([
      '[0:v:0]fps=24,split=4[vs0][vs1][vs2][vs3]',
      '[vs0]scale=426:240,setsar=1[vo0]',
      '[vs1]scale=854:480,setsar=1[vo1]',
      '[vs2]scale=1280:720,setsar=1[vo2]',
      '[vs3]scale=1920:1080,setsar=1[vo3]',
    ]);
    expect(a.filter((x, i) => a[i - 1] === '-map')).toEqual([
      '[vo0]',
      '0:a:0?',
      '[vo1]',
      '0:a:0?',
      '[vo2]',
      '0:a:0?',
      '[vo3]',
      '0:a:0?',
    ]);
    expect([after(a, '-b:v:0'), after(a, '-b:v:1'), after(a, '-b:v:2'), after(a, '-b:v:3')]).toEqual([
      '256k',
      '512k',
      '512k',
      '1024k',
    ]);
    expect([after(a, '-b:a:0'), after(a, '-ar:a:3'), after(a, '-c:a:2')]).toEqual(['48k', '44100', 'aac']);
    expect([
      after(a, '-g:v:0'),
      after(a, '-keyint_min:v:0'),
      after(a, '-sc_threshold:v:0'),
      after(a, '-keyint_min:v:3'),
    ]).toEqual(['48', '48', '0', '48']);
    expect(after(a, '-var_stream_map')).toBe('v:0,a:0 v:1,a:1 v:2,a:2 v:3,a:3');
    expect([after(a, '-f'), after(a, '-hls_time'), after(a, '-hls_segment_filename')]).toEqual([
      'hls',
      '6',
      path.join(outDir, '%v', 'seg_%05d.ts'),
    ]);
    expect(a[a.length - 1]).toBe(path.join(outDir, '%v', 'index.m3u8'));
    expect(plan.mainOutput).toBe('master.m3u8');
    expect(plan.extraFiles?.[0].path).toBe('master.m3u8');
    expect(plan.extraFiles?.[0].content).toBe(
      [
        '#EXTM3U',
        '#EXT-X-VERSION:3',
        '#EXT-X-INDEPENDENT-SEGMENTS',
        '#EXT-X-STREAM-INF:BANDWIDTH=432000,AVERAGE-BANDWIDTH=304000,RESOLUTION=426x240,FRAME-RATE=24.000,CODECS="avc1.64001e,mp4a.40.2"',
        '0/index.m3u8',
        '#EXT-X-STREAM-INF:BANDWIDTH=816000,AVERAGE-BANDWIDTH=560000,RESOLUTION=854x480,FRAME-RATE=24.000,CODECS="avc1.64001e,mp4a.40.2"',
        '1/index.m3u8',
        '#EXT-X-STREAM-INF:BANDWIDTH=816000,AVERAGE-BANDWIDTH=560000,RESOLUTION=1280x720,FRAME-RATE=24.000,CODECS="avc1.64001f,mp4a.40.2"',
        '2/index.m3u8',
        '#EXT-X-STREAM-INF:BANDWIDTH=1584000,AVERAGE-BANDWIDTH=1072000,RESOLUTION=1920x1080,FRAME-RATE=24.000,CODECS="avc1.640028,mp4a.40.2"',
        '3/index.m3u8',
        '',
      ].join('\n'),
    );
  });

  test('a source smaller than every rendition keeps the smallest, at the source size', () => {
    const plan = planAdaptiveStreaming(preset('AdaptiveDynamicStreaming', 10), small, io);
    expect(after(only(plan), '-filter_complex')).toBe('[0:v:0]fps=24[vs0];[vs0]scale=320:192,setsar=1[vo0]');
    expect(plan.extraFiles?.[0].content).toContain('RESOLUTION=320x192');
  });

  test('DisableHigherVideoResolution 0 keeps every rendition (upscaled); a portrait source gets portrait renditions', () => {
    const all = planAdaptiveStreaming(
      { ...preset('AdaptiveDynamicStreaming', 10), DisableHigherVideoResolution: 0 },
      small,
      io,
    );
    expect(after(only(all), '-var_stream_map')?.split(' ')).toHaveLength(6);
    const portrait = after(
      only(planAdaptiveStreaming(preset('AdaptiveDynamicStreaming', 10), portraitPhone, io)),
      '-filter_complex',
    );
    expect(portrait).toContain('[vs0]scale=240:426,setsar=1[vo0]');
  });

  test('a source without audio: video-only variants', () => {
    expect(
      after(
        only(
          planAdaptiveStreaming(preset('AdaptiveDynamicStreaming', 10), { ...small, audio: undefined }, io),
        ),
        '-var_stream_map',
      ),
    ).toBe('v:0');
  });

  test('fMP4 segments; DisableHigherVideoBitrate caps at the source bitrate', () => {
    const t = {
      ...preset('AdaptiveDynamicStreaming', 10),
      SegmentType: 'fmp4',
      SegmentDuration: 4,
      DisableHigherVideoBitrate: 1,
    };
    const plan = planAdaptiveStreaming(t, probe({ video: video({ bitrate: 700_000 }) }), io);
    const a = only(plan);
    expect([after(a, '-hls_segment_type'), after(a, '-hls_time'), after(a, '-hls_segment_filename')]).toEqual(
      ['fmp4', '4', path.join(outDir, '%v', 'seg_%05d.m4s')],
    );
    expect([after(a, '-b:v:0'), after(a, '-b:v:3')]).toEqual(['256k', '700k']);
    expect(plan.extraFiles?.[0].content).toContain('#EXT-X-VERSION:7');
  });

  test('errors', () => {
    fails(
      () =>
        planAdaptiveStreaming(
          { ...preset('AdaptiveDynamicStreaming', 10), Format: 'MPEG-DASH' },
          landscape,
          io,
        ),
      40000,
      /MPEG-DASH/,
    );
    fails(
      () =>
        planAdaptiveStreaming(
          { ...preset('AdaptiveDynamicStreaming', 10), DrmType: 'SimpleAES' },
          landscape,
          io,
        ),
      40000,
      /DRM/,
    );
    fails(
      () =>
        planAdaptiveStreaming({ ...preset('AdaptiveDynamicStreaming', 10), StreamInfos: [] }, landscape, io),
      40000,
      /substreams/,
    );
    fails(
      () => planAdaptiveStreaming(preset('AdaptiveDynamicStreaming', 10), audioOnly, io),
      60000,
      /adaptive streaming needs video/,
    );
  });

  test.each([
    { size: [426, 240, 24, 400], level: 30 },
    { size: [1280, 720, 25, 2700], level: 31 },
    { size: [1280, 720, 60, 4000], level: 32 },
    { size: [1920, 1080, 30, 5000], level: 40 },
    { size: [1920, 1080, 30, 30000], level: 41 },
    { size: [3840, 2160, 30, 9000], level: 51 },
  ])('h264Level $size → $level', ({ size: [w, h, fps, kbps], level }) => {
    expect(h264Level(w, h, fps, kbps)).toBe(level);
  });

  test('codecsAttribute', () => {
    expect(codecsAttribute('libx264', 1280, 720, 25, 2700, true)).toBe('avc1.64001f,mp4a.40.2');
    expect(codecsAttribute('libx265', 1920, 1080, 25, 2700, false)).toBe('hvc1.1.6.L123.90');
    expect(codecsAttribute('libx265', 1920, 1080, 25, 2700, false, true)).toBe('hvc1.2.4.L123.90');
  });
});

describe('animated graphics', () => {
  test('GIF 20000: 2 fps at the source size, palette in one graph, animated.gif', () => {
    const plan = planAnimatedGraphic(preset('AnimatedGraphics', 20000), small, {
      ...io,
      startTimeOffset: 0,
      endTimeOffset: 2,
    });
    const a = only(plan);
    expect(a.slice(0, 4)).toEqual(['-t', '2', '-i', input]);
    expect(after(a, '-vf')).toBe(
      'fps=2,scale=320:192:flags=lanczos,setsar=1,split[gifa][gifb];[gifa]palettegen=stats_mode=diff[gifp];[gifb][gifp]paletteuse=dither=bayer:bayer_scale=5:diff_mode=rectangle',
    );
    expect([after(a, '-f'), after(a, '-loop'), a[a.length - 1]]).toEqual([
      'gif',
      '0',
      path.join(outDir, 'animated.gif'),
    ]);
    expect(plan.mainOutput).toBe('animated.gif');
  });

  test('WEBP 20001 with Quality; a range past the end is clamped; the size rules apply', () => {
    const t = { ...preset('AnimatedGraphics', 20001), Quality: 60, Width: 0, Height: 360 };
    const plan = planAnimatedGraphic(t, landscape, { ...io, startTimeOffset: 20, endTimeOffset: 30 });
    const a = only(plan);
    expect(a.slice(0, 6)).toEqual(['-ss', '20', '-t', '4.5', '-i', input]);
    expect([after(a, '-c:v'), after(a, '-quality'), after(a, '-vf')]).toEqual([
      'libwebp_anim',
      '60',
      'fps=2,scale=640:360:flags=lanczos,setsar=1',
    ]);
    expect(plan.mainOutput).toBe('animated.webp');
  });

  test('the frame rate never exceeds the source', () => {
    const a = only(
      planAnimatedGraphic(
        { ...preset('AnimatedGraphics', 20000), Fps: 15 },
        probe({ video: video({ fps: 10 }) }),
        { ...io, startTimeOffset: 0, endTimeOffset: 1 },
      ),
    );
    expect(after(a, '-vf')).toMatch(/^fps=10,/);
  });

  test('errors', () => {
    const t = preset('AnimatedGraphics', 20000);
    fails(
      () => planAnimatedGraphic(t, landscape, { ...io, startTimeOffset: 3, endTimeOffset: 3 }),
      40000,
      /EndTimeOffset/,
    );
    fails(
      () => planAnimatedGraphic(t, landscape, { ...io, startTimeOffset: 30, endTimeOffset: 40 }),
      40000,
      /past the end/,
    );
    fails(
      () =>
        planAnimatedGraphic({ ...t, Format: 'apng' }, landscape, {
          ...io,
          startTimeOffset: 0,
          endTimeOffset: 1,
        }),
      40000,
      /apng/,
    );
    fails(
      () => planAnimatedGraphic(t, audioOnly, { ...io, startTimeOffset: 0, endTimeOffset: 1 }),
      60000,
      /animated graphics need video/,
    );
  });
});

test.each([
  [undefined, 'ts', false],
  ['ts', 'ts', false],
  ['ts-segment', 'ts', false],
  ['ts-ts-segment', 'ts', false],
  ['ts-byterange', 'ts', true],
  ['fmp4', 'fmp4', false],
  ['mp4', 'fmp4', false],
  ['mp4-segment', 'fmp4', false],
  ['mp4-mp4-segment', 'fmp4', false],
  ['mp4-byterange', 'fmp4', true],
  ['mp4-mp4-byterange', 'fmp4', true],
])('adaptive SegmentType %s → %s segments, byte ranges %s', (value, type, byteRange) => {
  expect(adaptiveSegmentType(value)).toEqual({ type, byteRange });
});

test.each(['ts-packed-audio', 'mp4-packed-audio-byterange', 'webm'])(
  'adaptive SegmentType %s: 40000',
  (v) => {
    fails(() => adaptiveSegmentType(v), 40000, /SegmentType/);
  },
);

test('fpsValue', () => {
  expect([fpsValue(25), fpsValue(29.97), fpsValue(59.94), fpsValue(23.976), fpsValue(12.5)]).toEqual([
    '25',
    '30000/1001',
    '60000/1001',
    '24000/1001',
    '12.5',
  ]);
});

test('a variable-frame-rate source is capped at its base rate, not its average', () => {
  const vfr = probe({ video: video({ fps: 14.8, maxFps: 30 }) });
  expect(after(only(planTranscode(transcode(100010), vfr, io)), '-vf')).toMatch(/^fps=25,/);
  expect(after(only(planTranscode(withVideo(100010, { Fps: 60 }), vfr, io)), '-vf')).toMatch(/^fps=30,/);
});
