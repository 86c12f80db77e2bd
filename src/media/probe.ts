/**
 * ffprobe: what a media file holds, in the terms the templates and Tencent's MetaData use.
 */
import { spawn } from 'node:child_process';
import { open } from 'node:fs/promises';
import { ErrCode, PermanentError } from '../domain/errors';
import { Tail, diagnose, toError } from './diagnose';

export interface MediaProbe {
  /** Tencent-style container: mp4, mov, flv, hls, mp3, m4a, aac, webm, mkv, avi, ts, gif, jpg, png, webp, wav, ogg, flac… */
  container: string;
  durationSeconds: number;
  sizeBytes: number;
  /** bps. */
  bitrate: number;
  video?: {
    codec: string;
    /** Coded (stored) size, before rotation. */
    width: number;
    height: number;
    /** Clockwise degrees the player turns the picture: from the display matrix or the rotate tag; 0/90/180/270. */
    rotation: number;
    /** Size as displayed: after rotation and a non-square sample aspect ratio. */
    displayWidth: number;
    displayHeight: number;
    /** Average frame rate. */
    fps: number;
    /** The base (highest) frame rate of a variable-frame-rate stream, when above the average. */
    maxFps?: number;
    /** bps; 0 when the container does not say. */
    bitrate: number;
    codecTag?: string;
    pixFmt?: string;
    /** ffprobe's color_transfer / color_primaries / color_space (absent when unknown): HDR detection. */
    colorTransfer?: string;
    colorPrimaries?: string;
    colorSpace?: string;
    /** Index of the stream in the file (for `-map 0:<index>`). */
    streamIndex?: number;
    durationSeconds?: number;
  };
  audio?: {
    codec: string;
    sampleRate: number;
    channels: number;
    /** bps; 0 when the container does not say. */
    bitrate: number;
    streamIndex?: number;
    durationSeconds?: number;
  };
}

type Json = Record<string, unknown>;

const obj = (v: unknown): Json =>
  v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : {};
const num = (v: unknown): number => {
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
  return Number.isFinite(n) ? n : 0;
};
const str = (v: unknown): string => (typeof v === 'string' ? v : '');

/** "30000/1001" → 29.97; "0/0" → 0. */
export function parseRate(v: unknown): number {
  const s = str(v);
  if (!s) return num(v);
  const [a, b] = s.split('/').map(Number);
  if (b === undefined) return Number.isFinite(a) ? a : 0;
  return b > 0 && Number.isFinite(a) ? a / b : 0;
}

function normaliseRotation(deg: number): number {
  const r = (((Math.round(deg / 90) * 90) % 360) + 360) % 360;
  return r;
}

/** Clockwise rotation from a stream: the display matrix (ffprobe reports it counter-clockwise) or the rotate tag. */
function rotationOf(stream: Json): number {
  const side = Array.isArray(stream.side_data_list) ? (stream.side_data_list as unknown[]).map(obj) : [];
  const matrix = side.find((s) => /display ?matrix/i.test(str(s.side_data_type)) && s.rotation !== undefined);
  if (matrix) return normaliseRotation(-num(matrix.rotation));
  const tag = obj(stream.tags).rotate;
  if (tag !== undefined) return normaliseRotation(num(tag));
  return 0;
}

function durationOf(stream: Json): number | undefined {
  const d = num(stream.duration) || tagDuration(obj(stream.tags).DURATION);
  return d > 0 ? d : undefined;
}

/** Matroska keeps stream durations as a "DURATION" tag, "00:01:02.345000000". */
function tagDuration(v: unknown): number {
  const m = str(v).match(/^(\d+):(\d+):(\d+(?:\.\d+)?)$/);
  return m ? Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3]) : 0;
}

function streamBitrate(stream: Json): number {
  return num(stream.bit_rate) || num(obj(stream.tags).BPS) || num(obj(stream.tags)['BPS-eng']);
}

