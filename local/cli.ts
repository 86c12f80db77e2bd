/**
 * Admin CLI: `npm run openvod -- <command>`.
 *   app create [--name NAME]     create an app (SubAppId) with a SecretId/SecretKey
 *   app list                     list apps
 *   app rotate-key --sub-app-id N   issue a new key for the app and revoke the old ones
 *   sign-upload --procedure NAME [--expire 3600] [--app SUBAPPID] [--one-time] [--session-context S]
 *               [--source-context S] [--class-id N]    print a client upload signature (Tencent's format)
 * Local mode (default): talks to the system `npm start` runs, found through <data dir>/credentials.json.
 * AWS: set OPENVOD_MODE=aws and the deployed stack's environment (APPS_TABLE, OPENVOD_KMS_KEY_ID, …).
 */
import './polyfills';
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';

function fail(msg: string): never {
  console.error(`openvod: ${msg}`);
  process.exit(2);
}

async function setupEnv(): Promise<void> {
  if (process.env.OPENVOD_MODE === 'aws') return;
  const dataDir = path.resolve(process.env.OPENVOD_DATA_DIR ?? '.openvod');
  const credsFile = path.join(dataDir, 'credentials.json');
  if (!existsSync(credsFile))
    fail(`no local system found (${credsFile} is missing): run \`npm start\` first.`);
  const creds = JSON.parse(readFileSync(credsFile, 'utf8')) as { DynamoDBEndpoint: string };
  const { loadServiceModel } = await import('./serverless-config');
  const model = loadServiceModel({
    root: path.resolve(__dirname, '..'),
    endpoints: { sqs: 'http://127.0.0.1' },
  });
  Object.assign(process.env, {
    ...model.environment,
    OPENVOD_MODE: 'local',
    OPENVOD_DYNAMODB_ENDPOINT: creds.DynamoDBEndpoint,
    OPENVOD_LOCAL_MASTER_KEY: readFileSync(path.join(dataDir, 'master.key'), 'utf8').trim(),
    AWS_REGION: 'us-east-1',
  });
  delete process.env.OPENVOD_KMS_KEY_ID;
}

async function main(): Promise<void> {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: {
      name: { type: 'string' },
      'sub-app-id': { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
      procedure: { type: 'string' },
      expire: { type: 'string' },
      app: { type: 'string' },
      'one-time': { type: 'boolean' },
      'session-context': { type: 'string' },
      'source-context': { type: 'string' },
      'class-id': { type: 'string' },
    },
  });
  if (positionals[0] === 'sign-upload') {
    await setupEnv();
    const { signUploadCommand } = await import('./cli-sign-upload');
    console.log(await signUploadCommand(values));
    return;
  }
  const [group, cmd] = positionals;
  if (values.help || !group) {
    console.log(
      'usage: npm run openvod -- app create [--name NAME] | app list | app rotate-key --sub-app-id N  [--json]\n' +
        '       npm run openvod -- sign-upload [--procedure NAME] [--expire SECONDS] [--app SUBAPPID] [--one-time]',
    );
    return;
  }
  if (group !== 'app') fail(`unknown command ${group}; try: app create | app list | app rotate-key`);
  await setupEnv();
  const { loadConfig } = await import('../src/config');
  const { makeAppsService } = await import('../src/composition');
  const apps = makeAppsService(loadConfig());
  const out = (v: object, text: string) => console.log(values.json ? JSON.stringify(v) : text);
  switch (cmd) {
    case 'create': {
      const a = await apps.createApp(values.name ?? 'app');
      out(
        { SubAppId: a.subAppId, Name: a.name, SecretId: a.secretId, SecretKey: a.secretKey },
        `SubAppId:  ${a.subAppId}\nName:      ${a.name}\nSecretId:  ${a.secretId}\nSecretKey: ${a.secretKey}`,
      );
      return;
    }
    case 'list': {
      const list = await apps.listApps();
      out(
        list.map((a) => ({ SubAppId: a.subAppId, Name: a.name, CreateTime: a.createdAt })),
        list.map((a) => `${a.subAppId}\t${a.name}\t${a.createdAt}`).join('\n') || '(no apps)',
      );
      return;
    }
    case 'rotate-key': {
      const id = Number(values['sub-app-id']);
      if (!Number.isInteger(id)) fail('app rotate-key needs --sub-app-id N');
      const c = await apps.rotateKey(id).catch((e: unknown) => fail((e as Error).message));
      out(
        { SubAppId: c.subAppId, SecretId: c.secretId, SecretKey: c.secretKey },
        `SubAppId:  ${c.subAppId}\nSecretId:  ${c.secretId}\nSecretKey: ${c.secretKey}\n(older keys of this app are revoked)`,
      );
      return;
    }
    default:
      fail(`unknown app command ${cmd ?? ''}; try: app create | app list | app rotate-key`);
  }
}

main().catch((e: unknown) => fail((e as Error).message));
