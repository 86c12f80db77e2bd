/**
 * S3 bucket notifications → handlers, as S3 invokes Lambda (asynchronously, one record per event).
 *
 * A rule matches on bucket, event name (`s3:ObjectCreated:*`, `s3:ObjectCreated:Put`, ...) and
 * optional key prefix/suffix, compared with the URL-encoded key carried by the record (as S3 does:
 * filter values with special characters must be given URL-encoded). Each matching rule gets
 * `{ Records: [record] }` with its own `configurationId`; on error the call is retried twice
 * (1 s, then 2 s here; Lambda async waits 1 and 2 min) and then dropped with a logged error.
 * Records are normalized to AWS's shape (eventVersion '2.1', bucket ARN, awsRegion, key URL-encoded
 * with '+' for spaces) in case they do not come from local/emulators/s3.ts, which already emits them so.
 */
import type { S3Event, S3EventRecord } from 'aws-lambda';
import { encodeS3EventKey } from '../emulators/s3';

export interface S3NotificationRule {
  bucket: string;
  /** e.g. 's3:ObjectCreated:*' */
  events: string[];
  prefix?: string;
  suffix?: string;
  handler: (event: S3Event) => Promise<void>;
  /** Shown as s3.configurationId (default: `<bucket>-<index>`). */
  id?: string;
}

export type S3NotificationDispatcher = ((record: S3EventRecord) => void) & {
  /** Resolves when every invocation started so far (retries included) has ended. */
  drain(): Promise<void>;
};

export interface S3NotificationOptions {
  /** Delays before the retries (default [1000, 2000]: two retries). */
  retryDelaysMs?: number[];
}

/** A key that still has characters S3 would have encoded was not encoded yet. */
function normalizeKey(key: string): string {
  return /^[A-Za-z0-9._~*\-+/%]*$/.test(key) ? key : encodeS3EventKey(key);
}

export function normalizeS3EventRecord(record: S3EventRecord): S3EventRecord {
  const bucket = record.s3.bucket.name;
  return {
    ...record,
    eventVersion: '2.1',
    eventSource: 'aws:s3',
    awsRegion: record.awsRegion || 'us-east-1',
    eventTime: record.eventTime || new Date().toISOString(),
    eventName: record.eventName.replace(/^s3:/, ''),
    s3: {
      ...record.s3,
      s3SchemaVersion: '1.0',
      bucket: { ...record.s3.bucket, arn: `arn:aws:s3:::${bucket}` },
      object: {
        ...record.s3.object,
        key: normalizeKey(record.s3.object.key),
        size: Number(record.s3.object.size ?? 0),
      },
    },
  };
}

function eventMatches(patterns: string[], eventName: string): boolean {
  const name = `s3:${eventName.replace(/^s3:/, '')}`;
  return patterns.some((p) => {
    const pattern = p.startsWith('s3:') ? p : `s3:${p}`;
    return pattern.endsWith('*') ? name.startsWith(pattern.slice(0, -1)) : name === pattern;
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export function makeS3NotificationDispatcher(
  rules: S3NotificationRule[],
  log: (msg: string) => void = () => undefined,
  options: S3NotificationOptions = {},
): S3NotificationDispatcher {
  const retryDelays = options.retryDelaysMs ?? [1000, 2000];
  const inFlight = new Set<Promise<void>>();

  const invoke = async (rule: S3NotificationRule, record: S3EventRecord): Promise<void> => {
    const where = `s3://${record.s3.bucket.name}/${record.s3.object.key} (${record.eventName})`;
    for (let attempt = 0; ; attempt++) {
      try {
        await rule.handler({ Records: [record] });
        return;
      } catch (err) {
        const msg = err instanceof Error ? err.message : String(err);
        if (attempt >= retryDelays.length) {
          log(
            `s3 notification ${rule.id ?? rule.bucket}: giving up on ${where} after ${attempt + 1} attempts: ${msg}`,
          );
          return;
        }
        log(
          `s3 notification ${rule.id ?? rule.bucket}: ${where} failed (attempt ${attempt + 1}), retrying in ${retryDelays[attempt]} ms: ${msg}`,
        );
        await sleep(retryDelays[attempt]);
      }
    }
  };

  const dispatch = (input: S3EventRecord): void => {
    const record = normalizeS3EventRecord(input);
    const key = record.s3.object.key;
    rules.forEach((rule, index) => {
      if (rule.bucket !== record.s3.bucket.name) return;
      if (!eventMatches(rule.events, record.eventName)) return;
      if (rule.prefix && !key.startsWith(rule.prefix)) return;
      if (rule.suffix && !key.endsWith(rule.suffix)) return;
      const forRule: S3EventRecord = {
        ...record,
        s3: { ...record.s3, configurationId: rule.id ?? `${rule.bucket}-${index}` },
      };
      // Asynchronous like S3 → Lambda: the writer never waits for the handler.
      const p: Promise<void> = new Promise<void>((resolve) => setImmediate(resolve))
        .then(() => invoke(rule, forRule))
        .finally(() => inFlight.delete(p));
      inFlight.add(p);
    });
  };

  return Object.assign(dispatch, {
    async drain(): Promise<void> {
      while (inFlight.size) await Promise.all([...inFlight]);
    },
  });
}
