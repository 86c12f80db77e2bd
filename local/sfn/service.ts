/**
 * Local AWS Step Functions service for the embedded runtime.
 *
 * Handlers keep their unchanged `@aws-sdk/client-sfn` calls (`new SFNClient({ endpoint })`); this module
 * answers them over the AWS JSON 1.0 protocol and runs the real ASL definition with `aws-local-stepfunctions`.
 * Task states are routed to callbacks: Lambda function ARNs and `arn:aws:states:::lambda:invoke` to
 * `invokeLambda`, `arn:aws:states:::ecs:runTask.sync` to `runContainerTask`. Executions are persisted as one
 * JSON file each under `dataDir/sfn/executions/` (tmp + rename), so a restart loses nothing; executions that
 * were RUNNING when the process stopped are restarted from the beginning with their original input by
 * `resumeRunning()` — our states are idempotent (conditional DynamoDB writes, deterministic outputs).
 */
import '../polyfills';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  ExecutionAbortedError,
  ExecutionError,
  ExecutionTimeoutError,
  StateMachine,
} from 'aws-local-stepfunctions';
import type { RunOptions, StateMachineDefinition } from 'aws-local-stepfunctions';

// ---------------------------------------------------------------------------------------------------------
// Public types

/** The effective `Parameters` of an `arn:aws:states:::ecs:runTask.sync` Task state (ECS RunTask request). */
export interface EcsRunTaskParams {
  Cluster?: string;
  TaskDefinition?: string;
  LaunchType?: string;
  NetworkConfiguration?: unknown;
  Overrides?: {
    ContainerOverrides?: Array<{
      Name?: string;
      Command?: string[];
      Environment?: Array<{ Name: string; Value: string }>;
      Cpu?: number;
      Memory?: number;
    }>;
    Cpu?: string;
    Memory?: string;
  };
  [key: string]: unknown;
}

export interface ContainerTaskResult {
  exitCode: number;
  stderrTail: string;
}

export type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'ABORTED' | 'TIMED_OUT';

/** One execution as persisted in `dataDir/sfn/executions/*.json`. Dates are epoch milliseconds. */
export interface ExecutionRecord {
  executionArn: string;
  stateMachineArn: string;
  name: string;
  status: ExecutionStatus;
  /** The execution input as a JSON string, exactly as given to StartExecution. */
  input: string;
  /** The execution output as a JSON string (SUCCEEDED only). */
  output?: string;
  error?: string;
  cause?: string;
  startDate: number;
  stopDate?: number;
}

export interface LocalStepFunctionsOptions {
  dataDir: string;
  region?: string;
  accountId?: string;
  /**
   * Runs a Lambda function. Throw to fail the state: the ASL error name is the thrown error's `name`
   * (or `errorType`), exactly as AWS reports a Lambda function error. The signal fires when the execution
   * is stopped or the service closes.
   */
  invokeLambda: (functionArn: string, payload: unknown, signal?: AbortSignal) => Promise<unknown>;
  /**
   * Runs an ECS Fargate task to completion. Non-zero exit code → `States.TaskFailed`. The signal fires when
   * the execution is stopped, the service closes, or the state's TimeoutSeconds has passed: kill the task then.
   */
  runContainerTask: (params: EcsRunTaskParams, signal?: AbortSignal) => Promise<ContainerTaskResult>;
  log?: (msg: string, extra?: object) => void;
}

// ---------------------------------------------------------------------------------------------------------
// Internal types and constants

type LocalHandlers = NonNullable<NonNullable<RunOptions['overrides']>['taskResourceLocalHandlers']>;
type JSONValue = Parameters<LocalHandlers[string]>[0];

interface AslMachine {
  StartAt?: string;
  States?: Record<string, AslState>;
  TimeoutSeconds?: number;
}
interface AslState {
  Type?: string;
  Resource?: string;
  TimeoutSeconds?: number;
  TimeoutSecondsPath?: string;
  ItemProcessor?: AslMachine;
  Iterator?: AslMachine;
  Branches?: AslMachine[];
}

type TaskKind = { kind: 'lambda'; functionArn: string } | { kind: 'lambdaInvoke' } | { kind: 'ecs' };
interface TaskInfo {
  resource: string;
  target: TaskKind;
  /** The state's static TimeoutSeconds, if any (used to kill a container that outlived it). */
  timeoutSeconds?: number;
}

interface RegisteredMachine {
  arn: string;
  name: string;
  definition: object;
  machine: StateMachine;
  tasks: Map<string, TaskInfo>;
  creationDate: number;
}

interface RunningExecution {
  /** Our own controller: its signal reaches invokeLambda/runContainerTask (kills children). */
  controller: AbortController;
  /** Aborts the aws-local-stepfunctions run. */
  abortRun: () => void;
  /** Set by close(): the execution is abandoned and stays RUNNING in the store. */
  shutdown: boolean;
  done: Promise<void>;
}

interface HistoryEvent {
  id: number;
  previousEventId: number;
  timestamp: number;
  type: string;
  [details: string]: unknown;
}

const LAMBDA_FUNCTION_ARN =
  /^arn:aws[a-zA-Z-]*:lambda:[a-z0-9-]+:\d{12}:function:[A-Za-z0-9_-]+(:[A-Za-z0-9$_-]+)?$/;
const LAMBDA_INVOKE = /^arn:aws[a-zA-Z-]*:states:::lambda:invoke$/;
const ECS_RUN_TASK_SYNC = /^arn:aws[a-zA-Z-]*:states:::ecs:runTask\.sync$/;
/** AWS Step Functions payload limit (input, output, state results). */
const PAYLOAD_LIMIT_BYTES = 262_144;
/** AWS's default Task timeout is 99999999 s (no practical limit); the library defaults to 60 s and
 * setTimeout overflows above 2^31-1 ms, so tasks without TimeoutSeconds get this (~24.8 days). */
