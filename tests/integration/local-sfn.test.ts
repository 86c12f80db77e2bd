import '../../local/polyfills';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  DescribeExecutionCommand,
  type DescribeExecutionCommandOutput,
  GetExecutionHistoryCommand,
  ListExecutionsCommand,
  SFNClient,
  StartExecutionCommand,
  StopExecutionCommand,
} from '@aws-sdk/client-sfn';
import {
  defaultRunContainerTask,
  type EcsRunTaskParams,
  LocalStepFunctions,
  substituteDefinition,
} from '../../local/sfn/service';

const FN = 'arn:aws:lambda:us-east-1:000000000000:function';

/** Test ASL (inline on purpose: not a production state machine). */
const FLOW = {
  Comment: 'local-sfn integration test flow',
  StartAt: 'Echo',
  States: {
    Echo: { Type: 'Task', Resource: '${EchoArn}', Next: 'Flaky' },
    Flaky: {
      Type: 'Task',
      Resource: 'arn:aws:states:::lambda:invoke',
      Parameters: { FunctionName: `${FN}:flaky`, 'Payload.$': '$' },
      ResultSelector: { 'attempt.$': '$.Payload.attempt', 'status.$': '$.StatusCode' },
      ResultPath: '$.flaky',
      Retry: [
        {
          ErrorEquals: ['TransientError'],
          IntervalSeconds: 1,
          MaxAttempts: 3,
          BackoffRate: 2,
          MaxDelaySeconds: 5,
        },
      ],
      Next: 'Fanout',
    },
    Fanout: {
      Type: 'Map',
      ItemsPath: '$.items',
      MaxConcurrency: 2,
      ItemSelector: { 'item.$': '$$.Map.Item.Value', 'index.$': '$$.Map.Item.Index', 'run.$': '$.run' },
      ItemProcessor: {
        ProcessorConfig: { Mode: 'INLINE' },
        StartAt: 'Engine',
        States: {
          Engine: {
            Type: 'Choice',
            Choices: [{ Variable: '$.item.engine', StringEquals: 'fargate', Next: 'Container' }],
            Default: 'Work',
          },
          Work: {
            Type: 'Task',
            Resource: `${FN}:work`,
            Catch: [{ ErrorEquals: ['PermanentError'], ResultPath: '$.error', Next: 'Failed' }],
            End: true,
          },
          Container: {
            Type: 'Task',
            Resource: 'arn:aws:states:::ecs:runTask.sync',
            Parameters: {
              Cluster: 'arn:aws:ecs:us-east-1:000000000000:cluster/openvod',
              TaskDefinition: 'openvod-worker',
              LaunchType: 'FARGATE',
              Overrides: {
                ContainerOverrides: [
                  { Name: 'worker', Environment: [{ Name: 'ITEM_ID', 'Value.$': '$.item.id' }] },
                ],
              },
            },
            ResultSelector: { 'exitCode.$': '$.Containers[0].ExitCode', 'stopCode.$': '$.StopCode' },
            ResultPath: '$.container',
            Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'Failed' }],
            End: true,
          },
          Failed: { Type: 'Pass', End: true },
        },
      },
      ResultPath: '$.results',
      Next: 'Done',
    },
    Done: { Type: 'Succeed' },
  },
};

const SLOW = {
  StartAt: 'Slow',
  States: { Slow: { Type: 'Task', Resource: `${FN}:slow`, End: true } },
};

class TransientError extends Error {
  override name = 'TransientError';
}
class PermanentError extends Error {
  override name = 'PermanentError';
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(t);
        reject(new Error('aborted'));
      },
      { once: true },
    );
  });
}

