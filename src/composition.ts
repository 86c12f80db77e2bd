import type { Config } from './config';
import { logger } from './logger';
import { sharedClients, type AwsClients } from './adapters/clients';
import { DynamoAppsRepository } from './adapters/apps-repo';
import { KmsSecretCipher, LocalSecretCipher, type SecretCipher } from './adapters/secret-cipher';
import { DynamoTasksRepository } from './adapters/tasks-repo';
import { DynamoTaskStore } from './adapters/task-store';
import { DynamoMediaRepository } from './adapters/media-repo';
import { SqsIntakeQueue } from './adapters/intake-queue';
import { SfnFlowStarter } from './adapters/flow-starter';
import { S3Storage } from './adapters/s3-storage';
import { AppsService } from './services/apps';
import { DynamoTemplatesRepository } from './adapters/templates-repo';
import { AppTemplateCatalog } from './services/templates';
import type { ProcedureDeps } from './services/procedures';
import { resolveFfmpeg } from './media/ffmpeg-path';
import type { ApiServices } from './api/actions';
import type { FlowDeps } from './services/flow';
import type { WorkerDeps } from './services/worker';
import { DynamoEventStore } from './adapters/event-store';
import { DynamoEventConfigRepository } from './adapters/event-config-repo';
import { SqsDeliveryQueue } from './adapters/delivery-queue';
import { postCallback } from './adapters/http-callback';
import { procedureTask } from './services/task-view';
import type { NotifierDeps, PublishDeps } from './services/events';
import type { DeliveryDeps, SweepDeps } from './services/delivery';
import type { EventApiDeps } from './api/actions-events';
import { DynamoUploadStore } from './adapters/upload-store';
import { S3UploadObjects } from './adapters/upload-objects';
import type { RegistrationDeps } from './services/upload-registration';
import { finishPullUpload, pullUploadTaskView } from './services/upload-pull';
import { startProcedure } from './services/procedures';
import { publishEvent } from './services/events';
import type { UploadServices } from './api/actions-upload';
import { DynamoFileTasks, DynamoMediaLibraryRepository } from './adapters/media-library-repo';
import { S3MediaObjects } from './adapters/media-objects';
import type { MediaLibraryDeps } from './services/media-library';
import { openSignKey } from './services/event-config';

/** Wires adapters to services from the configuration: the only place that knows both. */
export function makeCipher(config: Config, clients: AwsClients): SecretCipher {
  if (config.kmsKeyId) return new KmsSecretCipher(clients.kms, config.kmsKeyId);
  if (config.localMasterKey) return new LocalSecretCipher(config.localMasterKey);
  throw new Error('no secret cipher configured');
}

export function makeAppsService(config: Config, clients = sharedClients(config)): AppsService {
  return new AppsService(
    new DynamoAppsRepository(clients.doc, config.tables.apps),
    makeCipher(config, clients),
  );
}

const urlPolicy = (config: Config) => ({ allowLoopback: config.allowLoopbackUrls });

export function makeApiServices(config: Config, clients = sharedClients(config)): ApiServices {
  const procedures = makeProcedureDeps(config, clients);
  return {
    ...procedures,
    tasks: new DynamoTasksRepository(clients.doc, config.tables.tasks),
    taskStore: procedures.tasks,
    events: makeEventApiDeps(config, clients),
    upload: makeUploadServices(config, clients),
    library: makeMediaLibraryDeps(config, clients),
  };
}

/** What starting a task-flow template by name needs (ProcessMediaByProcedure, uploads that name a procedure). */
export function makeProcedureDeps(config: Config, clients = sharedClients(config)): ProcedureDeps {
  const templates = new DynamoTemplatesRepository(clients.doc, config.tables.templates);
  return {
    tasks: new DynamoTaskStore(clients.doc, config.tables.tasks),
    media: new DynamoMediaRepository(clients.doc, config.tables.media),
    templates,
    // Presets first, then the app's own custom templates.
    catalog: new AppTemplateCatalog(templates),
    intake: new SqsIntakeQueue(clients.sqs, config.intakeQueueUrl),
    urlPolicy: urlPolicy(config),
    bucket: config.mediaBucket,
    clock: Date.now,
  };
}

