import type { Config } from './config';
import { sharedClients, type AwsClients } from './adapters/clients';
import { DynamoAppsRepository } from './adapters/apps-repo';
import { KmsSecretCipher, LocalSecretCipher, type SecretCipher } from './adapters/secret-cipher';
import { DynamoTasksRepository } from './adapters/tasks-repo';
import { AppsService } from './services/apps';
import type { ApiServices } from './api/actions';

/** Wires adapters to services from the configuration: the only place that knows both. */
export function makeCipher(config: Config, clients: AwsClients): SecretCipher {
  if (config.kmsKeyId) return new KmsSecretCipher(clients.kms, config.kmsKeyId);
  if (config.localMasterKey) return new LocalSecretCipher(config.localMasterKey);
  throw new Error('no secret cipher configured');
}

export function makeAppsService(config: Config, clients = sharedClients(config)): AppsService {
  return new AppsService(new DynamoAppsRepository(clients.doc, config.tables.apps), makeCipher(config, clients));
}

export function makeApiServices(config: Config, clients = sharedClients(config)): ApiServices {
  return { tasks: new DynamoTasksRepository(clients.doc, config.tables.tasks) };
}