describe('local Step Functions service (via @aws-sdk/client-sfn)', () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'openvod-sfn-'));
  const outDir = path.join(dataDir, 'container-out');
  fs.mkdirSync(outDir);

  const calls: Record<string, number> = {};
  let inFlight = 0;
  let maxInFlight = 0;
  let slowMs = 10_000;
  const slowSignals: AbortSignal[] = [];
  const containerParams: EcsRunTaskParams[] = [];

  const invokeLambda = async (arn: string, payload: unknown, signal?: AbortSignal): Promise<unknown> => {
    const fn = arn.split(':').pop() as string;
    calls[fn] = (calls[fn] ?? 0) + 1;
    const input = payload as Record<string, unknown>;
    switch (fn) {
      case 'echo':
        return { ...input, echoed: true };
      case 'flaky':
        if (calls.flaky === 1) throw new TransientError('database busy');
        return { attempt: calls.flaky };
      case 'work':
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        try {
          await sleep(150);
        } finally {
          inFlight--;
        }
        if ((input.item as { id: string }).id === 'l-perm')
          throw new PermanentError('source file is corrupt');
        return { ...input, worked: true };
      case 'slow':
        if (signal) slowSignals.push(signal);
        await sleep(slowMs, signal);
        return { slow: 'done', ms: slowMs };
      default:
        throw new Error(`no such function ${arn}`);
    }
  };

  const script = [
    "const fs = require('fs'), path = require('path');",
    'const id = process.env.ITEM_ID;',
    "fs.writeFileSync(path.join(process.env.OUT_DIR, id + '.txt'), id);",
    "if (id === 'c-bad') { process.stderr.write('boom: cannot decode ' + id); process.exit(3); }",
    'setTimeout(() => process.exit(0), 100);',
  ].join('\n');
  const spawnContainer = defaultRunContainerTask({
    command: [process.execPath, '-e', script],
    cwd: dataDir,
    env: { OUT_DIR: outDir },
    output: 'ignore',
  });
  const runContainerTask = async (params: EcsRunTaskParams, signal?: AbortSignal) => {
    containerParams.push(params);
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    try {
      return await spawnContainer(params, signal);
    } finally {
      inFlight--;
    }
  };

  const makeService = (): LocalStepFunctions => {
    const svc = new LocalStepFunctions({ dataDir, invokeLambda, runContainerTask });
    svc.registerStateMachine('flow', substituteDefinition(FLOW, { EchoArn: `${FN}:echo` }));
    svc.registerStateMachine('slow', SLOW);
    return svc;
  };

  let svc: LocalStepFunctions;
  let sfn: SFNClient;
  const flowArn = 'arn:aws:states:us-east-1:000000000000:stateMachine:flow';
  const slowArn = 'arn:aws:states:us-east-1:000000000000:stateMachine:slow';

  const connect = async (): Promise<void> => {
    const endpoint = await svc.listen(await freePort());
    sfn?.destroy();
    sfn = new SFNClient({
      endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
    });
  };

  const waitDone = async (
    executionArn: string,
    timeoutMs = 20_000,
  ): Promise<DescribeExecutionCommandOutput> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const d = await sfn.send(new DescribeExecutionCommand({ executionArn }));
      if (d.status !== 'RUNNING') return d;
      if (Date.now() > deadline) throw new Error(`${executionArn} still RUNNING`);
      await sleep(100);
    }
  };

  beforeAll(async () => {
    svc = makeService();
    await connect();
  });

  afterAll(async () => {
    slowMs = 0;
    await svc?.close();
    sfn?.destroy();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  let flowExecutionArn = '';
  let flowOutput: unknown;

  it('runs the ASL: Lambda task, Retry on TransientError, Map(MaxConcurrency 2) with Choice, Fargate tasks and Catch', async () => {
    const input = {
      run: 'r1',
      items: [
        { id: 'l-1', engine: 'lambda' },
        { id: 'c-ok', engine: 'fargate' },
        { id: 'l-2', engine: 'lambda' },
        { id: 'c-bad', engine: 'fargate' },
        { id: 'l-3', engine: 'lambda' },
        { id: 'l-perm', engine: 'lambda' },
      ],
    };
    const started = await sfn.send(
      new StartExecutionCommand({
        stateMachineArn: flowArn,
        name: 'task-0001',
        input: JSON.stringify(input),
      }),
    );
    expect(started.executionArn).toBe('arn:aws:states:us-east-1:000000000000:execution:flow:task-0001');
    expect(started.startDate).toBeInstanceOf(Date);

    const d = await waitDone(started.executionArn as string);
    expect({ status: d.status, error: d.error, cause: d.cause }).toEqual({
      status: 'SUCCEEDED',
      error: undefined,
      cause: undefined,
    });
    expect(d.name).toBe('task-0001');
    expect(d.stateMachineArn).toBe(flowArn);
    expect(JSON.parse(d.input as string)).toEqual(input);
    expect(d.stopDate!.getTime()).toBeGreaterThanOrEqual(d.startDate!.getTime());

    const out = JSON.parse(d.output as string);
    flowExecutionArn = started.executionArn as string;
    flowOutput = out;
    expect(out.echoed).toBe(true);
    // TransientError was retried: the handler ran twice, the second attempt's result wrapped as lambda:invoke does.
    expect(calls.flaky).toBe(2);
    expect(out.flaky).toEqual({ attempt: 2, status: 200 });
    expect(calls.echo).toBe(1);
    expect(calls.work).toBe(4);
    expect(maxInFlight).toBe(2);

    expect(out.results).toHaveLength(6);
    expect(out.results[0]).toEqual({
      item: { id: 'l-1', engine: 'lambda' },
      index: 0,
      run: 'r1',
      worked: true,
    });
    expect(out.results[1]).toEqual({
      item: { id: 'c-ok', engine: 'fargate' },
      index: 1,
      run: 'r1',
      container: { exitCode: 0, stopCode: 'EssentialContainerExited' },
    });
    const failed = out.results[3];
    expect(failed.item.id).toBe('c-bad');
    expect(failed.container).toBeUndefined();
    expect(failed.error.Error).toBe('States.TaskFailed');
    const task = JSON.parse(failed.error.Cause);
    expect(task.Containers[0]).toMatchObject({ ExitCode: 3, Name: 'worker', LastStatus: 'STOPPED' });
    expect(task.Containers[0].Reason).toContain('boom: cannot decode c-bad');
    expect(task.LastStatus).toBe('STOPPED');
    expect(task.TaskArn).toMatch(/^arn:aws:ecs:us-east-1:000000000000:task\/openvod\/[0-9a-f]{32}$/);

    // A Lambda function error is reported as AWS does: Error = the error's name, Cause = the Lambda error JSON.
    const perm = out.results[5];
    expect(perm.worked).toBeUndefined();
    expect(perm.error.Error).toBe('PermanentError');
    const lambdaCause = JSON.parse(perm.error.Cause);
    expect(lambdaCause).toMatchObject({
      errorType: 'PermanentError',
      errorMessage: 'source file is corrupt',
    });
    expect(Array.isArray(lambdaCause.trace)).toBe(true);

    // The containers got the override environment.
    expect(fs.readFileSync(path.join(outDir, 'c-ok.txt'), 'utf8')).toBe('c-ok');
    expect(fs.readFileSync(path.join(outDir, 'c-bad.txt'), 'utf8')).toBe('c-bad');
    expect(containerParams[0]).toMatchObject({
      Cluster: 'arn:aws:ecs:us-east-1:000000000000:cluster/openvod',
      TaskDefinition: 'openvod-worker',
      LaunchType: 'FARGATE',
    });

    const history = await sfn.send(new GetExecutionHistoryCommand({ executionArn: flowExecutionArn }));
    const types = (history.events ?? []).map((e) => e.type);
    expect(types[0]).toBe('ExecutionStarted');
    expect(types).toContain('TaskFailed');
    expect(types).toContain('MapIterationSucceeded');
    expect(types[types.length - 1]).toBe('ExecutionSucceeded');
  }, 30_000);

  it('refuses to start the same execution name twice', async () => {
    const err = await sfn
      .send(new StartExecutionCommand({ stateMachineArn: flowArn, name: 'task-0001', input: '{"items":[]}' }))
      .catch((e: Error) => e);
    expect((err as Error).name).toBe('ExecutionAlreadyExists');
    expect(calls.echo).toBe(1);
  });

  it('maps API errors to the SDK exception classes', async () => {
    const errName = (p: Promise<unknown>): Promise<string> =>
      p.then(
        () => 'no error',
        (e: Error) => e.name,
      );
    expect(
      await errName(sfn.send(new StartExecutionCommand({ stateMachineArn: `${flowArn}-nope`, name: 'x' }))),
    ).toBe('StateMachineDoesNotExist');
    expect(
      await errName(sfn.send(new StartExecutionCommand({ stateMachineArn: flowArn, name: 'bad name' }))),
    ).toBe('InvalidName');
    expect(
      await errName(
        sfn.send(new StartExecutionCommand({ stateMachineArn: flowArn, name: 'x1', input: '{not json' })),
      ),
    ).toBe('InvalidExecutionInput');
    expect(
      await errName(
        sfn.send(
          new DescribeExecutionCommand({
            executionArn: 'arn:aws:states:us-east-1:000000000000:execution:flow:nope',
          }),
        ),
      ),
    ).toBe('ExecutionDoesNotExist');
  });

  it('stops a running execution (ABORTED) and signals the running handler', async () => {
    const { executionArn } = await sfn.send(
      new StartExecutionCommand({ stateMachineArn: slowArn, name: 'slow-stop' }),
    );
    await sleep(300);
    expect((await sfn.send(new DescribeExecutionCommand({ executionArn }))).status).toBe('RUNNING');
    const t0 = Date.now();
    const stop = await sfn.send(
      new StopExecutionCommand({ executionArn, error: 'Cancelled', cause: 'by test' }),
    );
    expect(stop.stopDate).toBeInstanceOf(Date);
    const d = await waitDone(executionArn as string, 2000);
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(d).toMatchObject({ status: 'ABORTED', error: 'Cancelled', cause: 'by test' });
    expect(d.output).toBeUndefined();
    expect(slowSignals.at(-1)?.aborted).toBe(true);

    const list = await sfn.send(
      new ListExecutionsCommand({ stateMachineArn: slowArn, statusFilter: 'ABORTED' }),
    );
    expect(list.executions?.map((e) => e.name)).toEqual(['slow-stop']);
  });

  it('persists executions across a restart and resumes those left RUNNING', async () => {
    const { executionArn } = await sfn.send(
      new StartExecutionCommand({ stateMachineArn: slowArn, name: 'slow-resume', input: '{"n":1}' }),
    );
    await sleep(300);
    await svc.close();
    expect(slowSignals.at(-1)?.aborted).toBe(true);
    const stored = fs
      .readdirSync(path.join(dataDir, 'sfn', 'executions'))
      .map((f) => JSON.parse(fs.readFileSync(path.join(dataDir, 'sfn', 'executions', f), 'utf8')));
    expect(stored.find((r) => r.executionArn === executionArn)?.status).toBe('RUNNING');

    slowMs = 50;
    const slowCallsBefore = calls.slow;
    svc = makeService();
    await connect();
    const finished = await sfn.send(new DescribeExecutionCommand({ executionArn: flowExecutionArn }));
    expect(finished.status).toBe('SUCCEEDED');
    expect(JSON.parse(finished.output as string)).toEqual(flowOutput);
    expect((await sfn.send(new DescribeExecutionCommand({ executionArn }))).status).toBe('RUNNING');

    await svc.resumeRunning();
    const resumed = await svc.waitForExecution(executionArn as string, 5000);
    expect(resumed.status).toBe('SUCCEEDED');
    expect(calls.slow).toBe(slowCallsBefore + 1);
    const d = await sfn.send(new DescribeExecutionCommand({ executionArn }));
    expect(d.status).toBe('SUCCEEDED');
    expect(JSON.parse(d.output as string)).toEqual({ slow: 'done', ms: 50 });
    // The name stays taken after the restart.
    const again = await sfn
      .send(new StartExecutionCommand({ stateMachineArn: flowArn, name: 'task-0001' }))
      .catch((e: Error) => e);
    expect((again as Error).name).toBe('ExecutionAlreadyExists');
  });

  it('defaultRunContainerTask kills the child when the signal fires', async () => {
    const run = defaultRunContainerTask({
      command: [process.execPath, '-e', 'setTimeout(() => {}, 20000)'],
      cwd: dataDir,
      output: 'ignore',
    });
    const ac = new AbortController();
    const t0 = Date.now();
    const pending = run({}, ac.signal);
    setTimeout(() => ac.abort(), 200);
    await expect(pending).rejects.toThrow(/killed/);
    expect(Date.now() - t0).toBeLessThan(3000);
  });

  it('substituteDefinition names unresolved placeholders', () => {
    expect(() => substituteDefinition(FLOW, {})).toThrow('${EchoArn}');
    expect(substituteDefinition({ a: ['x ${A} y'] }, { A: '1' })).toEqual({ a: ['x 1 y'] });
  });

  it('refuses two Task states of the same name with different resources', () => {
    const def = {
      StartAt: 'M',
      States: {
        M: {
          Type: 'Map',
          ItemProcessor: { StartAt: 'T', States: { T: { Type: 'Task', Resource: `${FN}:a`, End: true } } },
          Next: 'P',
        },
        P: {
          Type: 'Parallel',
          Branches: [{ StartAt: 'T', States: { T: { Type: 'Task', Resource: `${FN}:b`, End: true } } }],
          End: true,
        },
      },
    };
    expect(() => svc.registerStateMachine('dup', def)).toThrow(/two Task states named 'T'/);
  });
});