const NO_TIMEOUT_SECONDS = 2_147_483;
const MAX_HISTORY_EVENTS = 2_000;
const MAX_HISTORIES = 200;
const MAX_BODY_BYTES = 4 * 1024 * 1024;
// AWS names: 1-80 chars, no whitespace, brackets, wildcards, special or control characters.
// eslint-disable-next-line no-control-regex
const NAME_RE = /^[^\s<>{}[\]?*"#%\\^|~`$&,;:/\u0000-\u001f\u007f-\u009f]{1,80}$/;

/** An error as the ASL Retry/Catch machinery of aws-local-stepfunctions sees it: `name` is the ASL error
 * name and `message` the Cause (it reads `error.name` / `error.message`; never set `cause` on it). */
class AslTaskError extends Error {
  constructor(
    name: string,
    cause: string,
    private readonly terminal = false,
  ) {
    super(cause);
    this.name = name;
  }
  get isRetryable(): boolean {
    return !this.terminal;
  }
  get isCatchable(): boolean {
    return !this.terminal;
  }
}

class ApiError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

// ---------------------------------------------------------------------------------------------------------
// The service

export class LocalStepFunctions {
  readonly region: string;
  readonly accountId: string;
  private readonly execDir: string;
  private readonly machines = new Map<string, RegisteredMachine>();
  private readonly records = new Map<string, ExecutionRecord>();
  private readonly running = new Map<string, RunningExecution>();
  private readonly histories = new Map<string, HistoryEvent[]>();
  private readonly writes = new Map<string, Promise<void>>();
  private readonly waiters = new Map<string, Set<(rec: ExecutionRecord) => void>>();
  private server?: http.Server;
  private closed = false;

  constructor(private readonly opts: LocalStepFunctionsOptions) {
    this.region = opts.region ?? 'us-east-1';
    this.accountId = opts.accountId ?? '000000000000';
    this.execDir = path.join(opts.dataDir, 'sfn', 'executions');
    fs.mkdirSync(this.execDir, { recursive: true });
    this.loadRecords();
  }

  // --- state machines ---------------------------------------------------------------------------------

  /** Registers (or replaces) a state machine; `definition` is ASL JSON with ARNs already substituted. */
  registerStateMachine(name: string, definition: object): string {
    if (!NAME_RE.test(name)) throw new Error(`Invalid state machine name '${name}'`);
    const arn = `arn:aws:states:${this.region}:${this.accountId}:stateMachine:${name}`;
    const tasks = collectTasks(definition as AslMachine, name);
    // JSON clone, not structuredClone: the library only expands `.$` keys of objects whose prototype is its
    // realm's Object.prototype (isPlainObj), and structuredClone yields another realm's objects under jest.
    const runnable = cloneJson(definition as JSONValue) as AslMachine;
    walkStates(runnable, (_n, state) => {
      if (
        state.Type === 'Task' &&
        state.TimeoutSeconds === undefined &&
        state.TimeoutSecondsPath === undefined
      ) {
        state.TimeoutSeconds = NO_TIMEOUT_SECONDS;
      }
    });
    let machine: StateMachine;
    try {
      // Validates the definition (asl-validator, with ARN and JSONPath checks).
      machine = new StateMachine(runnable as unknown as StateMachineDefinition);
    } catch (err) {
      throw new Error(`State machine '${name}': ${(err as Error).message}`);
    }
    this.machines.set(arn, {
      arn,
      name,
      definition: cloneJson(definition as JSONValue) as object,
      machine,
      tasks,
      creationDate: Date.now(),
    });
    return arn;
  }

  // --- lifecycle ----------------------------------------------------------------------------------------

  /** Starts the HTTP endpoint; resolves with its URL (e.g. `http://127.0.0.1:4583`). */
  async listen(port: number, host = '127.0.0.1'): Promise<string> {
    if (this.server) throw new Error('LocalStepFunctions is already listening');
    this.closed = false;
    const server = http.createServer((req, res) => void this.handleHttp(req, res));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
    const addr = server.address() as AddressInfo;
    const url = `http://${host.includes(':') ? `[${host}]` : host}:${addr.port}`;
    this.log('local Step Functions listening', { url });
    return url;
  }

  /**
   * Stops the HTTP server and abandons running executions: they are aborted (their signals fire, so
   * containers are killed) but stay RUNNING in the store, for `resumeRunning()` on the next start.
   */
  async close(): Promise<void> {
    this.closed = true;
    for (const entry of this.running.values()) {
      entry.shutdown = true;
      entry.controller.abort(new Error('local Step Functions service closed'));
      entry.abortRun();
    }
    await Promise.all([...this.running.values()].map((e) => e.done));
    const server = this.server;
    this.server = undefined;
    if (server) {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    }
    await Promise.all([...this.writes.values()]);
  }

  /** Restarts, from the beginning and with its original input, every execution stored as RUNNING. */
  async resumeRunning(): Promise<void> {
    this.closed = false;
    const toResume = [...this.records.values()].filter(
      (r) => r.status === 'RUNNING' && !this.running.has(r.executionArn),
    );
    for (const rec of toResume) {
      if (!this.machines.has(rec.stateMachineArn)) {
        this.log('cannot resume execution: state machine not registered', { executionArn: rec.executionArn });
        this.settle(rec, {
          status: 'FAILED',
          error: 'States.Runtime',
          cause: `State machine ${rec.stateMachineArn} is not registered; the execution could not be resumed`,
        });
        await this.persist(rec);
        continue;
      }
      this.log('resuming execution', { executionArn: rec.executionArn });
      this.startRun(rec);
    }
  }

  /** Test helper: resolves with the execution once it is no longer RUNNING. */
  waitForExecution(executionArn: string, timeoutMs = 30_000): Promise<ExecutionRecord> {
    const rec = this.records.get(executionArn);
    if (!rec) return Promise.reject(new Error(`Execution ${executionArn} does not exist`));
    if (rec.status !== 'RUNNING') return Promise.resolve({ ...rec });
    return new Promise((resolve, reject) => {
      const set = this.waiters.get(executionArn) ?? new Set();
      this.waiters.set(executionArn, set);
      const timer = setTimeout(() => {
        set.delete(done);
        reject(new Error(`Execution ${executionArn} still RUNNING after ${timeoutMs} ms`));
      }, timeoutMs);
      const done = (r: ExecutionRecord): void => {
        clearTimeout(timer);
        resolve({ ...r });
      };
      set.add(done);
    });
  }

  /** A copy of the stored execution, or undefined. */
  getExecution(executionArn: string): ExecutionRecord | undefined {
    const rec = this.records.get(executionArn);
    return rec && { ...rec };
  }

  // --- API operations -----------------------------------------------------------------------------------

  private async dispatch(op: string, p: Record<string, unknown>): Promise<object> {
    switch (op) {
      case 'StartExecution':
        return this.startExecution(p);
      case 'DescribeExecution':
        return this.describeExecution(p);
      case 'StopExecution':
        return this.stopExecution(p);
      case 'ListExecutions':
        return this.listExecutions(p);
      case 'GetExecutionHistory':
        return this.getExecutionHistory(p);
      case 'DescribeStateMachine':
        return this.describeStateMachine(p);
      case 'ListStateMachines':
        return {
          stateMachines: [...this.machines.values()].map((m) => ({
            stateMachineArn: m.arn,
            name: m.name,
            type: 'STANDARD',
            creationDate: m.creationDate / 1000,
          })),
        };
      default:
        throw new ApiError(
          'UnknownOperationException',
          `Operation ${op} is not supported by the local Step Functions service`,
        );
    }
  }

  private async startExecution(p: Record<string, unknown>): Promise<object> {
    const smArn = requireString(p, 'stateMachineArn');
    const sm = this.machines.get(smArn);
    if (!sm) {
      if (!smArn.startsWith('arn:')) throw new ApiError('InvalidArn', `Invalid Arn: '${smArn}'`);
      throw new ApiError('StateMachineDoesNotExist', `State Machine Does Not Exist: '${smArn}'`);
    }
    const name = p.name === undefined ? randomUUID() : p.name;
    if (typeof name !== 'string' || !NAME_RE.test(name)) {
      throw new ApiError('InvalidName', `Invalid Name: '${String(name)}'`);
    }
    const input = p.input === undefined ? '{}' : p.input;
    if (typeof input !== 'string')
      throw new ApiError('InvalidExecutionInput', 'Invalid State Machine Execution Input: not a string');
    if (Buffer.byteLength(input) > PAYLOAD_LIMIT_BYTES) {
      throw new ApiError(
        'InvalidExecutionInput',
        `Invalid State Machine Execution Input: larger than ${PAYLOAD_LIMIT_BYTES} bytes`,
      );
    }
    try {
      JSON.parse(input);
    } catch (err) {
      throw new ApiError(
        'InvalidExecutionInput',
        `Invalid State Machine Execution Input: '${(err as Error).message}'`,
      );
    }
    const executionArn = `arn:aws:states:${this.region}:${this.accountId}:execution:${sm.name}:${name}`;
    const existing = this.records.get(executionArn);
    if (existing) {
      // As AWS: same name + same input while RUNNING is idempotent; any other reuse of a name is refused.
      if (existing.status === 'RUNNING' && existing.input === input) {
        return { executionArn, startDate: existing.startDate / 1000 };
      }
      throw new ApiError('ExecutionAlreadyExists', `Execution Already Exists: '${executionArn}'`);
    }
    const rec: ExecutionRecord = {
      executionArn,
      stateMachineArn: sm.arn,
      name,
      status: 'RUNNING',
      input,
      startDate: Date.now(),
    };
    this.records.set(executionArn, rec); // synchronously, so a concurrent duplicate start is refused
    await this.persist(rec);
    this.startRun(rec);
    return { executionArn, startDate: rec.startDate / 1000 };
  }

  private describeExecution(p: Record<string, unknown>): object {
    const rec = this.findExecution(requireString(p, 'executionArn'));
    return {
      executionArn: rec.executionArn,
      stateMachineArn: rec.stateMachineArn,
      name: rec.name,
      status: rec.status,
      startDate: rec.startDate / 1000,
      ...(rec.stopDate !== undefined && { stopDate: rec.stopDate / 1000 }),
      input: rec.input,
      inputDetails: { included: true },
      ...(rec.output !== undefined && { output: rec.output, outputDetails: { included: true } }),
      ...(rec.error !== undefined && { error: rec.error }),
      ...(rec.cause !== undefined && { cause: rec.cause }),
    };
  }

  private async stopExecution(p: Record<string, unknown>): Promise<object> {
    const rec = this.findExecution(requireString(p, 'executionArn'));
    if (rec.status !== 'RUNNING') return { stopDate: (rec.stopDate ?? Date.now()) / 1000 };
    const error = typeof p.error === 'string' ? p.error : undefined;
    const cause = typeof p.cause === 'string' ? p.cause : undefined;
    this.settle(rec, { status: 'ABORTED', error, cause });
    const entry = this.running.get(rec.executionArn);
    if (entry) {
      entry.controller.abort(new Error('execution stopped'));
      entry.abortRun();
    }
    await this.persist(rec);
    this.log('execution stopped', { executionArn: rec.executionArn });
    return { stopDate: (rec.stopDate as number) / 1000 };
  }

  private listExecutions(p: Record<string, unknown>): object {
    const smArn = requireString(p, 'stateMachineArn');
    if (!this.machines.has(smArn) && ![...this.records.values()].some((r) => r.stateMachineArn === smArn)) {
      throw new ApiError('StateMachineDoesNotExist', `State Machine Does Not Exist: '${smArn}'`);
    }
    const filter = typeof p.statusFilter === 'string' ? p.statusFilter : undefined;
    const all = [...this.records.values()]
      .filter((r) => r.stateMachineArn === smArn && (!filter || r.status === filter))
      .sort((a, b) => b.startDate - a.startDate);
    const { page, nextToken } = paginate(all, p);
    return {
      executions: page.map((r) => ({
        executionArn: r.executionArn,
        stateMachineArn: r.stateMachineArn,
        name: r.name,
        status: r.status,
        startDate: r.startDate / 1000,
        ...(r.stopDate !== undefined && { stopDate: r.stopDate / 1000 }),
      })),
      ...(nextToken && { nextToken }),
    };
  }

  private getExecutionHistory(p: Record<string, unknown>): object {
    const rec = this.findExecution(requireString(p, 'executionArn'));
    let events = this.histories.get(rec.executionArn) ?? synthesizeHistory(rec);
    if (p.reverseOrder === true) events = [...events].reverse();
    const { page, nextToken } = paginate(events, p);
    return {
      events: page.map((e) => ({ ...e, timestamp: e.timestamp / 1000 })),
      ...(nextToken && { nextToken }),
    };
  }

  private describeStateMachine(p: Record<string, unknown>): object {
    const arn = requireString(p, 'stateMachineArn');
    const sm = this.machines.get(arn);
    if (!sm) throw new ApiError('StateMachineDoesNotExist', `State Machine Does Not Exist: '${arn}'`);
    return {
      stateMachineArn: sm.arn,
      name: sm.name,
      status: 'ACTIVE',
      definition: JSON.stringify(sm.definition),
      roleArn: `arn:aws:iam::${this.accountId}:role/local-stepfunctions`,
      type: 'STANDARD',
      creationDate: sm.creationDate / 1000,
    };
  }

  private findExecution(arn: string): ExecutionRecord {
    const rec = this.records.get(arn);
    if (rec) return rec;
    if (!/^arn:aws[a-zA-Z-]*:states:[^:]*:[^:]*:execution:[^:]+:[^:]+$/.test(arn)) {
      throw new ApiError('InvalidArn', `Invalid Arn: '${arn}'`);
    }
    throw new ApiError('ExecutionDoesNotExist', `Execution Does Not Exist: '${arn}'`);
  }

  // --- running executions -------------------------------------------------------------------------------

  private startRun(rec: ExecutionRecord): void {
    const sm = this.machines.get(rec.stateMachineArn);
    if (!sm) throw new Error(`state machine ${rec.stateMachineArn} is not registered`);
    const controller = new AbortController();
    const handlers: LocalHandlers = {};
    for (const [stateName, task] of sm.tasks) {
      handlers[stateName] = (input) => this.runTask(task, input, controller.signal);
    }
    const run = sm.machine.run(JSON.parse(rec.input) as JSONValue, {
      overrides: { taskResourceLocalHandlers: handlers },
      context: {
        Execution: {
          Id: rec.executionArn,
          Name: rec.name,
          RoleArn: `arn:aws:iam::${this.accountId}:role/local-stepfunctions`,
          StartTime: new Date(rec.startDate).toISOString(),
        },
        StateMachine: { Id: sm.arn, Name: sm.name },
      },
    });
    const history: HistoryEvent[] = [];
    this.histories.delete(rec.executionArn);
    this.histories.set(rec.executionArn, history);
    if (this.histories.size > MAX_HISTORIES) {
      const oldest = this.histories.keys().next().value;
      if (oldest !== undefined) this.histories.delete(oldest);
    }
    void this.recordHistory(run.eventLogs, history, sm, rec);

    const entry: RunningExecution = {
      controller,
      abortRun: run.abort,
      shutdown: false,
      done: Promise.resolve(),
    };
    this.running.set(rec.executionArn, entry);
    entry.done = run.result
      .then(
        (output): Outcome => {
          const text = JSON.stringify(output ?? null);
          if (Buffer.byteLength(text) > PAYLOAD_LIMIT_BYTES) {
            return {
              status: 'FAILED',
              error: 'States.DataLimitExceeded',
              cause: `The state/task returned a result with a size exceeding the maximum number of bytes service limit.`,
            };
          }
          return { status: 'SUCCEEDED', output: text };
        },
        (err: unknown) => classifyFailure(err),
      )
      .then(async (outcome) => {
        this.running.delete(rec.executionArn);
        controller.abort(new Error('execution ended')); // kill anything still running (e.g. Map siblings)
        if (entry.shutdown || rec.status !== 'RUNNING') return; // abandoned by close(), or StopExecution won
        this.settle(rec, outcome);
        await this.persist(rec);
        this.log(`execution ${rec.status}`, { executionArn: rec.executionArn, error: rec.error });
      })
      .catch((err: unknown) =>
        this.log('execution bookkeeping failed', { executionArn: rec.executionArn, err: String(err) }),
      );
  }

  private async runTask(task: TaskInfo, input: JSONValue, execSignal: AbortSignal): Promise<JSONValue> {
    if (execSignal.aborted) {
      // The library retries a state once more after an abort interrupts a Retry interval; do not run it.
      throw new AslTaskError('States.Runtime', 'Execution aborted');
    }
    const signal =
      task.timeoutSeconds !== undefined
        ? AbortSignal.any([execSignal, AbortSignal.timeout(task.timeoutSeconds * 1000 + 1000)])
        : execSignal;
    switch (task.target.kind) {
      case 'lambda':
        return this.callLambda(task.target.functionArn, input, signal);
      case 'lambdaInvoke': {
        const params = (isPlainObject(input) ? input : {}) as Record<string, JSONValue>;
        const fn = params.FunctionName;
        if (typeof fn !== 'string' || fn === '') {
          throw new AslTaskError('States.Runtime', `lambda:invoke: Parameters.FunctionName must be a string`);
        }
        const payload = params.Payload === undefined ? {} : params.Payload;
        const result = await this.callLambda(this.toFunctionArn(fn), payload, signal);
        return { ExecutedVersion: '$LATEST', Payload: result, StatusCode: 200 };
      }
      case 'ecs':
        return this.runEcsTask(input as unknown as EcsRunTaskParams, signal);
    }
  }

  private async callLambda(functionArn: string, payload: JSONValue, signal: AbortSignal): Promise<JSONValue> {
    let result: unknown;
    try {
      result = await this.opts.invokeLambda(functionArn, cloneJson(payload), signal);
    } catch (err) {
      throw lambdaFunctionError(err);
    }
    const text = result === undefined ? 'null' : JSON.stringify(result);
    if (text === undefined) return null;
    checkResultSize(text);
    return JSON.parse(text) as JSONValue;
  }

  private async runEcsTask(params: EcsRunTaskParams, signal: AbortSignal): Promise<JSONValue> {
    const createdAt = Date.now();
    let result: ContainerTaskResult | undefined;
    let startError: string | undefined;
    try {
      result = await this.opts.runContainerTask(
        cloneJson(params as unknown as JSONValue) as unknown as EcsRunTaskParams,
        signal,
      );
    } catch (err) {
      if (signal.aborted) throw new AslTaskError('States.Runtime', 'Execution aborted');
      startError = err instanceof Error ? err.message : String(err);
    }
    const task = this.describeEcsTask(params, createdAt, result, startError);
    if (result && result.exitCode === 0) return task;
    throw new AslTaskError('States.TaskFailed', JSON.stringify(task));
  }

  /** The task as ECS DescribeTasks (and so `runTask.sync`) reports it, PascalCase as Step Functions returns it. */
  private describeEcsTask(
    params: EcsRunTaskParams,
    createdAt: number,
    result: ContainerTaskResult | undefined,
    startError: string | undefined,
  ): JSONValue {
    const clusterName = (params.Cluster ?? 'local').split('/').pop() || 'local';
    const clusterArn = (params.Cluster ?? '').startsWith('arn:')
      ? (params.Cluster as string)
      : `arn:aws:ecs:${this.region}:${this.accountId}:cluster/${clusterName}`;
    const family = (params.TaskDefinition ?? 'local').split('/').pop() ?? 'local';
    const taskDefinitionArn = (params.TaskDefinition ?? '').startsWith('arn:')
      ? (params.TaskDefinition as string)
      : `arn:aws:ecs:${this.region}:${this.accountId}:task-definition/${family.includes(':') ? family : `${family}:1`}`;
    const taskArn = `arn:aws:ecs:${this.region}:${this.accountId}:task/${clusterName}/${randomUUID().replace(/-/g, '')}`;
    const containerName = params.Overrides?.ContainerOverrides?.[0]?.Name ?? 'main';
    const stoppedAt = Date.now();
    const container: Record<string, JSONValue> = {
      ContainerArn: `arn:aws:ecs:${this.region}:${this.accountId}:container/${clusterName}/${randomUUID()}`,
      LastStatus: 'STOPPED',
      Name: containerName,
      NetworkInterfaces: [],
      TaskArn: taskArn,
    };
    if (result) {
      container.ExitCode = result.exitCode;
      if (result.exitCode !== 0 && result.stderrTail) container.Reason = result.stderrTail;
    } else {
      container.Reason = `CannotStartContainerError: ${startError ?? 'unknown error'}`;
    }
    return {
      Attachments: [],
      Attributes: [],
      AvailabilityZone: `${this.region}a`,
      ClusterArn: clusterArn,
      Connectivity: 'CONNECTED',
      Containers: [container],
      CreatedAt: createdAt,
      DesiredStatus: 'STOPPED',
      Group: `family:${family.split(':')[0]}`,
      LastStatus: 'STOPPED',
      LaunchType: params.LaunchType ?? 'FARGATE',
      Overrides: (cloneJson((params.Overrides ?? {}) as JSONValue) ?? {}) as JSONValue,
      PlatformVersion: '1.4.0',
      StartedAt: createdAt,
      StopCode: result ? 'EssentialContainerExited' : 'TaskFailedToStart',
      StoppedAt: stoppedAt,
      StoppedReason: result
        ? 'Essential container in task exited'
        : `CannotStartContainerError: ${startError ?? 'unknown error'}`,
      StoppingAt: stoppedAt,
      TaskArn: taskArn,
      TaskDefinitionArn: taskDefinitionArn,
      Version: 3,
    };
  }

  private toFunctionArn(nameOrArn: string): string {
    if (nameOrArn.startsWith('arn:')) return nameOrArn;
    return `arn:aws:lambda:${this.region}:${this.accountId}:function:${nameOrArn}`;
  }

  /** Consumes the library's event log into an AWS-shaped (best-effort) execution history. */
  private async recordHistory(
    events: AsyncGenerator<Parameters<typeof toHistoryEvent>[0]>,
    history: HistoryEvent[],
    sm: RegisteredMachine,
    rec: ExecutionRecord,
  ): Promise<void> {
    try {
      for await (const ev of events) {
        const mapped = toHistoryEvent(ev, sm, rec);
        if (!mapped || history.length >= MAX_HISTORY_EVENTS) continue;
        const id = history.length + 1;
        history.push({ id, previousEventId: id - 1, timestamp: ev.timestamp, ...mapped });
      }
    } catch (err) {
      this.log('history consumer failed', { err: String(err) });
    }
  }

  private settle(rec: ExecutionRecord, outcome: Outcome): void {
    rec.status = outcome.status;
    rec.stopDate = Date.now();
    if (outcome.output !== undefined) rec.output = outcome.output;
    if (outcome.error !== undefined) rec.error = outcome.error;
    if (outcome.cause !== undefined) rec.cause = outcome.cause;
    const set = this.waiters.get(rec.executionArn);
    if (set) {
      this.waiters.delete(rec.executionArn);
      for (const fn of set) fn(rec);
    }
  }

  // --- persistence --------------------------------------------------------------------------------------

  private fileFor(rec: Pick<ExecutionRecord, 'stateMachineArn' | 'name'>): string {
    const smName = rec.stateMachineArn.split(':').pop() as string;
    // Names cannot contain ':' (nor '%'), so the encoded parts joined by '%3A' are unambiguous.
    return path.join(this.execDir, `${encodeURIComponent(smName)}%3A${encodeURIComponent(rec.name)}.json`);
  }

  private persist(rec: ExecutionRecord): Promise<void> {
    const snapshot = JSON.stringify(rec, null, 1);
    const file = this.fileFor(rec);
    const prev = this.writes.get(rec.executionArn) ?? Promise.resolve();
    const next = prev.then(() => writeFileAtomic(file, snapshot));
    const tracked = next.catch((err: unknown) =>
      this.log('failed to persist execution', { file, err: String(err) }),
    );
    this.writes.set(rec.executionArn, tracked);
    void tracked.then(() => {
      if (this.writes.get(rec.executionArn) === tracked) this.writes.delete(rec.executionArn);
    });
    return next;
  }

  private loadRecords(): void {
    for (const entry of fs.readdirSync(this.execDir)) {
      const file = path.join(this.execDir, entry);
      if (entry.endsWith('.tmp')) {
        fs.rmSync(file, { force: true });
        continue;
      }
      if (!entry.endsWith('.json')) continue;
      try {
        const rec = JSON.parse(fs.readFileSync(file, 'utf8')) as ExecutionRecord;
        if (
          typeof rec.executionArn !== 'string' ||
          typeof rec.status !== 'string' ||
          typeof rec.input !== 'string'
        ) {
          throw new Error('not an execution record');
        }
        this.records.set(rec.executionArn, rec);
      } catch (err) {
        this.log('skipping unreadable execution file', { file, err: String(err) });
      }
    }
  }

  // --- HTTP ---------------------------------------------------------------------------------------------

  private async handleHttp(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const requestId = randomUUID();
    const send = (status: number, body: object, errorType?: string): void => {
      const text = JSON.stringify(body);
      res.writeHead(status, {
        'Content-Type': 'application/x-amz-json-1.0',
        'Content-Length': Buffer.byteLength(text),
        'x-amzn-RequestId': requestId,
        ...(errorType && { 'x-amzn-ErrorType': errorType }),
      });
      res.end(text);
    };
    try {
      const body = await readBody(req);
      if (req.method !== 'POST')
        throw new ApiError('UnknownOperationException', `Method ${req.method} not supported`, 404);
      const target = String(req.headers['x-amz-target'] ?? '');
      const prefix = 'AWSStepFunctions.';
      if (!target.startsWith(prefix))
        throw new ApiError('UnknownOperationException', `Unknown X-Amz-Target '${target}'`);
      let params: unknown;
      try {
        params = body.length === 0 ? {} : JSON.parse(body.toString('utf8'));
      } catch {
        throw new ApiError('SerializationException', 'Request body is not valid JSON');
      }
      if (!isPlainObject(params))
        throw new ApiError('SerializationException', 'Request body must be a JSON object');
      if (this.closed)
        throw new ApiError('ServiceUnavailable', 'The local Step Functions service is closing', 503);
      send(200, await this.dispatch(target.slice(prefix.length), params as Record<string, unknown>));
    } catch (err) {
      if (err instanceof ApiError) {
        send(err.status, { __type: err.type, message: err.message }, err.type);
      } else {
        this.log('internal error', { err: String(err) });
        send(500, { __type: 'InternalFailure', message: String(err) }, 'InternalFailure');
      }
    }
  }

  private log(msg: string, extra?: object): void {
    this.opts.log?.(`[sfn] ${msg}`, extra);
  }
}

// ---------------------------------------------------------------------------------------------------------
// Exported helpers

/**
 * Replaces CloudFormation `DefinitionSubstitutions` placeholders `${Name}` in every string (and key) of an
 * ASL document. Throws naming every placeholder without a substitution.
 */
export function substituteDefinition(definition: object, substitutions: Record<string, string>): object {
  const missing = new Set<string>();
  const sub = (s: string): string =>
    s.replace(/\$\{([^}]*)\}/g, (whole, key: string) => {
      if (Object.prototype.hasOwnProperty.call(substitutions, key)) return substitutions[key];
      missing.add(key);
      return whole;
    });
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') return sub(v);
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === 'object') {
      return Object.fromEntries(
        Object.entries(v as Record<string, unknown>).map(([k, x]) => [sub(k), walk(x)]),
      );
    }
    return v;
  };
  const out = walk(definition) as object;
  if (missing.size > 0) {
    throw new Error(
      `Unresolved DefinitionSubstitutions placeholder(s): ${[...missing].map((k) => `\${${k}}`).join(', ')}`,
    );
  }
  return out;
}

