/** parseConfig: validated once, clear messages naming what is missing, mode-dependent defaults. */
import { ConfigError, loadConfig, parseConfig, resetConfigForTests } from '../../src/config';

const BASE = {
  APPS_TABLE: 'apps',
  TASKS_TABLE: 'tasks',
  MEDIA_TABLE: 'media',
  EVENTS_TABLE: 'events',
  TEMPLATES_TABLE: 'templates',
  MEDIA_BUCKET: 'bucket',
  INTAKE_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/1/intake',
  TASK_FLOW_STATE_MACHINE_ARN: 'arn:aws:states:us-east-1:1:stateMachine:flow',
  OPENVOD_KMS_KEY_ID: 'key-id',
};

function configError(env: Record<string, string | undefined>): ConfigError {
  try {
    parseConfig(env);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return e as ConfigError;
  }
  throw new Error('parseConfig did not throw');
}

describe('parseConfig', () => {
  it('reads a complete AWS environment with defaults', () => {
    const c = parseConfig(BASE);
    expect(c).toMatchObject({
      mode: 'aws',
      region: 'us-east-1',
      tables: { apps: 'apps', tasks: 'tasks', media: 'media' },
      mediaBucket: 'bucket',
      intakeQueueUrl: BASE.INTAKE_QUEUE_URL,
      taskFlowStateMachineArn: BASE.TASK_FLOW_STATE_MACHINE_ARN,
      kmsKeyId: 'key-id',
      maxBodyBytes: 1024 * 1024,
      maxClockSkewSeconds: 300,
      allowLoopbackUrls: false,
      endpoints: { dynamodb: undefined, s3: undefined, sqs: undefined, sfn: undefined },
    });
    expect(Object.isFrozen(c)).toBe(true);
  });

  it('names every missing variable', () => {
    const { APPS_TABLE: _a, TASKS_TABLE: _t, INTAKE_QUEUE_URL: _q, ...rest } = BASE;
    const e = configError(rest);
    expect(e.message).toMatch(/APPS_TABLE/);
    expect(e.message).toMatch(/TASKS_TABLE/);
    expect(e.message).toMatch(/INTAKE_QUEUE_URL/);
    expect(e.message).not.toMatch(/MEDIA_TABLE/);
  });

  it('names both ways to encrypt secrets when neither is set', () => {
    const { OPENVOD_KMS_KEY_ID: _k, ...rest } = BASE;
    const e = configError(rest);
    expect(e.message).toMatch(/OPENVOD_KMS_KEY_ID/);
    expect(e.message).toMatch(/OPENVOD_LOCAL_MASTER_KEY/);
  });

  it('names a malformed value', () => {
    expect(configError({ ...BASE, OPENVOD_DYNAMODB_ENDPOINT: 'not a url' }).message).toMatch(
      /OPENVOD_DYNAMODB_ENDPOINT/,
    );
    expect(configError({ ...BASE, OPENVOD_MODE: 'cloud' }).message).toMatch(/OPENVOD_MODE/);
    expect(configError({ ...BASE, OPENVOD_MAX_BODY_BYTES: '-5' }).message).toMatch(/OPENVOD_MAX_BODY_BYTES/);
  });

  it('coerces numbers and reads endpoints', () => {
    const c = parseConfig({
      ...BASE,
      OPENVOD_MAX_BODY_BYTES: '2048',
      OPENVOD_MAX_CLOCK_SKEW_S: '60',
      OPENVOD_DYNAMODB_ENDPOINT: 'http://127.0.0.1:3001',
      OPENVOD_SFN_ENDPOINT: 'http://127.0.0.1:3004',
    });
    expect(c.maxBodyBytes).toBe(2048);
    expect(c.maxClockSkewSeconds).toBe(60);
    expect(c.endpoints).toMatchObject({ dynamodb: 'http://127.0.0.1:3001', sfn: 'http://127.0.0.1:3004' });
  });

  it('allowLoopbackUrls defaults to true in local mode and false on AWS; an explicit value wins', () => {
    const local = {
      ...BASE,
      OPENVOD_MODE: 'local',
      OPENVOD_KMS_KEY_ID: undefined,
      OPENVOD_LOCAL_MASTER_KEY: 'a2V5',
    };
    expect(parseConfig(local).allowLoopbackUrls).toBe(true);
    expect(parseConfig({ ...local, OPENVOD_ALLOW_LOOPBACK_URLS: 'false' }).allowLoopbackUrls).toBe(false);
    expect(parseConfig(BASE).allowLoopbackUrls).toBe(false);
    expect(parseConfig({ ...BASE, OPENVOD_MODE: 'aws' }).allowLoopbackUrls).toBe(false);
    expect(parseConfig({ ...BASE, OPENVOD_ALLOW_LOOPBACK_URLS: 'true' }).allowLoopbackUrls).toBe(true);
  });
});

describe('loadConfig', () => {
  const saved = { ...process.env };
  afterEach(() => {
    for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
    Object.assign(process.env, saved);
    resetConfigForTests();
  });

  it('reads process.env once and caches it until reset', () => {
    Object.assign(process.env, BASE, { TASKS_TABLE: 'first' });
    resetConfigForTests();
    const a = loadConfig();
    expect(a.tables.tasks).toBe('first');
    process.env.TASKS_TABLE = 'second';
    expect(loadConfig()).toBe(a);
    resetConfigForTests();
    expect(loadConfig().tables.tasks).toBe('second');
  });
});
