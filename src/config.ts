import { z } from 'zod';

/**
 * Configuration of the Lambda handlers and the worker, read from the environment ONCE and validated.
 * The core (src/domain, src/services) never reads process.env: handlers call `loadConfig()` and pass
 * what is needed to adapters by constructor.
 */
const schema = z.object({
  /** `aws` when deployed, `local` under `npm start` (relaxes URL-safety rules, see README). */
  OPENVOD_MODE: z.enum(['aws', 'local']).default('aws'),
  AWS_REGION: z.string().min(1).default('us-east-1'),
  APPS_TABLE: z.string().min(1),
  TASKS_TABLE: z.string().min(1),
  MEDIA_TABLE: z.string().min(1),
  EVENTS_TABLE: z.string().min(1),
  TEMPLATES_TABLE: z.string().min(1),
  MEDIA_BUCKET: z.string().min(1),
  INTAKE_QUEUE_URL: z.string().min(1),
  TASK_FLOW_STATE_MACHINE_ARN: z.string().min(1),
  /** KMS key that encrypts app SecretKeys at rest (AWS). */
  OPENVOD_KMS_KEY_ID: z.string().optional(),
  /** Local mode: base64 of a 32-byte key for AES-256-GCM encryption of SecretKeys at rest. */
  OPENVOD_LOCAL_MASTER_KEY: z.string().optional(),
  /** Largest accepted API request body, bytes. */
  OPENVOD_MAX_BODY_BYTES: z.coerce
    .number()
    .int()
    .positive()
    .default(1024 * 1024),
  /** Allowed clock skew of signed requests, seconds (Tencent: 300). */
  OPENVOD_MAX_CLOCK_SKEW_S: z.coerce.number().int().positive().default(300),
  /** Allow http(s) URLs resolving to loopback (local mode default: true; never on AWS by default). */
  OPENVOD_ALLOW_LOOPBACK_URLS: z.enum(['true', 'false']).optional(),
  /** Endpoint overrides: set by the local runtime, unset on AWS. */
  OPENVOD_DYNAMODB_ENDPOINT: z.string().url().optional(),
  OPENVOD_S3_ENDPOINT: z.string().url().optional(),
  OPENVOD_SQS_ENDPOINT: z.string().url().optional(),
  OPENVOD_SFN_ENDPOINT: z.string().url().optional(),
  /** Public base URL of the media bucket's objects (CDN or S3 website); default: the S3 endpoint. */
  OPENVOD_MEDIA_BASE_URL: z.string().url().optional(),
  /** Task flows of one app running at once; more wait (WAITING), highest TasksPriority first. */
  OPENVOD_MAX_CONCURRENT_FLOWS_PER_APP: z.coerce.number().int().min(1).max(1000).default(10),
  /** The reaper leaves a dispatched task alone for this long (s) before asking whether its execution died. */
  OPENVOD_REAPER_GRACE_S: z.coerce.number().min(0).default(600),
  /** Inputs longer than this (seconds) run on the Fargate worker instead of Lambda. */
  OPENVOD_FARGATE_MIN_DURATION_S: z.coerce.number().min(0).default(600),
  /** A source URL that sends nothing for this long fails (ms). */
  OPENVOD_FETCH_TIMEOUT_MS: z.coerce.number().int().min(100).default(30_000),
  /** One ffmpeg run may last at most this long (s). */
  OPENVOD_FFMPEG_TIMEOUT_S: z.coerce.number().int().min(1).default(3600),
  /** Progress of a subtask is written at most this often (ms). */
  OPENVOD_PROGRESS_INTERVAL_MS: z.coerce.number().int().min(0).default(2000),
  /** Notifications: the callback delivery queue and its dead-letter queue (needed by the pusher). */
  EVENT_DELIVERY_QUEUE_URL: z.string().min(1).optional(),
  EVENT_DLQ_URL: z.string().min(1).optional(),
  /** A callback must answer 2xx within this long (ms). */
  OPENVOD_CALLBACK_TIMEOUT_MS: z.coerce.number().int().min(100).default(5000),
  /** Callback retries: first delay (doubling), longest delay, and how long after the event attempts go on. */
  OPENVOD_CALLBACK_BACKOFF_BASE_MS: z.coerce.number().int().min(1).default(5000),
  OPENVOD_CALLBACK_BACKOFF_MAX_MS: z.coerce.number().int().min(1).default(3_600_000),
  OPENVOD_CALLBACK_RETRY_WINDOW_S: z.coerce.number().int().min(0).default(86_400),
  /** PullEvents: a pulled event not confirmed within this long is delivered again (s); long-poll wait (ms). */
  OPENVOD_PULL_VISIBILITY_S: z.coerce.number().min(0.1).default(30),
  OPENVOD_PULL_WAIT_MS: z.coerce.number().int().min(0).max(20_000).default(5000),
});

