/**
 * Runs ffmpeg: an argument array (never a shell), progress from `-progress pipe:1`, the tail of stderr kept to
 * say what went wrong, a timeout, and cancellation.
 */
import { spawn } from 'node:child_process';
import { ErrCode, PermanentError, TransientError } from '../domain/errors';
import { Tail, diagnose, toError } from './diagnose';

/** Put before every plan's arguments. */
export const RUNNER_ARGS = [
  '-hide_banner',
  '-nostdin',
  '-y',
  '-progress',
  'pipe:1',
  '-nostats',
  '-loglevel',
  'error',
];

export interface RunOptions {
  /** Expected output duration in seconds, for the percentage; 0 = unknown (only 100 at the end). */
  durationSeconds: number;
  /** 0–100 integer; called at most every ~2 s while running, and with 100 on success. */
  onProgress?: (percent: number) => void;
  signal?: AbortSignal;
  timeoutMs?: number;
  cwd?: string;
  /** How often progress may be reported (default 2000 ms). */
  progressIntervalMs?: number;
}

export interface ProgressState {
  /** An incomplete last line, kept for the next chunk. */
  pending: string;
  /** Output time reached, in seconds. */
  outTimeSeconds?: number;
  /** `progress=end` was seen. */
  ended: boolean;
}

/**
 * Parses a chunk of `-progress` output (key=value lines). Pure: give it the previous state, get the next.
 * `out_time_us` is microseconds; `out_time_ms` is ALSO microseconds (a long-standing ffmpeg misnomer), used when
 * `out_time_us` is absent (old ffmpeg); `out_time=HH:MM:SS.micro` is the last resort. Negative or "N/A" values
 * (before the first frame) are ignored.
 */
export function parseProgressChunk(prev: ProgressState, chunk: string): ProgressState {
  const text = prev.pending + chunk;
  const lines = text.split(/\r?\n/);
  const pending = lines.pop() ?? '';
  let outTimeSeconds = prev.outTimeSeconds;
  let ended = prev.ended;
  let us: number | undefined;
  let ms: number | undefined;
  let hms: number | undefined;
  const flush = () => {
    const t = us ?? ms ?? hms;
    if (t !== undefined && t >= 0) outTimeSeconds = Math.max(outTimeSeconds ?? 0, t);
    us = ms = hms = undefined;
  };
  for (const line of lines) {
    const eq = line.indexOf('=');
    if (eq < 0) continue;
    const key = line.slice(0, eq).trim();
    const value = line.slice(eq + 1).trim();
    if (key === 'out_time_us') us = micro(value);
    else if (key === 'out_time_ms') ms = micro(value);
    else if (key === 'out_time') hms = clock(value);
    else if (key === 'progress') {
      flush();
      if (value === 'end') ended = true;
    }
  }
  flush();
  return { pending, outTimeSeconds, ended };
}

function micro(v: string): number | undefined {
  if (!/^-?\d+$/.test(v)) return undefined;
  return Number(v) / 1e6;
}

function clock(v: string): number | undefined {
  const m = v.match(/^(-)?(\d+):(\d+):(\d+(?:\.\d+)?)$/);
  if (!m) return undefined;
  const s = Number(m[2]) * 3600 + Number(m[3]) * 60 + Number(m[4]);
  return m[1] ? -s : s;
}

/** The source of a run (the argument after the first `-i`), to tell its errors from ours. */
function inputOf(args: string[]): string | undefined {
  const i = args.indexOf('-i');
  return i >= 0 ? args[i + 1] : undefined;
}

export async function runFfmpeg(ffmpeg: string, args: string[], opts: RunOptions): Promise<void> {
  const { signal, timeoutMs, onProgress } = opts;
  if (signal?.aborted) throw abortError(signal);
  const interval = opts.progressIntervalMs ?? 2000;
  const duration = opts.durationSeconds > 0 ? opts.durationSeconds : 0;

  await new Promise<void>((resolve, reject) => {
    const child = spawn(ffmpeg, [...RUNNER_ARGS, ...args], {
      cwd: opts.cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const stderr = new Tail(4096);
    let state: ProgressState = { pending: '', ended: false };
    let lastReport = 0;
    let lastPercent = -1;
    let timedOut = false;
    let aborted = false;
    let settled = false;

    const kill = () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    };
    const timer =
      timeoutMs && timeoutMs > 0
        ? setTimeout(() => {
            timedOut = true;
            kill();
          }, timeoutMs)
        : undefined;
    const onAbort = () => {
      aborted = true;
      kill();
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    const done = (err?: Error) => {
      if (settled) return;
      settled = true;
      if (timer) clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      if (err) reject(err);
      else resolve();
    };

    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      state = parseProgressChunk(state, chunk);
      if (!onProgress || !duration || state.outTimeSeconds === undefined) return;
      const percent = Math.max(0, Math.min(99, Math.floor((state.outTimeSeconds / duration) * 100)));
      const now = Date.now();
      if (percent > lastPercent && now - lastReport >= interval) {
        lastReport = now;
        lastPercent = percent;
        safe(() => onProgress(percent));
      }
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => stderr.push(chunk));
    child.on('error', (e) => done(new Error(`ffmpeg could not be started (${e.message})`)));
    child.on('close', (code, sig) => {
      if (aborted) return done(abortError(signal));
      if (timedOut) {
        return done(
          new PermanentError(
            ErrCode.BadSource,
            `processing did not finish within ${Math.round((timeoutMs ?? 0) / 1000)} s`,
          ),
        );
      }
      if (code === 0) {
        if (onProgress) safe(() => onProgress(100));
        return done();
      }
      if (sig) {
        return done(
          new TransientError(`ffmpeg was stopped by ${sig}${sig === 'SIGKILL' ? ' (out of memory?)' : ''}`),
        );
      }
      done(toError(diagnose(stderr.toString(), { input: inputOf(args) })));
    });
  });
}

function safe(f: () => void): void {
  try {
    f();
  } catch {
    // A progress callback must not break the run.
  }
}

function abortError(signal: AbortSignal | undefined): Error {
  const reason: unknown = signal?.reason;
  if (reason instanceof Error) return reason;
  const e = new Error('ffmpeg was aborted');
  e.name = 'AbortError';
  return e;
}
