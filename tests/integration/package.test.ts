/**
 * `npm run package` (serverless package, offline) and the CloudFormation template it writes: every
 * resource, stream, event-source mapping, route, role and the state machine's substitutions.
 */
import { spawn } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';

jest.setTimeout(200_000);

const ROOT = path.resolve(__dirname, '../..');
const TEMPLATE = path.join(ROOT, '.serverless/cloudformation-template-update-stack.json');

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
interface Resource {
  Type: string;
  Properties: Record<string, Json> & Record<string, unknown>;
  DependsOn?: string | string[];
}
interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: Json;
  Condition?: Json;
}

let template: { Resources: Record<string, Resource>; Outputs?: Record<string, unknown> };
let R: Record<string, Resource>;
let packageMs = 0;
let packageOutput = '';

/**
 * Runs `npm run package` in its own process group. Fails fast when serverless reports an error but does
 * not exit (it keeps running after an esbuild failure), and never leaves a process behind.
 */
function runPackage(): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const child = spawn('npm', ['run', 'package'], {
      cwd: ROOT,
      env: { ...process.env, FORCE_COLOR: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    const killGroup = (): void => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
    };
    let settled = false;
    const finish = (err?: Error): void => {
      if (settled) return;
      settled = true;
      clearTimeout(overall);
      if (stuck) clearTimeout(stuck);
      killGroup();
      if (err) reject(err);
      else resolve();
    };
    const overall = setTimeout(
      () => finish(new Error(`npm run package did not finish in 180 s:\n${packageOutput.slice(-4000)}`)),
      180_000,
    );
    let stuck: NodeJS.Timeout | undefined;
    const onData = (d: Buffer): void => {
      packageOutput += d.toString();
      if (!stuck && /^Error:|\[ERROR\]/m.test(packageOutput)) {
        stuck = setTimeout(
          () =>
            finish(
              new Error(`npm run package reported an error and did not exit:\n${packageOutput.slice(-4000)}`),
            ),
          10_000,
        );
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code, signal) => {
      if (code === 0) finish();
      else
        finish(
          new Error(
            `npm run package failed (code ${code}, signal ${signal}):\n${packageOutput.slice(-4000)}`,
          ),
        );
    });
  });
}

beforeAll(async () => {
  const started = Date.now();
  await runPackage();
  packageMs = Date.now() - started;
  console.log(`npm run package took ${(packageMs / 1000).toFixed(1)} s`);
  // The template must be the one this run wrote.
  expect(statSync(TEMPLATE).mtimeMs).toBeGreaterThanOrEqual(started - 1000);
  template = JSON.parse(readFileSync(TEMPLATE, 'utf8')) as typeof template;
  R = template.Resources;
});

const ofType = (type: string) => Object.entries(R).filter(([, r]) => r.Type === type);
const getAtt = (v: unknown): [string, string] | undefined => {
  const a = (v as { 'Fn::GetAtt'?: [string, string] } | undefined)?.['Fn::GetAtt'];
  return Array.isArray(a) ? a : undefined;
};
const refOf = (v: unknown): string | undefined => (v as { Ref?: string } | undefined)?.Ref;
const statementsOf = (role: Resource): Statement[] =>
  (
    (role.Properties.Policies ?? []) as unknown as Array<{ PolicyDocument: { Statement: Statement[] } }>
  ).flatMap((p) => p.PolicyDocument.Statement);
const actionsOf = (role: Resource): string[] =>
  statementsOf(role).flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]));

