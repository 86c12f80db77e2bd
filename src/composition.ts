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
import { PresetCatalog } from './media/templates';
import { resolveFfmpeg } from './media/ffmpeg-path';
import type { ApiServices } from './api/actions';
import type { FlowDeps } from './services/flow';
import type { WorkerDeps } from './services/worker';

/** Wires adapters to services from the configuration: the only place that knows both. */
export function makeCipher(config: Config, clients: AwsClients): SecretCipher {
  if (config.kmsKeyId) return new KmsSecretCipher(clients.kms, config.kmsKeyId);
  if (config.localMasterKey) return new LocalSecretCipher(config.localMasterKey);
  throw new Error('no secret cipher configured');
}

export function makeAppsService(config: Config, clients = sharedClients(config)): AppsService {
  return new AppsService(new DynamoAppsRepository(clients.doc, config.tables.apps), makeCipher(config, clients));
}

const urlPolicy = (config: Config) => ({ allowLoopback: config.allowLoopbackUrls });

export function makeApiServices(config: Config, clients = sharedClients(config)): ApiServices {
  return {
    tasks: new DynamoTasksRepository(clients.doc, config.tables.tasks),
    taskStore: new DynamoTaskStore(clients.doc, config.tables.tasks),
    media: new DynamoMediaRepository(clients.doc, config.tables.media),
    catalog: new PresetCatalog(),
    intake: new SqsIntakeQueue(clients.sqs, config.intakeQueueUrl),
    urlPolicy: urlPolicy(config),
    bucket: config.mediaBucket,
    clock: Date.now,
  };
}

export function makeFlowDeps(config: Config, clients = sharedClients(config)): FlowDeps {
  return {
    tasks: new DynamoTaskStore(clients.doc, config.tables.tasks),
    media: new DynamoMediaRepository(clients.doc, config.tables.media),
    intake: new SqsIntakeQueue(clients.sqs, config.intakeQueueUrl),
    clock: Date.now,
    logger,
    fargateMinDurationSeconds: config.fargateMinDurationSeconds,
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
