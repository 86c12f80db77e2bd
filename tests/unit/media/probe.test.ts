import { PermanentError } from '../../../src/domain/errors';
import { parseFfprobeJson, parseRate, webpHeaderSize } from '../../../src/media/probe';

const h264 = (extra: Record<string, unknown> = {}) => ({
  index: 0,
  codec_name: 'h264',
  codec_type: 'video',
  codec_tag_string: 'avc1',
  width: 1920,
  height: 1080,
  sample_aspect_ratio: '1:1',
  pix_fmt: 'yuv420p',
  r_frame_rate: '30000/1001',
  avg_frame_rate: '30000/1001',
  bit_rate: '4000000',
  duration: '10.010000',
  disposition: { attached_pic: 0 },
  ...extra,
});
const aac = (extra: Record<string, unknown> = {}) => ({
  index: 1,
  codec_name: 'aac',
  codec_type: 'audio',
  sample_rate: '48000',
  channels: 2,
  bit_rate: '128000',
  duration: '10.000000',
  ...extra,
});
const mp4 = (
  streams: unknown[],
  tags: Record<string, string> = { major_brand: 'isom' },
  extra: Record<string, unknown> = {},
) => ({
  streams,
  format: {
    filename: '/x/in.mp4',
    format_name: 'mov,mp4,m4a,3gp,3g2,mj2',
    duration: '10.010000',
    size: '5000000',
    bit_rate: '3996003',
    tags,
    ...extra,
  },
});

