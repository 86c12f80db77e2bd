import { metaDataFacts, transcodeItemFacts } from '../../../src/media/facts';
import type { MediaProbe } from '../../../src/media/probe';

const probe: MediaProbe = {
  container: 'mp4',
  durationSeconds: 24.5234,
  sizeBytes: 3_000_000,
  bitrate: 978_000,
  video: {
    codec: 'h264',
    width: 1920,
    height: 1080,
    rotation: 90,
    displayWidth: 1080,
    displayHeight: 1920,
    fps: 29.97,
    bitrate: 850_000,
    codecTag: 'avc1',
    pixFmt: 'yuv420p',
    durationSeconds: 24.5,
  },
  audio: { codec: 'aac', sampleRate: 44100, channels: 2, bitrate: 128_000, durationSeconds: 24.52 },
};

test('transcodeItemFacts: Tencent MediaTranscodeItem with the displayed size', () => {
  expect(
    transcodeItemFacts(probe, {
      url: 'https://cdn/x/video.mp4',
      definition: 100030,
      size: 3_000_001,
      md5: 'abc',
    }),
  ).toEqual({
    Url: 'https://cdn/x/video.mp4',
    Definition: 100030,
    Bitrate: 978_000,
    Height: 1920,
    Width: 1080,
    Size: 3_000_001,
    Duration: 24.523,
    Md5: 'abc',
    Container: 'mp4',
    VideoStreamSet: [
      { Bitrate: 850_000, Height: 1920, Width: 1080, Codec: 'h264', Fps: 30, CodecTag: 'avc1' },
    ],
    AudioStreamSet: [{ Bitrate: 128_000, SamplingRate: 44100, Codec: 'aac' }],
  });
});

test('transcodeItemFacts: an HLS output takes its bitrate from the stored size, not the playlist', () => {
  const hls: MediaProbe = { ...probe, container: 'hls', sizeBytes: 200, bitrate: 65, durationSeconds: 10 };
  const f = transcodeItemFacts(hls, { url: 'u', definition: 100210, size: 1_250_000, md5: '' });
  expect(f.Bitrate).toBe(1_000_000);
  expect(f.Container).toBe('hls');
});

test('transcodeItemFacts: audio only', () => {
  const { video: _v, ...audioOnly } = probe;
  const f = transcodeItemFacts(
    { ...audioOnly, container: 'mp3' },
    { url: 'u', definition: 1010, size: 10, md5: 'm' },
  );
  expect([f.Width, f.Height, f.VideoStreamSet, f.AudioStreamSet.length]).toEqual([0, 0, [], 1]);
});

test('metaDataFacts: Tencent MediaMetaData with the stored size and Rotate', () => {
  expect(metaDataFacts(probe)).toEqual({
    Size: 3_000_000,
    Container: 'mp4',
    Bitrate: 978_000,
    Height: 1080,
    Width: 1920,
    Duration: 24.523,
    Rotate: 90,
    VideoStreamSet: [
      { Bitrate: 850_000, Height: 1080, Width: 1920, Codec: 'h264', Fps: 30, CodecTag: 'avc1' },
    ],
    AudioStreamSet: [{ Bitrate: 128_000, SamplingRate: 44100, Codec: 'aac' }],
    VideoDuration: 24.5,
    AudioDuration: 24.52,
  });
});

test('metaDataFacts: stream durations default to the file duration; missing kinds are 0', () => {
  const m = metaDataFacts({
    container: 'mp3',
    durationSeconds: 3,
    sizeBytes: 1,
    bitrate: 8,
    audio: { codec: 'mp3', sampleRate: 44100, channels: 2, bitrate: 8 },
  });
  expect([m.VideoDuration, m.AudioDuration, m.Rotate, m.Width, m.VideoStreamSet]).toEqual([0, 3, 0, 0, []]);
});
