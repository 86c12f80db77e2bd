/**
 * Turns the stderr of a failed ffmpeg/ffprobe into the error the task flow understands:
 * - a problem with the source (not media, truncated, undecodable, HTTP 4xx, missing) → PermanentError 60000;
 * - a problem with the arguments or encoders (the template asks for something this ffmpeg cannot do) →
 *   PermanentError 40000;
 * - an I/O or network failure that may pass (connection reset, timed out, HTTP 5xx) → TransientError;
 * - anything else → PermanentError 70000 (internal).
 * Messages say what a person can do about it and name ffmpeg's own words in parentheses.
 */
import { ErrCode, PermanentError, TransientError } from '../domain/errors';

export type FailureKind = 'source' | 'parameter' | 'transient' | 'internal';

export interface Diagnosis {
  kind: FailureKind;
  message: string;
}

interface Rule {
  test: RegExp;
  kind: FailureKind;
  message: (m: RegExpMatchArray, ctx: { input?: string }) => string;
}

const RULES: Rule[] = [
  {
    test: /Server returned (4\d\d|404 Not Found|403 Forbidden|401 Unauthorized)[^\n]*|HTTP error (4\d\d)/i,
    kind: 'source',
    message: (m) => `the source URL answered HTTP ${httpCode(m[0]) ?? '4xx'}${httpHint(httpCode(m[0]))}`,
  },
  {
    test: /Server returned (5\d\d|5XX)[^\n]*|HTTP error (5\d\d)/i,
    kind: 'transient',
    message: (m) => `the source server failed (HTTP ${httpCode(m[0]) ?? '5xx'}); it may work on a retry`,
  },
  {
    test: /moov atom not found/i,
    kind: 'source',
    message: () => 'the source file is incomplete, truncated or not an MP4/MOV file (moov atom not found)',
  },
  {
    test: /Invalid data found when processing input/i,
    kind: 'source',
    message: () => 'the source file is not a valid media file (Invalid data found when processing input)',
  },
  {
    test: /could not find codec parameters/i,
    kind: 'source',
    message: () => 'the source file has streams that cannot be decoded (could not find codec parameters)',
  },
  {
    test: /(?:partial file|Stream ends prematurely|Truncating packet|Packet corrupt)/i,
    kind: 'source',
    message: (m) => `the source file is incomplete or corrupt (${m[0]})`,
  },
  {
    test: /(?:Could not find tag for codec|codec not currently supported in container|not supported in this container)[^\n]*/i,
    kind: 'source',
    message: (m) =>
      `the source's codecs cannot be put into this container without re-encoding (${m[0].trim()})`,
  },
  {
    test: /Output file #?\d* does not contain any stream|does not contain any stream/i,
    kind: 'source',
    message: () => 'the source has no stream this output can use',
  },
  {
    test: /Protocol not found|Unsupported protocol/i,
    kind: 'source',
    message: () => 'the source address uses a protocol that is not supported (give an http(s) URL)',
  },
  {
    test: /Connection reset|Connection refused|Connection timed out|timed out|Operation timed out|Broken pipe|Network is unreachable|Failed to resolve hostname|Name or service not known|Temporary failure in name resolution|Input\/output error|End of file while reading/i,
    kind: 'transient',
    message: (m) => `reading the source failed (${m[0]}); it may work on a retry`,
  },
  {
    test: /Unknown encoder '?([^'\n]+)'?|Encoder ([^\n]+) not found|Encoder not found/i,
    kind: 'parameter',
    message: (m) => `the template asks for an encoder this ffmpeg does not have (${m[0].trim()})`,
  },
  {
    test: /Error (?:re)?initializing (?:complex )?filters?[^\n]*|Error initializing filter[^\n]*|No such filter[^\n]*|Invalid argument|Option not found|Unrecognized option[^\n]*|Error while opening encoder[^\n]*|incorrect parameters such as bit_rate, rate, width or height|Invalid (?:frame size|pixel format|sample rate)[^\n]*/i,
    kind: 'parameter',
    message: (m) => `the template's settings cannot be applied to this source (${m[0].trim()})`,
  },
];

function httpCode(text: string): string | undefined {
  return text.match(/\b([45]\d\d)\b/)?.[1];
}

function httpHint(code: string | undefined): string {
  if (code === '403' || code === '401')
    return ' (access denied: check that the URL is public or still signed)';
  if (code === '404') return ' (not found: check the URL)';
  return '';
}

/** Reads the stderr of a failed run. `input` is the source path or URL (to tell a missing source from a missing output). */
export function diagnose(stderr: string, ctx: { input?: string } = {}): Diagnosis {
  const text = stderr ?? '';
  // A missing local source: "<input>: No such file or directory". A missing output directory is ours (internal).
  const missing = text.match(/^(.*): No such file or directory$/m);
  if (missing) {
    const subject = missing[1].trim();
    const isInput =
      ctx.input !== undefined &&
      (subject === ctx.input || subject.endsWith(ctx.input) || ctx.input.endsWith(subject));
    if (isInput || ctx.input === undefined) {
      return { kind: 'source', message: 'the source file does not exist (No such file or directory)' };
    }
  }
  const inputLine = ctx.input ? text.split(/\r?\n/).find((l) => l.startsWith(`${ctx.input}: `)) : undefined;
  for (const rule of RULES) {
    const m = text.match(rule.test);
    if (!m) continue;
    // "Invalid argument" and the like said about the input itself are about the source, not the template.
    if (rule.kind === 'parameter' && inputLine?.includes(m[0])) {
      return {
        kind: 'source',
        message: `the source could not be opened (${inputLine.slice((ctx.input ?? '').length + 2).trim()})`,
      };
    }
    return { kind: rule.kind, message: rule.message(m, ctx) };
  }
  if (missing) return { kind: 'internal', message: `an output could not be written (${missing[0].trim()})` };
  return { kind: 'internal', message: `processing failed (${lastLine(text) || 'no error output'})` };
}

/** The error to throw for a diagnosis. */
export function toError(d: Diagnosis): Error {
  switch (d.kind) {
    case 'source':
      return new PermanentError(ErrCode.BadSource, d.message);
    case 'parameter':
      return new PermanentError(ErrCode.BadParameter, d.message);
    case 'transient':
      return new TransientError(d.message);
    default:
      return new PermanentError(ErrCode.Internal, d.message);
  }
}

export function lastLine(text: string): string {
  const lines = text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l && !/^Conversion failed!?$/i.test(l) && !/^Exiting normally/i.test(l));
  return (lines[lines.length - 1] ?? '').slice(0, 300);
}

/** Keeps the last `max` characters of a growing text. */
export class Tail {
  private text = '';
  constructor(private readonly max = 4096) {}
  push(chunk: string): void {
    this.text += chunk;
    if (this.text.length > this.max * 2) this.text = this.text.slice(-this.max);
  }
  toString(): string {
    return this.text.slice(-this.max);
  }
}