export function makeFlowDeps(config: Config, clients = sharedClients(config)): FlowDeps {
  let pullUploadDeps: RegistrationDeps | undefined;
  return {
    tasks: new DynamoTaskStore(clients.doc, config.tables.tasks),
    media: new DynamoMediaRepository(clients.doc, config.tables.media),
    intake: new SqsIntakeQueue(clients.sqs, config.intakeQueueUrl),
    clock: Date.now,
    logger,
    fargateMinDurationSeconds: config.fargateMinDurationSeconds,
    library: makeMediaLibraryDeps(config, clients),
    // A PullUpload task starts its procedure once its media is ready (src/services/upload-pull.ts).
    beforeFinish: (task) => {
      pullUploadDeps ??= makeUploadRegistrationDeps(config, clients, { ffprobe: '' });
      return finishPullUpload(pullUploadDeps, task);
    },
  };
}

export function makeFlowStarter(config: Config, clients = sharedClients(config)): SfnFlowStarter {
  return new SfnFlowStarter(clients.sfn, config.taskFlowStateMachineArn);
}

export function makeWorkerDeps(config: Config, clients = sharedClients(config)): WorkerDeps {
  const bins = resolveFfmpeg(process.env);
  return {
    tasks: new DynamoTaskStore(clients.doc, config.tables.tasks),
    media: new DynamoMediaRepository(clients.doc, config.tables.media),
    storage: new S3Storage(clients.s3, config.mediaBucket, config.mediaBaseUrl),
    ffmpeg: bins.ffmpeg,
    ffprobe: bins.ffprobe,
    urlPolicy: urlPolicy(config),
    clock: Date.now,
    logger,
    progressIntervalMs: config.progressIntervalMs,
    fetchTimeoutMs: config.fetchTimeoutMs,
    ffmpegTimeoutMs: config.ffmpegTimeoutMs,
  };
}

/** Notifications: the notifier (tasks stream → events), the pusher (HTTP callbacks) and the event API actions. */
/** What any producer needs to call `publishEvent` (e.g. the upload trigger for NewFileUpload). */
export function makePublishDeps(config: Config, clients = sharedClients(config)): PublishDeps {
  return {
    events: new DynamoEventStore(clients.doc, config.tables.events),
    configs: new DynamoEventConfigRepository(clients.doc, config.tables.events),
    clock: Date.now,
  };
}

export function makeNotifierDeps(config: Config, clients = sharedClients(config)): NotifierDeps {
  const media = new DynamoMediaRepository(clients.doc, config.tables.media);
  return {
    events: new DynamoEventStore(clients.doc, config.tables.events),
    configs: new DynamoEventConfigRepository(clients.doc, config.tables.events),
    tasks: new DynamoTaskStore(clients.doc, config.tables.tasks),
    procedureTask: (task, subtasks) => procedureTask(task, subtasks, media),
    pullUploadTask: (task) => pullUploadTaskView(media, task),
    clock: Date.now,
    log: (msg, extra) => logger.info(msg, extra),
    logError: (msg, extra) => logger.error(msg, extra),
  };
}

/** The pusher reads (and decrypts) the SignKey per attempt: a change reaches it within `ttlMs`. */
function cachedSignKeys(
  repo: DynamoEventConfigRepository,
  cipher: SecretCipher,
  ttlMs: number,
): DeliveryDeps['signKeys'] {
  const cache = new Map<number, { at: number; value: Promise<string> }>();
  return {
    get(subAppId) {
      const hit = cache.get(subAppId);
      if (hit && Date.now() - hit.at < ttlMs) return hit.value;
      const value = repo.get(subAppId).then((c) => openSignKey(cipher, subAppId, c.signKey));
      value.catch(() => cache.delete(subAppId));
      cache.set(subAppId, { at: Date.now(), value });
      return value;
    },
  };
}

