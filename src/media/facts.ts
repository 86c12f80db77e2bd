/**
 * Probed facts in Tencent's response shapes: MediaTranscodeItem (a transcode's output) and MediaMetaData (a media's
 * metadata). Bitrates in bps, durations in seconds, Fps rounded to an integer as Tencent reports it.
 */
import type { MediaProbe } from './probe';

export type VideoStreamFacts = {
  Bitrate: number;
  Height: number;
  Width: number;
  Codec: string;
  Fps: number;
  CodecTag?: string;
};

export type AudioStreamFacts = {
  Bitrate: number;
  SamplingRate: number;
  Codec: string;
};

export type TranscodeItemFacts = {
  Url: string;
  Definition: number;
  Bitrate: number;
  Height: number;
  Width: number;
  Size: number;
  Duration: number;
  Md5: string;
  Container: string;
  VideoStreamSet: VideoStreamFacts[];
  AudioStreamSet: AudioStreamFacts[];
};

export type MetaDataFacts = {
  Size: number;
  Container: string;
  Bitrate: number;
  Height: number;
  Width: number;
  Duration: number;
  Rotate: number;
  VideoStreamSet: VideoStreamFacts[];
  AudioStreamSet: AudioStreamFacts[];
  VideoDuration: number;
  AudioDuration: number;
};

const round3 = (n: number) => Math.round(n * 1000) / 1000;

/** Stream facts. `displayed`: width/height as shown (after rotation) rather than as stored. */
function videoStreams(p: MediaProbe, displayed: boolean): VideoStreamFacts[] {
  const v = p.video;
  if (!v) return [];
  return [
    {
      Bitrate: v.bitrate,
      Height: displayed ? v.displayHeight : v.height,
      Width: displayed ? v.displayWidth : v.width,
      Codec: v.codec,
      Fps: Math.round(v.fps),
      ...(v.codecTag ? { CodecTag: v.codecTag } : {}),
    },
  ];
}

function audioStreams(p: MediaProbe): AudioStreamFacts[] {
  const a = p.audio;
  return a ? [{ Bitrate: a.bitrate, SamplingRate: a.sampleRate, Codec: a.codec }] : [];
}

/**
 * A transcode output's facts. `size` is what was stored (for HLS: the playlist and all segments); the bitrate of
 * an HLS output is derived from it, since ffprobe's is the playlist's.
 */
export function transcodeItemFacts(
  probe: MediaProbe,
  extras: { url: string; definition: number; size: number; md5: string },
): TranscodeItemFacts {
  const duration = probe.durationSeconds;
  const derived = duration > 0 ? Math.round((extras.size * 8) / duration) : 0;
  const bitrate = probe.container === 'hls' ? derived : probe.bitrate || derived;
  return {
    Url: extras.url,
    Definition: extras.definition,
    Bitrate: bitrate,
    Height: probe.video?.displayHeight ?? 0,
    Width: probe.video?.displayWidth ?? 0,
    Size: extras.size,
    Duration: round3(duration),
    Md5: extras.md5,
    Container: probe.container,
    VideoStreamSet: videoStreams(probe, true),
    AudioStreamSet: audioStreams(probe),
  };
}

/** A media's MetaData: the stored size with Rotate (as Tencent reports it), stream and per-kind durations. */
export function metaDataFacts(probe: MediaProbe): MetaDataFacts {
  const duration = probe.durationSeconds;
  return {
    Size: probe.sizeBytes,
    Container: probe.container,
    Bitrate: probe.bitrate,
    Height: probe.video?.height ?? 0,
    Width: probe.video?.width ?? 0,
    Duration: round3(duration),
    Rotate: probe.video?.rotation ?? 0,
    VideoStreamSet: videoStreams(probe, false),
    AudioStreamSet: audioStreams(probe),
    VideoDuration: probe.video ? round3(probe.video.durationSeconds ?? duration) : 0,
    AudioDuration: probe.audio ? round3(probe.audio.durationSeconds ?? duration) : 0,
  };
}