const IMAGE_CODECS: Record<string, string> = {
  mjpeg: 'jpg',
  png: 'png',
  webp: 'webp',
  bmp: 'bmp',
  gif: 'gif',
  tiff: 'tiff',
};
const WEBM_CODECS = new Set(['vp8', 'vp9', 'av1', 'opus', 'vorbis']);
/** "Video" that ffmpeg makes out of text files (ANSI art and the like): not media. */
const TEXT_CODECS = new Set(['ansi', 'bintext', 'xbin', 'idf', 'tty']);

function containerOf(format: Json, video: Json | undefined, audio: Json | undefined): string {
  const name = str(format.format_name).toLowerCase();
  const names = name.split(',');
  const brand = str(obj(format.tags).major_brand).trim().toLowerCase();
  const ext = (
    str(format.filename)
      .split(/[?#]/)[0]
      .match(/\.([a-z0-9]+)$/i)?.[1] ?? ''
  ).toLowerCase();
  if (names.includes('mov') || names.includes('mp4')) {
    if (brand === 'qt') return 'mov';
    if (brand.startsWith('m4a') || brand === 'm4b') return 'm4a';
    if (brand === '3gp4' || brand === '3gp5' || brand === '3g2a') return '3gp';
    if (!video && ext === 'm4a') return 'm4a';
    if (ext === 'mov' && !brand) return 'mov';
    return 'mp4';
  }
  if (names.includes('matroska') || names.includes('webm')) {
    const codecs = [video, audio].filter((s): s is Json => s !== undefined).map((s) => str(s.codec_name));
    if (ext === 'webm' || (codecs.length > 0 && codecs.every((c) => WEBM_CODECS.has(c)) && ext !== 'mkv'))
      return 'webm';
    return 'mkv';
  }
  if (names.includes('hls') || names.includes('applehttp')) return 'hls';
  if (names.includes('mpegts')) return 'ts';
  if (names.includes('image2') || name.endsWith('_pipe')) {
    const codec = str(video?.codec_name);
    return IMAGE_CODECS[codec] ?? (name.replace(/_pipe$/, '') || codec);
  }
  const direct: Record<string, string> = {
    flv: 'flv',
    mp3: 'mp3',
    avi: 'avi',
    gif: 'gif',
    wav: 'wav',
    ogg: 'ogg',
    flac: 'flac',
    aac: 'aac',
    asf: 'wmv',
    mpeg: 'mpg',
    rm: 'rm',
    webp: 'webp',
    amr: 'amr',
  };
  for (const n of names) if (direct[n]) return direct[n];
  return names[0] || ext || 'unknown';
}

/**
 * Reads ffprobe's `-show_format -show_streams` JSON. Throws PermanentError(60000) when the file has neither a
 * video nor an audio stream. An attached picture (cover art) is not video; a still image (mjpeg, png…) is.
 */
export function parseFfprobeJson(json: unknown): MediaProbe {
  const root = obj(json);
  const format = obj(root.format);
  const streams = Array.isArray(root.streams) ? (root.streams as unknown[]).map(obj) : [];

  const video = streams.find(
    (s) =>
      s.codec_type === 'video' &&
      num(obj(s.disposition).attached_pic) !== 1 &&
      !TEXT_CODECS.has(str(s.codec_name)) &&
      (num(s.width) > 0 || str(s.codec_name) === 'webp'),
  );
  const audio = streams.find(
    (s) => s.codec_type === 'audio' && (num(s.sample_rate) > 0 || num(s.channels) > 0),
  );
  if (!video && !audio) {
    throw new PermanentError(
      ErrCode.BadSource,
      streams.length === 0 && !format.format_name
        ? 'the source file is not a valid media file (no streams found)'
        : 'the source has neither a video nor an audio stream',
    );
  }

  const sizeBytes = Math.round(num(format.size));
  let durationSeconds = num(format.duration);
  if (!(durationSeconds > 0)) {
    durationSeconds = Math.max(0, ...streams.map((s) => durationOf(s) ?? 0));
  }
  if (!Number.isFinite(durationSeconds) || durationSeconds < 0) durationSeconds = 0;
  let bitrate = Math.round(num(format.bit_rate));
  if (!bitrate && sizeBytes > 0 && durationSeconds > 0)
    bitrate = Math.round((sizeBytes * 8) / durationSeconds);

  const probe: MediaProbe = {
    container: containerOf(format, video, audio),
    durationSeconds,
    sizeBytes,
    bitrate,
  };

  if (video) {
    const width = Math.round(num(video.width));
    const height = Math.round(num(video.height));
    const rotation = rotationOf(video);
    const sar = parseRatio(str(video.sample_aspect_ratio));
    const sarWidth = sar > 0 && Math.abs(sar - 1) > 0.001 ? Math.round(width * sar) : width;
    const turned = rotation === 90 || rotation === 270;
    const avg = parseRate(video.avg_frame_rate);
    const fps = avg > 0 && avg < 1000 ? avg : parseRate(video.r_frame_rate);
    const base = parseRate(video.r_frame_rate);
    const maxFps = fps > 0 && base > fps + 0.01 && base <= 240 ? Math.round(base * 1000) / 1000 : undefined;
    const tag = str(video.codec_tag_string);
    probe.video = {
      codec: str(video.codec_name),
      width,
      height,
      rotation,
      displayWidth: turned ? height : sarWidth,
      displayHeight: turned ? sarWidth : height,
      fps: Number.isFinite(fps) && fps > 0 && fps < 1000 ? Math.round(fps * 1000) / 1000 : 0,
      ...(maxFps !== undefined ? { maxFps } : {}),
      bitrate: Math.round(streamBitrate(video)),
      ...(tag && !tag.startsWith('[') ? { codecTag: tag } : {}),
      ...(str(video.pix_fmt) ? { pixFmt: str(video.pix_fmt) } : {}),
      ...colorOf(video),
      ...(video.index !== undefined ? { streamIndex: num(video.index) } : {}),
      ...(durationOf(video) !== undefined ? { durationSeconds: durationOf(video) } : {}),
    };
  }
  if (audio) {
    probe.audio = {
      codec: str(audio.codec_name),
      sampleRate: Math.round(num(audio.sample_rate)),
      channels: Math.round(num(audio.channels)),
      bitrate: Math.round(streamBitrate(audio)),
      ...(audio.index !== undefined ? { streamIndex: num(audio.index) } : {}),
      ...(durationOf(audio) !== undefined ? { durationSeconds: durationOf(audio) } : {}),
    };
  }
  return probe;
}

function parseRatio(s: string): number {
  const [a, b] = s.split(':').map(Number);
  return a > 0 && b > 0 ? a / b : 0;
}

export const isUrl = (input: string): boolean => /^https?:\/\//i.test(input);

/**
 * Probes a local file or an http(s) URL. Fails with PermanentError(60000) naming the cause (not a media file,
 * truncated, HTTP 404, no answer within the timeout), TransientError for I/O that may pass.
 */
export async function probeMedia(
  ffprobe: string,
  input: string,
  opts: { timeoutMs?: number } = {},
): Promise<MediaProbe> {
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const args = ['-v', 'error'];
  if (isUrl(input)) {
    // A stalled connection fails on its own well before our timeout.
    args.push('-rw_timeout', String(Math.max(1_000_000, Math.floor(timeoutMs * 0.8) * 1000)));
  }
  args.push('-print_format', 'json', '-show_format', '-show_streams', input);

  const { code, stdout, stderr, timedOut, spawnError } = await new Promise<{
    code: number | null;
    stdout: string;
    stderr: string;
    timedOut: boolean;
    spawnError?: Error;
  }>((resolve) => {
    const child = spawn(ffprobe, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err = new Tail(4096);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c.toString('utf8')));
    child.on('error', (e) => {
      clearTimeout(timer);
      resolve({ code: null, stdout: '', stderr: err.toString(), timedOut, spawnError: e });
    });
    child.on('close', (c) => {
      clearTimeout(timer);
      resolve({ code: c, stdout: Buffer.concat(out).toString('utf8'), stderr: err.toString(), timedOut });
    });
  });

  if (spawnError) throw new Error(`ffprobe could not be started (${spawnError.message})`);
  if (timedOut) {
    throw new PermanentError(
      ErrCode.BadSource,
      `the source did not answer within ${Math.round(timeoutMs / 1000)} s`,
    );
  }
  if (code !== 0) {
    const d = diagnose(stderr, { input });
    // A URL that accepts the connection and then sends nothing trips ffprobe's own read timeout first.
    if (d.kind === 'transient' && isUrl(input) && /timed out/i.test(d.message)) {
      throw new PermanentError(
        ErrCode.BadSource,
        `the source did not answer within ${Math.round(timeoutMs / 1000)} s`,
      );
    }
    throw toError(d);
  }
  let json: unknown;
  try {
    json = JSON.parse(stdout);
  } catch {
    throw new PermanentError(
      ErrCode.BadSource,
      'the source file is not a valid media file (ffprobe gave no readable answer)',
    );
  }
  const probe = parseFfprobeJson(json);
  if (probe.video && probe.video.codec === 'webp' && probe.video.width === 0 && !isUrl(input)) {
    // ffmpeg cannot decode animated WebP; its canvas size is in the VP8X header.
    const size = await webpCanvasSize(input).catch(() => undefined);
    if (size)
      Object.assign(probe.video, {
        width: size.width,
        height: size.height,
        displayWidth: size.width,
        displayHeight: size.height,
      });
  }
  return probe;
}

/** The canvas size of a WebP file from its header (VP8X, VP8 or VP8L chunk). */
export async function webpCanvasSize(file: string): Promise<{ width: number; height: number } | undefined> {
  const fh = await open(file, 'r');
  try {
    const b = Buffer.alloc(30);
    await fh.read(b, 0, 30, 0);
    return webpHeaderSize(b);
  } finally {
    await fh.close();
  }
}

export function webpHeaderSize(b: Buffer): { width: number; height: number } | undefined {
  if (b.length < 30 || b.toString('ascii', 0, 4) !== 'RIFF' || b.toString('ascii', 8, 12) !== 'WEBP')
    return undefined;
  const chunk = b.toString('ascii', 12, 16);
  if (chunk === 'VP8X') return { width: 1 + b.readUIntLE(24, 3), height: 1 + b.readUIntLE(27, 3) };
  if (chunk === 'VP8 ') return { width: b.readUInt16LE(26) & 0x3fff, height: b.readUInt16LE(28) & 0x3fff };
  if (chunk === 'VP8L') {
    const bits = b.readUInt32LE(21);
    return { width: (bits & 0x3fff) + 1, height: ((bits >> 14) & 0x3fff) + 1 };
  }
  return undefined;
}

/** The stream's colour description, leaving out what ffprobe calls unknown. */
function colorOf(video: Record<string, unknown>): {
  colorTransfer?: string;
  colorPrimaries?: string;
  colorSpace?: string;
} {
  const known = (v: unknown): string | undefined => {
    const s = typeof v === 'string' ? v : '';
    return s && s !== 'unknown' && s !== 'unspecified' ? s : undefined;
  };
  const out: { colorTransfer?: string; colorPrimaries?: string; colorSpace?: string } = {};
  const t = known(video.color_transfer);
  const p = known(video.color_primaries);
  const c = known(video.color_space);
  if (t) out.colorTransfer = t;
  if (p) out.colorPrimaries = p;
  if (c) out.colorSpace = c;
  return out;
}
