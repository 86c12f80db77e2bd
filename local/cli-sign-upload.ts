/**
 * `npm run openvod -- sign-upload`: prints a client upload signature (Tencent's format) for an app, signed with
 * the app's active key. Locally the app defaults to the one in <data dir>/credentials.json.
 */
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { loadConfig } from '../src/config';
import { makeAppsService } from '../src/composition';
import { sharedClients } from '../src/adapters/clients';
import { DynamoAppsRepository } from '../src/adapters/apps-repo';
import { newUploadSignature } from '../src/services/upload-signature';

export interface SignUploadOptions {
  procedure?: string;
  expire?: string;
  app?: string;
  'one-time'?: boolean;
  'session-context'?: string;
  'source-context'?: string;
  'class-id'?: string;
}

function defaultApp(): number | undefined {
  const file = path.join(path.resolve(process.env.OPENVOD_DATA_DIR ?? '.openvod'), 'credentials.json');
  if (!existsSync(file)) return undefined;
  return Number((JSON.parse(readFileSync(file, 'utf8')) as { SubAppId?: number }).SubAppId) || undefined;
}

export async function signUploadCommand(o: SignUploadOptions): Promise<string> {
  const subAppId = o.app !== undefined ? Number(o.app) : defaultApp();
  if (!subAppId || !Number.isInteger(subAppId)) throw new Error('sign-upload needs --app SUBAPPID');
  const expire = o.expire !== undefined ? Number(o.expire) : 3600;
  if (!Number.isInteger(expire) || expire <= 0) throw new Error('--expire is a number of seconds, e.g. 3600');
  const classId = o['class-id'] !== undefined ? Number(o['class-id']) : undefined;
  const config = loadConfig();
  const clients = sharedClients(config);
  const repo = new DynamoAppsRepository(clients.doc, config.tables.apps);
  const active = (await repo.listKeys(subAppId)).filter((k) => k.status === 'active');
  if (active.length === 0)
    throw new Error(`app ${subAppId} has no active key (see: app create / app rotate-key)`);
  const key = await makeAppsService(config, clients).resolve(active[0].secretId);
  if (!key) throw new Error(`the key of app ${subAppId} could not be read`);
  return newUploadSignature(active[0].secretId, key.secretKey, {
    expireSeconds: expire,
    procedure: o.procedure,
    oneTimeValid: o['one-time'] ? 1 : undefined,
    sessionContext: o['session-context'],
    sourceContext: o['source-context'],
    classId,
    vodSubAppId: subAppId,
  });
}
