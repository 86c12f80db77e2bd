import {
  PRESETS,
  PresetCatalog,
  TEMPLATE_KINDS,
  isPresetDefinition,
  presetTemplate,
  type TemplateCatalog,
} from '../../../src/media/templates';

describe('preset templates (Tencent VOD "Preset Parameter Template List")', () => {
  const transcode = (def: number) => {
    const t = presetTemplate('Transcode', def);
    if (!t) throw new Error(`no preset ${def}`);
    return t;
  };

  test.each([
    { mp4: 100010, hls: 100210, height: 360, video: 400, audio: 64 },
    { mp4: 100020, hls: 100220, height: 540, video: 1000, audio: 64 },
    { mp4: 100030, hls: 100230, height: 720, video: 1800, audio: 128 },
    { mp4: 100040, hls: 100240, height: 1080, video: 2500, audio: 128 },
    { mp4: 100070, hls: 100270, height: 1440, video: 3000, audio: 160 },
    { mp4: 100080, hls: 100280, height: 2160, video: 6000, audio: 160 },
  ])(
    '$mp4 (MP4) and $hls (HLS): H.264 25 fps, short side $height, $video kbps; AAC $audio kbps 44.1 kHz stereo',
    (row) => {
      for (const [def, container] of [
        [row.mp4, 'mp4'],
        [row.hls, 'hls'],
      ] as const) {
        const t = transcode(def);
        expect(t).toMatchObject({
          Definition: String(def),
          Type: 'Preset',
          Container: container,
          RemoveVideo: 0,
          RemoveAudio: 0,
        });
        expect(t.VideoTemplate).toMatchObject({
          Codec: 'libx264',
          Fps: 25,
          Bitrate: row.video,
          ResolutionAdaptive: 'open',
          Width: 0,
          Height: row.height,
        });
        expect(t.AudioTemplate).toEqual({
          Codec: 'libfdk_aac',
          Bitrate: row.audio,
          SampleRate: 44100,
          AudioChannel: 2,
        });
      }
    },
  );

  test.each([
    { def: 1010, container: 'mp3', codec: 'libmp3lame', kbps: 128 },
    { def: 1020, container: 'mp3', codec: 'libmp3lame', kbps: 320 },
    { def: 1100, container: 'm4a', codec: 'libfdk_aac', kbps: 24 },
    { def: 1110, container: 'm4a', codec: 'libfdk_aac', kbps: 48 },
    { def: 1120, container: 'm4a', codec: 'libfdk_aac', kbps: 96 },
    { def: 1130, container: 'm4a', codec: 'libfdk_aac', kbps: 192 },
    { def: 1140, container: 'm4a', codec: 'libfdk_aac', kbps: 256 },
  ])(
    'audio preset $def: $container $codec $kbps kbps 44.1 kHz stereo, no video',
    ({ def, container, codec, kbps }) => {
      const t = transcode(def);
      expect(t).toMatchObject({
        Container: container,
        RemoveVideo: 1,
        RemoveAudio: 0,
        ContainerType: 'PureAudio',
      });
      expect(t.VideoTemplate).toBeUndefined();
      expect(t.AudioTemplate).toEqual({ Codec: codec, Bitrate: kbps, SampleRate: 44100, AudioChannel: 2 });
    },
  );

  test('remux presets 875 (MP4) and 876 (HLS) copy the streams', () => {
    for (const [def, container] of [
      [875, 'mp4'],
      [876, 'hls'],
    ] as const) {
      const t = transcode(def);
      expect(t.Container).toBe(container);
      expect(t.VideoTemplate?.Codec).toBe('copy');
      expect(t.AudioTemplate?.Codec).toBe('copy');
    }
  });

  test('sample snapshot 10: JPG, source size, every 10 %', () => {
    expect(presetTemplate('SampleSnapshot', 10)).toMatchObject({
      Format: 'jpg',
      Width: 0,
      Height: 0,
      SampleType: 'Percent',
      SampleInterval: 10,
      FillType: 'stretch',
    });
  });

  test('time-offset snapshot 10 (also what CoverBySnapshot uses): JPG, source size', () => {
    expect(presetTemplate('SnapshotByTimeOffset', 10)).toMatchObject({
      Format: 'jpg',
      Width: 0,
      Height: 0,
      FillType: 'stretch',
    });
  });

  test('image sprite 10: 142×80 tiles, 10×10, every 10 s, JPG', () => {
    expect(presetTemplate('ImageSprite', 10)).toMatchObject({
      Format: 'jpg',
      Width: 142,
      Height: 80,
      RowCount: 10,
      ColumnCount: 10,
      SampleType: 'Time',
      SampleInterval: 10,
    });
  });

  test('adaptive streaming 10: HLS, six H.264 24 fps substreams 240p…2160p with AAC 48 kbps, no upscaling', () => {
    const t = presetTemplate('AdaptiveDynamicStreaming', 10);
    expect(t).toMatchObject({ Format: 'HLS', DrmType: '', DisableHigherVideoResolution: 1 });
    expect(t?.StreamInfos.map((s) => [s.Video.Height, s.Video.Bitrate, s.Video.Fps, s.Video.Codec])).toEqual([
      [240, 256, 24, 'libx264'],
      [480, 512, 24, 'libx264'],
      [720, 512, 24, 'libx264'],
      [1080, 1024, 24, 'libx264'],
      [1440, 3072, 24, 'libx264'],
      [2160, 6144, 24, 'libx264'],
    ]);
    expect(new Set(t?.StreamInfos.map((s) => JSON.stringify(s.Audio)))).toEqual(
      new Set([JSON.stringify({ Codec: 'libfdk_aac', Bitrate: 48, SampleRate: 44100, AudioChannel: 2 })]),
    );
  });

  test('animated graphics 20000 (GIF) and 20001 (WEBP): source size, 2 fps', () => {
    expect(presetTemplate('AnimatedGraphics', 20000)).toMatchObject({
      Format: 'gif',
      Fps: 2,
      Width: 0,
      Height: 0,
    });
    expect(presetTemplate('AnimatedGraphics', 20001)).toMatchObject({
      Format: 'webp',
      Fps: 2,
      Width: 0,
      Height: 0,
    });
  });

  test('every preset is Type Preset, has a name and times, and Definitions are unique per kind and sorted', () => {
    for (const kind of TEMPLATE_KINDS) {
      const defs = PRESETS[kind].map((t) => Number(t.Definition));
      expect(defs).toEqual([...new Set(defs)].sort((a, b) => a - b));
      for (const t of PRESETS[kind]) {
        expect(t.Type).toBe('Preset');
        expect(t.Name).not.toBe('');
        expect(t.CreateTime).toMatch(/^\d{4}-\d\d-\d\dT/);
      }
    }
  });
});

describe('PresetCatalog', () => {
  const catalog: TemplateCatalog = new PresetCatalog();

  test('answers presets by kind and Definition, for any app', async () => {
    expect((await catalog.get('Transcode', 100030, 1))?.Definition).toBe('100030');
    expect((await catalog.get('ImageSprite', 10, 2))?.Width).toBe(142);
    expect(await catalog.get('Transcode', 99999999, 1)).toBeUndefined();
    expect(await catalog.get('SampleSnapshot', 20, 1)).toBeUndefined();
  });

  test('hands out copies: changing one does not change the table', async () => {
    const t = await catalog.get('Transcode', 100010, 1);
    if (!t?.VideoTemplate) throw new Error('missing');
    t.VideoTemplate.Bitrate = 1;
    expect((await catalog.get('Transcode', 100010, 1))?.VideoTemplate?.Bitrate).toBe(400);
  });

  test('lists a kind and tells presets apart', () => {
    expect(new PresetCatalog().list('AnimatedGraphics').map((t) => t.Definition)).toEqual([20000, 20001]);
    expect(isPresetDefinition('Transcode', 875)).toBe(true);
    expect(isPresetDefinition('Transcode', 10001)).toBe(false);
  });
});