/** The pusher and its sweeper (functions/pusher.ts). */
export function makeDeliveryDeps(config: Config, clients = sharedClients(config)): DeliveryDeps & SweepDeps {
  const n = config.notifications;
  if (!n.deliveryQueueUrl || !n.dlqUrl) {
    throw new Error(
      'OpenVOD configuration is incomplete: EVENT_DELIVERY_QUEUE_URL and EVENT_DLQ_URL are needed to push events',
    );
  }
  const policy = urlPolicy(config);
  return {
    events: new DynamoEventStore(clients.doc, config.tables.events),
    signKeys: cachedSignKeys(
      new DynamoEventConfigRepository(clients.doc, config.tables.events),
      makeCipher(config, clients),
      1000,
    ),
    queue: new SqsDeliveryQueue(clients.sqs, n.deliveryQueueUrl, n.dlqUrl),
    post: (url, body, headers, timeoutMs) => postCallback(url, body, headers, timeoutMs, policy),
    clock: Date.now,
    policy: { baseMs: n.backoffBaseMs, maxMs: n.backoffMaxMs, windowMs: n.retryWindowMs },
    timeoutMs: n.callbackTimeoutMs,
    log: (msg, extra) => logger.info(msg, extra),
  };
}

export function makeEventApiDeps(config: Config, clients = sharedClients(config)): EventApiDeps {
  const events = new DynamoEventStore(clients.doc, config.tables.events);
  return {
    configs: new DynamoEventConfigRepository(clients.doc, config.tables.events),
    cipher: makeCipher(config, clients),
    urlPolicy: urlPolicy(config),
    clock: Date.now,
    pull: {
      events,
      clock: Date.now,
      visibilityMs: config.notifications.pullVisibilityMs,
      waitMs: config.notifications.pullWaitMs,
    },
  };
}

/** Uploads (src/services/upload-*.ts): registering uploaded objects, starting their task flows, NewFileUpload. */
export function makeUploadRegistrationDeps(
  config: Config,
  clients = sharedClients(config),
  opts: { ffprobe?: string } = {},
): RegistrationDeps {
  const procedures = makeProcedureDeps(config, clients);
  const publish = {
    events: new DynamoEventStore(clients.doc, config.tables.events),
    configs: new DynamoEventConfigRepository(clients.doc, config.tables.events),
    clock: Date.now,
  };
  return {
    media: new DynamoMediaRepository(clients.doc, config.tables.media),
    storage: new S3Storage(clients.s3, config.mediaBucket, config.mediaBaseUrl),
    ffprobe: opts.ffprobe ?? resolveFfmpeg(process.env).ffprobe,
    clock: Date.now,
    logger,
    uploads: new DynamoUploadStore(clients.doc, config.tables.tasks),
    objects: new S3UploadObjects(clients.s3, config.mediaBucket),
    startProcedure: (subAppId, req) => startProcedure(procedures, subAppId, req),
    publishNewFileUpload: async (e) => {
      await publishEvent(publish, {
        subAppId: e.subAppId,
        eventId: e.eventId,
        eventType: 'NewFileUpload',
        content: e.content,
      });
    },
  };
}

/** ApplyUpload/CommitUpload, the signed client upload, and PullUpload. */
export function makeUploadServices(config: Config, clients = sharedClients(config)): UploadServices {
  const storage = new S3Storage(clients.s3, config.mediaBucket, config.mediaBaseUrl);
  const media = new DynamoMediaRepository(clients.doc, config.tables.media);
  return {
    api: {
      uploads: new DynamoUploadStore(clients.doc, config.tables.tasks),
      objects: new S3UploadObjects(clients.s3, config.mediaBucket),
      media,
      storage,
      clock: Date.now,
      region: config.region,
    },
    pull: {
      tasks: new DynamoTaskStore(clients.doc, config.tables.tasks),
      media,
      intake: new SqsIntakeQueue(clients.sqs, config.intakeQueueUrl),
      urlPolicy: urlPolicy(config),
      bucket: config.mediaBucket,
      region: config.region,
      clock: Date.now,
      publicUrl: (key) => storage.publicUrl(key),
    },
  };
}

/** The media library (src/services/media-library.ts): outputs recorded on media, DescribeMediaInfos, DeleteMedia, SearchMedia. */
export function makeMediaLibraryDeps(config: Config, clients = sharedClients(config)): MediaLibraryDeps {
  const storage = new S3Storage(clients.s3, config.mediaBucket, config.mediaBaseUrl);
  return {
    media: new DynamoMediaRepository(clients.doc, config.tables.media),
    library: new DynamoMediaLibraryRepository(clients.doc, config.tables.media),
    objects: new S3MediaObjects(clients.s3, config.mediaBucket),
    fileTasks: new DynamoFileTasks(clients.doc, config.tables.tasks),
    publicUrl: (key) => storage.publicUrl(key),
    region: config.region,
    clock: Date.now,
    logger,
  };
}