describe('npm run package → CloudFormation template', () => {
  it('contains every expected resource type', () => {
    const types = new Set(Object.values(R).map((r) => r.Type));
    for (const t of [
      'AWS::DynamoDB::Table',
      'AWS::S3::Bucket',
      'AWS::SQS::Queue',
      'AWS::Lambda::Function',
      'AWS::Lambda::LayerVersion',
      'AWS::Lambda::EventSourceMapping',
      'AWS::Lambda::Permission',
      'AWS::ApiGatewayV2::Api',
      'AWS::ApiGatewayV2::Route',
      'AWS::ApiGatewayV2::Integration',
      'AWS::StepFunctions::StateMachine',
      'AWS::IAM::Role',
      'AWS::KMS::Key',
      'AWS::ECS::Cluster',
      'AWS::ECS::TaskDefinition',
    ]) {
      expect(types).toContain(t);
    }
    expect(ofType('AWS::DynamoDB::Table').map(([id]) => id)).toEqual(
      expect.arrayContaining(['AppsTable', 'TasksTable', 'MediaTable', 'EventsTable']),
    );
  });

  it('gives the tasks table Streams NEW_AND_OLD_IMAGES and TTL', () => {
    const p = R.TasksTable.Properties;
    expect(p.TableName).toBe('openvod-dev-tasks');
    expect(p.StreamSpecification).toEqual({ StreamViewType: 'NEW_AND_OLD_IMAGES' });
    expect(p.TimeToLiveSpecification).toEqual({ AttributeName: 'expiresAt', Enabled: true });
    expect(p.BillingMode).toBe('PAY_PER_REQUEST');
  });

  it('notifies the upload trigger of ObjectCreated under uploads/ on the media bucket', () => {
    const buckets = ofType('AWS::S3::Bucket').filter(([, b]) => b.Properties.NotificationConfiguration);
    expect(buckets).toHaveLength(1);
    const [, bucket] = buckets[0];
    expect(bucket.Properties.BucketName).toBe('openvod-dev-media');
    const nc = bucket.Properties.NotificationConfiguration as {
      LambdaConfigurations: Array<{
        Event: string;
        Function: Json;
        Filter?: { S3Key: { Rules: Array<{ Name: string; Value: string }> } };
      }>;
    };
    expect(nc.LambdaConfigurations).toHaveLength(1);
    const lc = nc.LambdaConfigurations[0];
    expect(lc.Event).toBe('s3:ObjectCreated:*');
    expect(getAtt(lc.Function)).toEqual(['UploadTriggerLambdaFunction', 'Arn']);
    expect(lc.Filter?.S3Key.Rules).toEqual([{ Name: 'prefix', Value: 'uploads/' }]);
    // S3 may invoke the function.
    const perms = ofType('AWS::Lambda::Permission').filter(
      ([, p]) => p.Properties.Principal === 's3.amazonaws.com',
    );
    expect(perms.map(([, p]) => getAtt(p.Properties.FunctionName)?.[0])).toContain(
      'UploadTriggerLambdaFunction',
    );
    // The media bucket is private.
    expect(bucket.Properties.PublicAccessBlockConfiguration).toMatchObject({
      BlockPublicAcls: true,
      RestrictPublicBuckets: true,
    });
  });

  it('gives every SQS queue that is not a DLQ a RedrivePolicy to a queue in the template', () => {
    const queues = ofType('AWS::SQS::Queue');
    const dlqIds = new Set(
      queues.flatMap(([, q]) => {
        const rp = q.Properties.RedrivePolicy as { deadLetterTargetArn?: Json } | undefined;
        const t = getAtt(rp?.deadLetterTargetArn);
        return t ? [t[0]] : [];
      }),
    );
    const work = queues.filter(([id]) => !dlqIds.has(id));
    expect(work.map(([id]) => id)).toContain('IntakeQueue');
    for (const [id, q] of work) {
      const rp = q.Properties.RedrivePolicy as
        { deadLetterTargetArn: Json; maxReceiveCount: number } | undefined;
      expect({ id, redrive: Boolean(rp) }).toEqual({ id, redrive: true });
      const target = getAtt(rp!.deadLetterTargetArn);
      expect(target?.[1]).toBe('Arn');
      expect(R[target![0]]?.Type).toBe('AWS::SQS::Queue');
      expect(rp!.maxReceiveCount).toBeGreaterThan(0);
    }
    for (const id of dlqIds) expect(R[id].Properties.RedrivePolicy).toBeUndefined();
  });

  it('maps the tasks stream to the notifier (StartingPosition, ReportBatchItemFailures)', () => {
    const esm = ofType('AWS::Lambda::EventSourceMapping').filter(
      ([, m]) =>
        getAtt(m.Properties.EventSourceArn)?.[1] === 'StreamArn' &&
        getAtt(m.Properties.EventSourceArn)?.[0] === 'TasksTable',
    );
    expect(esm).toHaveLength(1);
    const p = esm[0][1].Properties;
    expect(getAtt(p.EventSourceArn)).toEqual(['TasksTable', 'StreamArn']);
    expect(getAtt(p.FunctionName)).toEqual(['NotifierLambdaFunction', 'Arn']);
    expect(p.StartingPosition).toBe('TRIM_HORIZON');
    expect(p.FunctionResponseTypes).toEqual(['ReportBatchItemFailures']);
    expect(p.BatchSize).toBeGreaterThan(0);
    // Retried without limit (no on-failure destination): the notifier itself skips poison records.
    expect(p.MaximumRetryAttempts).toBe(-1);
  });

  it('maps the events stream to eventEnqueue and the delivery queue (with its DLQ) to the pusher', () => {
    const esm = ofType('AWS::Lambda::EventSourceMapping');
    const byFn = (fn: string) =>
      esm.find(([, m]) => getAtt(m.Properties.FunctionName)?.[0] === fn)?.[1].Properties;
    const enqueue = byFn('EventEnqueueLambdaFunction')!;
    expect(getAtt(enqueue.EventSourceArn)).toEqual(['EventsTable', 'StreamArn']);
    expect(enqueue.FunctionResponseTypes).toEqual(['ReportBatchItemFailures']);
    expect(enqueue.MaximumRetryAttempts).toBe(-1);
    const pusher = byFn('PusherLambdaFunction')!;
    expect(getAtt(pusher.EventSourceArn)).toEqual(['EventDeliveryQueue', 'Arn']);
    expect(pusher.FunctionResponseTypes).toEqual(['ReportBatchItemFailures']);
    expect(Number(R.EventDeliveryQueue.Properties.VisibilityTimeout)).toBeGreaterThanOrEqual(
      Number(R.PusherLambdaFunction.Properties.Timeout),
    );
    const redrive = R.EventDeliveryQueue.Properties.RedrivePolicy as { deadLetterTargetArn: Json };
    expect(getAtt(redrive.deadLetterTargetArn)).toEqual(['EventDeliveryDeadLetterQueue', 'Arn']);
    const events = R.EventsTable.Properties as {
      StreamSpecification: { StreamViewType: string };
      GlobalSecondaryIndexes: Array<{ IndexName: string }>;
    };
    expect(events.StreamSpecification.StreamViewType).toBe('NEW_IMAGE');
    expect(events.GlobalSecondaryIndexes.map((g) => g.IndexName)).toContain('byVisibleAt');
  });

  it('maps the intake queue to the intake function with ReportBatchItemFailures', () => {
    const esm = ofType('AWS::Lambda::EventSourceMapping').filter(
      ([, m]) =>
        R[getAtt(m.Properties.EventSourceArn)?.[0] ?? '']?.Type === 'AWS::SQS::Queue' &&
        getAtt(m.Properties.EventSourceArn)?.[0] === 'IntakeQueue',
    );
    expect(esm).toHaveLength(1);
    const p = esm[0][1].Properties;
    expect(getAtt(p.EventSourceArn)).toEqual(['IntakeQueue', 'Arn']);
    expect(getAtt(p.FunctionName)).toEqual(['IntakeLambdaFunction', 'Arn']);
    expect(p.FunctionResponseTypes).toEqual(['ReportBatchItemFailures']);
    expect(p.BatchSize).toBe(10);
    // AWS refuses a mapping whose queue visibility timeout is below the function timeout.
    expect(Number(R.IntakeQueue.Properties.VisibilityTimeout)).toBeGreaterThanOrEqual(
      Number(R.IntakeLambdaFunction.Properties.Timeout),
    );
  });

  it('routes POST / of the HTTP API to the api function (payload 2.0)', () => {
    const routes = ofType('AWS::ApiGatewayV2::Route');
    expect(routes.map(([, r]) => r.Properties.RouteKey).sort()).toEqual([
      'OPTIONS /upload/apply',
      'POST /',
      'POST /upload/apply',
    ]);
    const root = routes.find(([, r]) => r.Properties.RouteKey === 'POST /')!;
    const target = JSON.stringify(root[1].Properties.Target);
    const integrationId = /"Ref":"([^"]+)"/.exec(target)?.[1];
    expect(integrationId).toBeDefined();
    const integration = R[integrationId!];
    expect(integration.Type).toBe('AWS::ApiGatewayV2::Integration');
    expect(getAtt(integration.Properties.IntegrationUri)).toEqual(['ApiLambdaFunction', 'Arn']);
    expect(integration.Properties.PayloadFormatVersion).toBe('2.0');
  });

  it('loads the state machine with DefinitionSubstitutions covering every ${X} placeholder', () => {
    const machines = ofType('AWS::StepFunctions::StateMachine');
    expect(machines.map(([id]) => id)).toContain('TaskFlowStateMachine');
    for (const [id, sm] of machines) {
      const def = sm.Properties.DefinitionString;
      expect(typeof def).toBe('string');
      const parsed = JSON.parse(def as string) as { StartAt: string; States: Record<string, unknown> };
      expect(parsed.States[parsed.StartAt]).toBeDefined();
      const placeholders = new Set([...(def as string).matchAll(/\$\{([^}]*)\}/g)].map((m) => m[1]));
      expect(placeholders.size).toBeGreaterThan(0);
      const subs = (sm.Properties.DefinitionSubstitutions ?? {}) as Record<string, Json>;
      for (const p of placeholders)
        expect({ id, placeholder: p, covered: p in subs }).toEqual({ id, placeholder: p, covered: true });
      for (const [k, v] of Object.entries(subs)) {
        const target = getAtt(v)?.[0] ?? refOf(v);
        if (target) expect({ k, exists: target in R }).toEqual({ k, exists: true });
      }
    }
    const tf = R.TaskFlowStateMachine.Properties;
    expect(getAtt(tf.RoleArn)?.[0]).toBe('TaskFlowRole');
    // The state machine's role may invoke exactly the functions its definition names.
    const invoked = Object.values(tf.DefinitionSubstitutions as Record<string, Json>)
      .map((v) => getAtt(v))
      .filter((a): a is [string, string] => Boolean(a) && R[a![0]]?.Type === 'AWS::Lambda::Function')
      .map((a) => a[0]);
    const invokeStmt = statementsOf(R.TaskFlowRole).find((s) =>
      [s.Action].flat().includes('lambda:InvokeFunction'),
    );
    const allowed = [invokeStmt?.Resource].flat(2).map((r) => getAtt(r)?.[0]);
    for (const f of invoked) expect(allowed).toContain(f);
  });

  it('builds the ffmpeg layer and attaches it to the media functions', () => {
    const layers = ofType('AWS::Lambda::LayerVersion');
    expect(layers.length).toBeGreaterThanOrEqual(1);
    const [layerId, layer] = layers[0];
    expect(layer.Properties.CompatibleRuntimes).toEqual(['nodejs22.x']);
    for (const f of ['WorkerLambdaFunction', 'UploadTriggerLambdaFunction']) {
      expect((R[f].Properties.Layers as Json[]).map(refOf)).toContain(layerId);
    }
    expect(statSync(path.join(ROOT, '.serverless/ffmpeg.zip')).size).toBeGreaterThan(1024 * 1024);
  });

  it('runs every function on nodejs22.x with its own IAM role', () => {
    const fns = ofType('AWS::Lambda::Function');
    expect(fns.map(([id]) => id).sort()).toEqual(
      [
        'Api',
        'ClientUpload',
        'EventEnqueue',
        'EventSweep',
        'Flow',
        'Intake',
        'Notifier',
        'Pusher',
        'UploadTrigger',
        'Worker',
      ].map((n) => `${n}LambdaFunction`),
    );
    const roles = new Set<string>();
    for (const [id, f] of fns) {
      expect({ id, runtime: f.Properties.Runtime }).toEqual({ id, runtime: 'nodejs22.x' });
      const role = getAtt(f.Properties.Role);
      expect(role?.[1]).toBe('Arn');
      expect(R[role![0]].Type).toBe('AWS::IAM::Role');
      expect(role![0]).not.toBe('IamRoleLambdaExecution');
      expect(role![0].startsWith(id.replace(/LambdaFunction$/, ''))).toBe(true);
      roles.add(role![0]);
    }
    expect(roles.size).toBe(fns.length);
  });

  it('keeps the roles least-privilege', () => {
    const role = (fn: string) => R[getAtt(R[fn].Properties.Role)![0]];
    const api = actionsOf(role('ApiLambdaFunction'));
    // The api presigns uploads (ApplyUpload): it may write under uploads/ only.
    for (const st of statementsOf(role('ApiLambdaFunction')).filter((x) =>
      JSON.stringify(x.Action).includes('s3:PutObject'),
    )) {
      expect(JSON.stringify(st.Resource)).toMatch(/\/uploads\/\*"$/);
    }
    expect(api).toContain('kms:Decrypt');
    // kms:Encrypt only to seal callback SignKeys (ModifyEventConfig), never an app SecretKey; the pusher
    // decrypts SignKeys only; nothing else encrypts.
    const kmsStatements = (fn: string, action: string) =>
      statementsOf(role(fn)).filter((x) =>
        (Array.isArray(x.Action) ? x.Action : [x.Action]).includes(action),
      );
    const signKeyOnly = { StringEquals: { 'kms:EncryptionContext:purpose': 'SignKey' } };
    expect(kmsStatements('ApiLambdaFunction', 'kms:Encrypt').map((x) => x.Condition)).toEqual([signKeyOnly]);
    expect(kmsStatements('PusherLambdaFunction', 'kms:Decrypt').map((x) => x.Condition)).toEqual([
      signKeyOnly,
    ]);
    for (const [id] of ofType('AWS::Lambda::Function'))
      if (id !== 'ApiLambdaFunction')
        expect({ id, encrypt: kmsStatements(id, 'kms:Encrypt') }).toEqual({ id, encrypt: [] });
    for (const [id] of ofType('AWS::Lambda::Function')) {
      const actions = actionsOf(role(id));
      expect({ id, wildcard: actions.filter((a) => a === '*' || /:\*$/.test(a)) }).toEqual({
        id,
        wildcard: [],
      });
    }
    // The event-source mappings need their pollers' permissions on the function's own role.
    expect(actionsOf(role('NotifierLambdaFunction'))).toEqual(
      expect.arrayContaining(['dynamodb:GetRecords', 'dynamodb:GetShardIterator', 'dynamodb:DescribeStream']),
    );
    expect(actionsOf(role('IntakeLambdaFunction'))).toEqual(
      expect.arrayContaining(['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes']),
    );
    expect(actionsOf(role('UploadTriggerLambdaFunction'))).not.toContain('s3:PutObject');
    expect(actionsOf(role('NotifierLambdaFunction'))).not.toEqual(expect.arrayContaining(['s3:GetObject']));
  });

  it('passes the resource names to every function through the environment', () => {
    for (const [id, f] of ofType('AWS::Lambda::Function')) {
      const vars = (f.Properties.Environment as { Variables: Record<string, Json> }).Variables;
      expect({ id, tasks: refOf(vars.TASKS_TABLE) }).toEqual({ id, tasks: 'TasksTable' });
      expect(refOf(vars.APPS_TABLE)).toBe('AppsTable');
      expect(refOf(vars.INTAKE_QUEUE_URL)).toBe('IntakeQueue');
      expect(refOf(vars.TASK_FLOW_STATE_MACHINE_ARN)).toBe('TaskFlowStateMachine');
      expect(refOf(vars.OPENVOD_KMS_KEY_ID)).toBe('SecretsKey');
      expect(vars.OPENVOD_MODE).toBe('aws');
    }
  });
});