/**
 * A `runContainerTask` that runs the worker as a local child process: `command` (argument array, no shell)
 * plus the container override's `Command` (as ECS appends a CMD override to the ENTRYPOINT), in `cwd`, with
 * process.env + `env` + the container overrides' `Environment`. stdin is closed; stdout/stderr are forwarded
 * to this process unless `output: 'ignore'`; the last ~4 KB of stderr is returned. On abort the child gets
 * SIGTERM, then SIGKILL after `killGraceMs`.
 */
export function defaultRunContainerTask(opts: {
  command: string[];
  cwd: string;
  env?: Record<string, string>;
  output?: 'inherit' | 'ignore';
  killGraceMs?: number;
}): (params: EcsRunTaskParams, signal?: AbortSignal) => Promise<ContainerTaskResult> {
  if (opts.command.length === 0) throw new Error('defaultRunContainerTask: command must not be empty');
  const [file, ...baseArgs] = opts.command;
  const forward = (opts.output ?? 'inherit') === 'inherit';
  const TAIL = 4096;
  return (params, signal) =>
    new Promise<ContainerTaskResult>((resolve, reject) => {
      if (signal?.aborted) {
        reject(new Error('container task aborted before start'));
        return;
      }
      const env: Record<string, string | undefined> = { ...process.env, ...opts.env };
      const args = [...baseArgs];
      for (const o of params.Overrides?.ContainerOverrides ?? []) {
        for (const e of o.Environment ?? []) env[e.Name] = String(e.Value);
        if (Array.isArray(o.Command)) args.push(...o.Command.map(String));
      }
      const child = spawn(file, args, {
        cwd: opts.cwd,
        env,
        shell: false,
        stdio: ['ignore', forward ? 'inherit' : 'ignore', 'pipe'],
      });
      let tail = Buffer.alloc(0);
      child.stderr?.on('data', (chunk: Buffer) => {
        if (forward) process.stderr.write(chunk);
        tail = Buffer.concat([tail, chunk]);
        if (tail.length > TAIL) tail = tail.subarray(tail.length - TAIL);
      });
      let killTimer: NodeJS.Timeout | undefined;
      const onAbort = (): void => {
        child.kill('SIGTERM');
        killTimer = setTimeout(() => child.kill('SIGKILL'), opts.killGraceMs ?? 5000);
        killTimer.unref();
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      let settled = false;
      const finish = (fn: () => void): void => {
        if (settled) return;
        settled = true;
        signal?.removeEventListener('abort', onAbort);
        if (killTimer) clearTimeout(killTimer);
        fn();
      };
      child.once('error', (err) => finish(() => reject(err)));
      child.once('close', (code, sig) =>
        finish(() => {
          if (signal?.aborted) {
            reject(new Error(`container task killed (${sig ?? code})`));
            return;
          }
          const exitCode = code ?? 128 + ((sig && os.constants.signals[sig]) || 0);
          resolve({ exitCode, stderrTail: tail.toString('utf8') });
        }),
      );
    });
}

// ---------------------------------------------------------------------------------------------------------
// Internal helpers

interface Outcome {
  status: ExecutionStatus;
  output?: string;
  error?: string;
  cause?: string;
}

function classifyFailure(err: unknown): Outcome {
  if (err instanceof ExecutionAbortedError) return { status: 'ABORTED' };
  if (err instanceof ExecutionTimeoutError) {
    return {
      status: 'TIMED_OUT',
      error: 'States.Timeout',
      cause: 'The execution timed out (TimeoutSeconds)',
    };
  }
  if (err instanceof ExecutionError && err.cause instanceof Error) {
    const inner = err.cause;
    // A Fail state without Error/Cause: the library fills in placeholders AWS does not report.
    if (inner.name === 'FailStateError') {
      const cause = inner.message === 'Execution failed because of a Fail state' ? undefined : inner.message;
      return { status: 'FAILED', cause };
    }
    return { status: 'FAILED', error: inner.name, cause: inner.message };
  }
  return {
    status: 'FAILED',
    error: 'States.Runtime',
    cause: err instanceof Error ? err.message : String(err),
  };
}

/** What AWS Step Functions reports for a Lambda function error: Error = errorType, Cause = the JSON body. */
function lambdaFunctionError(err: unknown): AslTaskError {
  if (err instanceof AslTaskError) return err;
  const e = (err && typeof err === 'object' ? err : {}) as {
    name?: unknown;
    errorType?: unknown;
    message?: unknown;
    stack?: unknown;
  };
  const errorType =
    typeof e.errorType === 'string' && e.errorType
      ? e.errorType
      : typeof e.name === 'string' && e.name
        ? e.name
        : 'Error';
  const errorMessage =
    typeof e.message === 'string' ? e.message : typeof err === 'string' ? err : String(err);
  const trace = typeof e.stack === 'string' ? e.stack.split('\n') : [];
  return new AslTaskError(errorType, JSON.stringify({ errorType, errorMessage, trace }));
}

function checkResultSize(text: string): void {
  if (Buffer.byteLength(text) > PAYLOAD_LIMIT_BYTES) {
    throw new AslTaskError(
      'States.DataLimitExceeded',
      `The state/task returned a result with a size exceeding the maximum number of bytes service limit (${PAYLOAD_LIMIT_BYTES}).`,
      true,
    );
  }
}

function walkStates(def: AslMachine, visit: (name: string, state: AslState) => void): void {
  for (const [name, state] of Object.entries(def.States ?? {})) {
    if (!state || typeof state !== 'object') continue;
    visit(name, state);
    if (state.Type === 'Map') {
      const sub = state.ItemProcessor ?? state.Iterator;
      if (sub) walkStates(sub, visit);
    } else if (state.Type === 'Parallel') {
      for (const branch of state.Branches ?? []) walkStates(branch, visit);
    }
  }
}

/** name → Task info for every Task state, nested ones included (the library overrides tasks by name). */
function collectTasks(def: AslMachine, machineName: string): Map<string, TaskInfo> {
  const tasks = new Map<string, TaskInfo>();
  walkStates(def, (name, state) => {
    if (state.Type !== 'Task') return;
    const resource = state.Resource;
    if (typeof resource !== 'string')
      throw new Error(`State machine '${machineName}': Task state '${name}' has no Resource`);
    let target: TaskKind;
    if (LAMBDA_FUNCTION_ARN.test(resource)) target = { kind: 'lambda', functionArn: resource };
    else if (LAMBDA_INVOKE.test(resource)) target = { kind: 'lambdaInvoke' };
    else if (ECS_RUN_TASK_SYNC.test(resource)) target = { kind: 'ecs' };
    else {
      throw new Error(
        `State machine '${machineName}': Task state '${name}' has unsupported Resource '${resource}' ` +
          `(supported: arn:aws:lambda:REGION:ACCOUNT:function:NAME, arn:aws:states:::lambda:invoke, arn:aws:states:::ecs:runTask.sync)`,
      );
    }
    const timeoutSeconds = typeof state.TimeoutSeconds === 'number' ? state.TimeoutSeconds : undefined;
    const prev = tasks.get(name);
    if (prev) {
      if (prev.resource !== resource) {
        throw new Error(
          `State machine '${machineName}': two Task states named '${name}' have different resources ` +
            `('${prev.resource}' and '${resource}'); the local runner overrides tasks by state name — rename one`,
        );
      }
      if (prev.timeoutSeconds !== undefined && timeoutSeconds !== undefined) {
        prev.timeoutSeconds = Math.max(prev.timeoutSeconds, timeoutSeconds);
      } else {
        prev.timeoutSeconds = undefined;
      }
      return;
    }
    tasks.set(name, { resource, target, timeoutSeconds });
  });
  return tasks;
}

type LibEvent = {
  type: string;
  timestamp: number;
  state?: { name: string; type: string; input: unknown; output?: unknown };
  parentState?: { name: string };
  index?: number;
  input?: unknown;
  output?: unknown;
  Error?: string;
  Cause?: unknown;
};

type HistoryDetails = { type: string; [details: string]: unknown };

function toHistoryEvent(
  ev: LibEvent,
  sm: RegisteredMachine,
  rec: ExecutionRecord,
): HistoryDetails | undefined {
  const str = (v: unknown): string => (typeof v === 'string' ? v : JSON.stringify(v ?? null));
  switch (ev.type) {
    case 'ExecutionStarted':
      return {
        type: 'ExecutionStarted',
        executionStartedEventDetails: {
          input: rec.input,
          inputDetails: { truncated: false },
          roleArn: `arn:aws:iam::${sm.arn.split(':')[4]}:role/local-stepfunctions`,
        },
      };
    case 'ExecutionSucceeded':
      return {
        type: 'ExecutionSucceeded',
        executionSucceededEventDetails: { output: str(ev.output), outputDetails: { truncated: false } },
      };
    case 'ExecutionFailed':
      return {
        type: 'ExecutionFailed',
        executionFailedEventDetails: { error: ev.Error, cause: str(ev.Cause) },
      };
    case 'ExecutionAborted':
      return { type: 'ExecutionAborted', executionAbortedEventDetails: {} };
    case 'ExecutionTimeout':
      return { type: 'ExecutionTimedOut', executionTimedOutEventDetails: { error: 'States.Timeout' } };
    case 'StateEntered':
      return (
        ev.state && {
          type: `${ev.state.type}StateEntered`,
          stateEnteredEventDetails: { name: ev.state.name, input: str(ev.state.input) },
        }
      );
    case 'StateExited':
      return (
        ev.state && {
          type: `${ev.state.type}StateExited`,
          stateExitedEventDetails: { name: ev.state.name, output: str(ev.state.output) },
        }
      );
    case 'StateFailed': {
      if (ev.state?.type !== 'Task')
        return ev.state?.type === 'Map' || ev.state?.type === 'Parallel'
          ? { type: `${ev.state.type}StateFailed` }
          : undefined;
      const task = sm.tasks.get(ev.state.name);
      const resource = task?.resource ?? '';
      const m = /:states:::(.+)$/.exec(resource);
      return {
        type: 'TaskFailed',
        taskFailedEventDetails: {
          resourceType: m ? m[1].split(':')[0] : 'lambda',
          resource: m ? m[1].split(':').slice(1).join(':') : resource,
          error: ev.Error,
          cause: str(ev.Cause),
        },
      };
    }
    case 'MapIterationStarted':
    case 'MapIterationSucceeded':
    case 'MapIterationFailed':
      return {
        type: ev.type,
        [`${ev.type[0].toLowerCase()}${ev.type.slice(1)}EventDetails`]: {
          name: ev.parentState?.name,
          index: ev.index,
        },
      };
    default:
      return undefined;
  }
}

function synthesizeHistory(rec: ExecutionRecord): HistoryEvent[] {
  const events: HistoryEvent[] = [
    {
      id: 1,
      previousEventId: 0,
      timestamp: rec.startDate,
      type: 'ExecutionStarted',
      executionStartedEventDetails: { input: rec.input },
    },
  ];
  const end = rec.stopDate ?? Date.now();
  if (rec.status === 'SUCCEEDED')
    events.push({
      id: 2,
      previousEventId: 1,
      timestamp: end,
      type: 'ExecutionSucceeded',
      executionSucceededEventDetails: { output: rec.output },
    });
  else if (rec.status === 'FAILED')
    events.push({
      id: 2,
      previousEventId: 1,
      timestamp: end,
      type: 'ExecutionFailed',
      executionFailedEventDetails: { error: rec.error, cause: rec.cause },
    });
  else if (rec.status === 'ABORTED')
    events.push({
      id: 2,
      previousEventId: 1,
      timestamp: end,
      type: 'ExecutionAborted',
      executionAbortedEventDetails: { error: rec.error, cause: rec.cause },
    });
  else if (rec.status === 'TIMED_OUT')
    events.push({
      id: 2,
      previousEventId: 1,
      timestamp: end,
      type: 'ExecutionTimedOut',
      executionTimedOutEventDetails: { error: rec.error, cause: rec.cause },
    });
  return events;
}

function paginate<T>(items: T[], p: Record<string, unknown>): { page: T[]; nextToken?: string } {
  const max = typeof p.maxResults === 'number' && p.maxResults > 0 ? Math.min(p.maxResults, 1000) : 100;
  let offset = 0;
  if (typeof p.nextToken === 'string') {
    offset = Number(Buffer.from(p.nextToken, 'base64').toString('utf8'));
    if (!Number.isInteger(offset) || offset < 0)
      throw new ApiError('InvalidToken', `Invalid Token: '${p.nextToken}'`);
  }
  const page = items.slice(offset, offset + max);
  const next = offset + max < items.length ? Buffer.from(String(offset + max)).toString('base64') : undefined;
  return { page, nextToken: next };
}

function requireString(p: Record<string, unknown>, key: string): string {
  const v = p[key];
  if (typeof v !== 'string' || v === '')
    throw new ApiError('ValidationException', `1 validation error detected: '${key}' must not be null`);
  return v;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return !!v && typeof v === 'object' && !Array.isArray(v);
}

function cloneJson(v: JSONValue): JSONValue {
  return v === undefined ? null : (JSON.parse(JSON.stringify(v)) as JSONValue);
}

async function writeFileAtomic(file: string, content: string): Promise<void> {
  const tmp = `${file}.${process.pid}.${randomUUID()}.tmp`;
  const fh = await fsp.open(tmp, 'w');
  try {
    await fh.writeFile(content, 'utf8');
    await fh.sync();
  } finally {
    await fh.close();
  }
  await fsp.rename(tmp, file);
}

function readBody(req: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) {
        reject(new ApiError('ValidationException', 'Request body too large', 413));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}