export type Config = Readonly<{
  mode: 'aws' | 'local';
  region: string;
  tables: { apps: string; tasks: string; media: string; events: string; templates: string };
  mediaBucket: string;
  intakeQueueUrl: string;
  taskFlowStateMachineArn: string;
  kmsKeyId?: string;
  localMasterKey?: string;
  maxBodyBytes: number;
  maxClockSkewSeconds: number;
  allowLoopbackUrls: boolean;
  endpoints: { dynamodb?: string; s3?: string; sqs?: string; sfn?: string };
  mediaBaseUrl: string;
  maxConcurrentFlowsPerApp: number;
  fargateMinDurationSeconds: number;
  reaperGraceSeconds: number;
  fetchTimeoutMs: number;
  ffmpegTimeoutMs: number;
  progressIntervalMs: number;
  notifications: {
    deliveryQueueUrl?: string;
    dlqUrl?: string;
    callbackTimeoutMs: number;
    backoffBaseMs: number;
    backoffMaxMs: number;
    retryWindowMs: number;
    pullVisibilityMs: number;
    pullWaitMs: number;
  };
}>;

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

export function parseConfig(env: Record<string, string | undefined>): Config {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new ConfigError(`OpenVOD configuration is invalid or incomplete: ${problems}`);
  }
  const e = parsed.data;
  if (!e.OPENVOD_KMS_KEY_ID && !e.OPENVOD_LOCAL_MASTER_KEY) {
    throw new ConfigError(
      'OpenVOD configuration is incomplete: set OPENVOD_KMS_KEY_ID (AWS) or OPENVOD_LOCAL_MASTER_KEY (local) to encrypt app secrets at rest',
    );
  }
  return Object.freeze({
    mode: e.OPENVOD_MODE,
    region: e.AWS_REGION,
    tables: {
      apps: e.APPS_TABLE,
      tasks: e.TASKS_TABLE,
      media: e.MEDIA_TABLE,
      events: e.EVENTS_TABLE,
      templates: e.TEMPLATES_TABLE,
    },
    mediaBucket: e.MEDIA_BUCKET,
    intakeQueueUrl: e.INTAKE_QUEUE_URL,
    taskFlowStateMachineArn: e.TASK_FLOW_STATE_MACHINE_ARN,
    kmsKeyId: e.OPENVOD_KMS_KEY_ID,
    localMasterKey: e.OPENVOD_LOCAL_MASTER_KEY,
    maxBodyBytes: e.OPENVOD_MAX_BODY_BYTES,
    maxClockSkewSeconds: e.OPENVOD_MAX_CLOCK_SKEW_S,
    allowLoopbackUrls: e.OPENVOD_ALLOW_LOOPBACK_URLS
      ? e.OPENVOD_ALLOW_LOOPBACK_URLS === 'true'
      : e.OPENVOD_MODE === 'local',
    endpoints: {
      dynamodb: e.OPENVOD_DYNAMODB_ENDPOINT,
      s3: e.OPENVOD_S3_ENDPOINT,
      sqs: e.OPENVOD_SQS_ENDPOINT,
      sfn: e.OPENVOD_SFN_ENDPOINT,
    },
    mediaBaseUrl:
      e.OPENVOD_MEDIA_BASE_URL ??
      (e.OPENVOD_S3_ENDPOINT
        ? `${e.OPENVOD_S3_ENDPOINT.replace(/\/$/, '')}/${e.MEDIA_BUCKET}`
        : `https://${e.MEDIA_BUCKET}.s3.${e.AWS_REGION}.amazonaws.com`),
    maxConcurrentFlowsPerApp: e.OPENVOD_MAX_CONCURRENT_FLOWS_PER_APP,
    fargateMinDurationSeconds: e.OPENVOD_FARGATE_MIN_DURATION_S,
    reaperGraceSeconds: e.OPENVOD_REAPER_GRACE_S,
    fetchTimeoutMs: e.OPENVOD_FETCH_TIMEOUT_MS,
    ffmpegTimeoutMs: e.OPENVOD_FFMPEG_TIMEOUT_S * 1000,
    progressIntervalMs: e.OPENVOD_PROGRESS_INTERVAL_MS,
    notifications: {
      deliveryQueueUrl: e.EVENT_DELIVERY_QUEUE_URL,
      dlqUrl: e.EVENT_DLQ_URL,
      callbackTimeoutMs: e.OPENVOD_CALLBACK_TIMEOUT_MS,
      backoffBaseMs: e.OPENVOD_CALLBACK_BACKOFF_BASE_MS,
      backoffMaxMs: e.OPENVOD_CALLBACK_BACKOFF_MAX_MS,
      retryWindowMs: e.OPENVOD_CALLBACK_RETRY_WINDOW_S * 1000,
      pullVisibilityMs: Math.round(e.OPENVOD_PULL_VISIBILITY_S * 1000),
      pullWaitMs: e.OPENVOD_PULL_WAIT_MS,
    },
  });
}

let cached: Config | undefined;
/** The process-wide configuration, read from process.env on first use. */
export function loadConfig(): Config {
  cached ??= parseConfig(process.env);
  return cached;
}
/** For the local runtime and tests, which set the environment after import. */
export function resetConfigForTests(): void {
  cached = undefined;
}