describe('parseFfprobeJson', () => {
  test('an HDR stream reports its colour description; unknown values are left out', () => {
    const hdr = parseFfprobeJson(
      mp4([h264({ color_transfer: 'smpte2084', color_primaries: 'bt2020', color_space: 'bt2020nc' }), aac()]),
    );
    expect(hdr.video).toMatchObject({
      colorTransfer: 'smpte2084',
      colorPrimaries: 'bt2020',
      colorSpace: 'bt2020nc',
    });
    const plain = parseFfprobeJson(mp4([h264({ color_transfer: 'unknown', color_space: 'bt709' }), aac()]));
    expect(plain.video?.colorTransfer).toBeUndefined();
    expect(plain.video?.colorSpace).toBe('bt709');
  });

  test('a plain MP4 with H.264 and AAC', () => {
    expect(parseFfprobeJson(mp4([h264(), aac()]))).toEqual({
      container: 'mp4',
      durationSeconds: 10.01,
      sizeBytes: 5000000,
      bitrate: 3996003,
      video: {
        codec: 'h264',
        width: 1920,
        height: 1080,
        rotation: 0,
        displayWidth: 1920,
        displayHeight: 1080,
        fps: 29.97,
        bitrate: 4000000,
        codecTag: 'avc1',
        pixFmt: 'yuv420p',
        streamIndex: 0,
        durationSeconds: 10.01,
      },
      audio: {
        codec: 'aac',
        sampleRate: 48000,
        channels: 2,
        bitrate: 128000,
        streamIndex: 1,
        durationSeconds: 10,
      },
    });
  });

  test.each([
    {
      name: 'display matrix -90 (an iPhone portrait clip)',
      extra: { side_data_list: [{ side_data_type: 'Display Matrix', rotation: -90 }] },
      rotation: 90,
    },
    {
      name: 'display matrix 90',
      extra: { side_data_list: [{ side_data_type: 'Display Matrix', rotation: 90 }] },
      rotation: 270,
    },
    {
      name: 'display matrix 180',
      extra: { side_data_list: [{ side_data_type: 'Display Matrix', rotation: -180 }] },
      rotation: 180,
    },
    { name: 'rotate tag 90 (old ffprobe)', extra: { tags: { rotate: '90' } }, rotation: 90 },
    { name: 'rotate tag -90', extra: { tags: { rotate: '-90' } }, rotation: 270 },
    {
      name: 'display matrix 89.97 snaps to 90',
      extra: { side_data_list: [{ side_data_type: 'Display Matrix', rotation: -89.97 }] },
      rotation: 90,
    },
  ])('rotation: $name → $rotation°, display size swapped when turned', ({ extra, rotation }) => {
    const v = parseFfprobeJson(mp4([h264(extra)])).video;
    expect(v?.rotation).toBe(rotation);
    const turned = rotation % 180 !== 0;
    expect([v?.displayWidth, v?.displayHeight]).toEqual(turned ? [1080, 1920] : [1920, 1080]);
    expect([v?.width, v?.height]).toEqual([1920, 1080]);
  });

  test('a non-square sample aspect ratio widens the display size', () => {
    const v = parseFfprobeJson(mp4([h264({ width: 720, height: 576, sample_aspect_ratio: '16:15' })])).video;
    expect([v?.displayWidth, v?.displayHeight]).toEqual([768, 576]);
  });

  test('an attached picture (cover art) is not video', () => {
    const p = parseFfprobeJson({
      streams: [
        {
          index: 0,
          codec_name: 'mp3',
          codec_type: 'audio',
          sample_rate: '44100',
          channels: 2,
          bit_rate: '320000',
        },
        {
          index: 1,
          codec_name: 'mjpeg',
          codec_type: 'video',
          width: 500,
          height: 500,
          disposition: { attached_pic: 1 },
        },
      ],
      format: { format_name: 'mp3', duration: '200.5', size: '8000000', bit_rate: '320000' },
    });
    expect(p.container).toBe('mp3');
    expect(p.video).toBeUndefined();
    expect(p.audio).toMatchObject({ codec: 'mp3', sampleRate: 44100, channels: 2 });
  });

  test('a cover stream before the real video: the real one is chosen', () => {
    const p = parseFfprobeJson(
      mp4([
        {
          index: 0,
          codec_name: 'png',
          codec_type: 'video',
          width: 300,
          height: 300,
          disposition: { attached_pic: 1 },
        },
        h264({ index: 1 }),
      ]),
    );
    expect(p.video).toMatchObject({ codec: 'h264', streamIndex: 1 });
  });

  test('a single JPEG counts as video, container jpg', () => {
    const p = parseFfprobeJson({
      streams: [
        {
          index: 0,
          codec_name: 'mjpeg',
          codec_type: 'video',
          width: 640,
          height: 480,
          r_frame_rate: '25/1',
          avg_frame_rate: '0/0',
          pix_fmt: 'yuvj420p',
        },
      ],
      format: { filename: 'a.jpg', format_name: 'image2', duration: '0.040000', size: '40000' },
    });
    expect(p.container).toBe('jpg');
    expect(p.video).toMatchObject({ codec: 'mjpeg', width: 640, height: 480, fps: 25 });
    expect(p.audio).toBeUndefined();
  });

  test.each([
    { format: { format_name: 'mov,mp4,m4a,3gp,3g2,mj2', tags: { major_brand: 'qt  ' } }, container: 'mov' },
    { format: { format_name: 'mov,mp4,m4a,3gp,3g2,mj2', tags: { major_brand: 'M4A ' } }, container: 'm4a' },
    { format: { format_name: 'flv' }, container: 'flv' },
    { format: { format_name: 'hls' }, container: 'hls' },
    { format: { format_name: 'mpegts' }, container: 'ts' },
    { format: { format_name: 'matroska,webm', filename: 'a.mkv' }, container: 'mkv' },
    { format: { format_name: 'matroska,webm', filename: 'a.webm' }, container: 'webm' },
    { format: { format_name: 'avi' }, container: 'avi' },
    { format: { format_name: 'gif' }, container: 'gif' },
    { format: { format_name: 'png_pipe' }, container: 'png', codec: 'png' },
    { format: { format_name: 'webp_pipe' }, container: 'webp', codec: 'webp' },
  ])('container $format.format_name → $container', ({ format, container, codec }) => {
    const p = parseFfprobeJson({
      streams: [h264(codec ? { codec_name: codec } : {})],
      format: { duration: '1', size: '1000', ...format },
    });
    expect(p.container).toBe(container);
  });

  test('audio-only formats', () => {
    for (const [format_name, container] of [
      ['wav', 'wav'],
      ['ogg', 'ogg'],
      ['flac', 'flac'],
      ['aac', 'aac'],
    ]) {
      expect(
        parseFfprobeJson({ streams: [aac({ index: 0 })], format: { format_name, duration: '3' } }).container,
      ).toBe(container);
    }
  });

  test('missing bitrate and duration are derived', () => {
    const p = parseFfprobeJson({
      streams: [h264({ duration: '8' })],
      format: { format_name: 'matroska,webm', size: '1000000' },
    });
    expect(p.durationSeconds).toBe(8);
    expect(p.bitrate).toBe(1_000_000);
  });

  test('matroska keeps stream bitrates and durations in tags', () => {
    const p = parseFfprobeJson({
      streams: [
        h264({
          bit_rate: undefined,
          duration: undefined,
          tags: { BPS: '2500000', DURATION: '00:01:02.500000000' },
        }),
      ],
      format: { format_name: 'matroska,webm', duration: '62.5' },
    });
    expect(p.video).toMatchObject({ bitrate: 2500000, durationSeconds: 62.5 });
  });

  test('variable frame rate: avg_frame_rate is used, r_frame_rate when avg is missing', () => {
    expect(
      parseFfprobeJson(mp4([h264({ r_frame_rate: '60/1', avg_frame_rate: '2997/125' })])).video?.fps,
    ).toBe(23.976);
    expect(parseFfprobeJson(mp4([h264({ r_frame_rate: '25/1', avg_frame_rate: '0/0' })])).video?.fps).toBe(
      25,
    );
  });

  test.each([
    { name: 'no streams at all', json: { streams: [], format: {} }, message: /not a valid media file/ },
    {
      name: 'only data and subtitle streams',
      json: {
        streams: [{ codec_type: 'data' }, { codec_type: 'subtitle' }],
        format: { format_name: 'mpegts' },
      },
      message: /neither a video nor an audio stream/,
    },
    {
      name: 'only a cover picture',
      json: {
        streams: [{ codec_type: 'video', width: 10, height: 10, disposition: { attached_pic: 1 } }],
        format: { format_name: 'mp3' },
      },
      message: /neither/,
    },
    { name: 'not JSON of ffprobe', json: 'garbage', message: /not a valid media file/ },
    {
      name: 'a text file read as ANSI art',
      json: {
        streams: [{ codec_type: 'video', codec_name: 'ansi', width: 640, height: 400 }],
        format: { format_name: 'tty' },
      },
      message: /neither/,
    },
  ])('$name → PermanentError 60000', ({ json, message }) => {
    let err: unknown;
    try {
      parseFfprobeJson(json);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(PermanentError);
    expect((err as PermanentError).errCode).toBe(60000);
    expect((err as PermanentError).message).toMatch(message);
  });

  test('parseRate', () => {
    expect([
      parseRate('30000/1001'),
      parseRate('25/1'),
      parseRate('0/0'),
      parseRate('24'),
      parseRate(undefined),
    ]).toEqual([30000 / 1001, 25, 0, 24, 0]);
  });

  test('webpHeaderSize reads the VP8X canvas of an animated WebP', () => {
    const b = Buffer.alloc(30);
    b.write('RIFF', 0, 'ascii');
    b.write('WEBP', 8, 'ascii');
    b.write('VP8X', 12, 'ascii');
    b.writeUIntLE(319, 24, 3);
    b.writeUIntLE(179, 27, 3);
    expect(webpHeaderSize(b)).toEqual({ width: 320, height: 180 });
    expect(webpHeaderSize(Buffer.alloc(30))).toBeUndefined();
  });
});
