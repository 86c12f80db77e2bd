/**
 * Reads serverless.yml for the local runtime: functions, their events, the resources to create and the
 * environment. One source of truth: nothing here lists a table, queue, bucket or function by name.
 * Resolves the subset of Serverless variables the file uses (self:, opt:, sls:stage, env:, file(…js):x)
 * and maps CloudFormation references (Ref, Fn::GetAtt, Fn::Join, Fn::Sub) to local values.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parse } from 'yaml';

export const LOCAL_REGION = 'us-east-1';
export const LOCAL_ACCOUNT = '000000000000';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Obj = { [k: string]: Json };

export interface FunctionDef {
  name: string;
  /** e.g. functions/api.handler */
  handler: string;
  /** Deployed name, e.g. openvod-dev-api */
  fullName: string;
  arn: string;
  timeoutSeconds: number;
  events: FunctionEvent[];
}

export type FunctionEvent =
  | { type: 'httpApi'; method: string; path: string }
  | { type: 'sqs'; queueLogicalId: string; batchSize: number; reportBatchItemFailures: boolean; maximumBatchingWindow?: number }
  | {
      type: 'stream';
      tableLogicalId: string;
      batchSize: number;
      startingPosition: 'TRIM_HORIZON' | 'LATEST';
      maximumRetryAttempts?: number;
      reportBatchItemFailures: boolean;
    }
  | { type: 's3'; bucketName: string; event: string; prefix?: string; suffix?: string }
  | { type: 'schedule'; everyMs: number; input: unknown };

export interface TableDef {
  logicalId: string;
  properties: Obj;
}
export interface QueueDef {
  logicalId: string;
  name: string;
  visibilityTimeout?: number;
  messageRetentionPeriod?: number;
  delaySeconds?: number;
  redrive?: { dlqLogicalId: string; maxReceiveCount: number };
}
export interface StateMachineDef {
  logicalId: string;
  name: string;
  definition: object;
  substitutions: Record<string, string>;
}

export interface ServiceModel {
  service: string;
  stage: string;
  region: string;
  functions: FunctionDef[];
  tables: TableDef[];
  queues: QueueDef[];
  buckets: string[];
  stateMachines: StateMachineDef[];
  /** provider.environment with references resolved to local names. */
  environment: Record<string, string>;
  /** Environment of the Fargate worker container (first container definition). */
  containerEnvironment: Record<string, string>;
  /** logicalId → physical name (tables, queues) */
  physicalNames: Record<string, string>;
}

export interface LocalEndpoints {
  sqs: string;
}

const capitalize = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);
/** Serverless's logical ID of a function resource. */
export const functionLogicalId = (name: string) => `${capitalize(name.replace(/[-_]/g, 'Dash'))}LambdaFunction`;

export function loadServiceModel(opts: { root: string; stage?: string; endpoints: LocalEndpoints }): ServiceModel {
  const file = path.join(opts.root, 'serverless.yml');
  const raw = parse(readFileSync(file, 'utf8')) as Obj;
  const stage = opts.stage ?? 'dev';
  const resolver = new VariableResolver(raw, opts.root, { stage, region: LOCAL_REGION });
  const doc = resolver.resolveAll(raw) as Obj;
  const service = String(doc.service);
  const prefix = `${service}-${stage}`;
  const provider = (doc.provider ?? {}) as Obj;
  const resources = (((doc.resources ?? {}) as Obj).Resources ?? {}) as Obj;

  const physicalNames: Record<string, string> = {};
  const tables: TableDef[] = [];
  const queues: QueueDef[] = [];
  const stateMachines: StateMachineDef[] = [];
  for (const [id, res] of Object.entries(resources)) {
    const r = res as Obj;
    const props = (r.Properties ?? {}) as Obj;
    if (r.Type === 'AWS::DynamoDB::Table') {
      physicalNames[id] = String(props.TableName ?? `${prefix}-${id}`);
    } else if (r.Type === 'AWS::SQS::Queue') {
      physicalNames[id] = String(props.QueueName ?? `${prefix}-${id}`);
    }
  }
  const functions: FunctionDef[] = Object.entries((doc.functions ?? {}) as Obj).map(([name, f]) => {
    const fn = f as Obj;
    const fullName = String(fn.name ?? `${prefix}-${name}`);
    return {
      name,
      handler: String(fn.handler),
      fullName,
      arn: `arn:aws:lambda:${LOCAL_REGION}:${LOCAL_ACCOUNT}:function:${fullName}`,
      timeoutSeconds: Number(fn.timeout ?? provider.timeout ?? 6),
      events: ((fn.events ?? []) as Obj[]).map((e) => parseEvent(e, name)).filter((e): e is FunctionEvent => !!e),
    };
  });
  const fnByLogicalId = new Map(functions.map((f) => [functionLogicalId(f.name), f]));

  const refs = new CfnRefs(physicalNames, fnByLogicalId, opts.endpoints, resources);
  for (const [id, res] of Object.entries(resources)) {
    const r = res as Obj;
    const props = (r.Properties ?? {}) as Obj;
    if (r.Type === 'AWS::DynamoDB::Table') {
      tables.push({ logicalId: id, properties: { ...props, TableName: physicalNames[id] } });
    } else if (r.Type === 'AWS::SQS::Queue') {
      const redrive = props.RedrivePolicy as Obj | undefined;
      queues.push({
        logicalId: id,
        name: physicalNames[id],
        visibilityTimeout: num(props.VisibilityTimeout),
        messageRetentionPeriod: num(props.MessageRetentionPeriod),
        delaySeconds: num(props.DelaySeconds),
        redrive: redrive
          ? { dlqLogicalId: getAttTarget(redrive.deadLetterTargetArn), maxReceiveCount: Number(redrive.maxReceiveCount) }
          : undefined,
      });
    } else if (r.Type === 'AWS::StepFunctions::StateMachine') {
      const defString = props.DefinitionString;
      const definition =
        typeof defString === 'string' ? (JSON.parse(defString) as object) : (props.Definition as object);
      const substitutions: Record<string, string> = {};
      for (const [k, v] of Object.entries((props.DefinitionSubstitutions ?? {}) as Obj)) substitutions[k] = refs.value(v);
      stateMachines.push({
        logicalId: id,
        name: String(props.StateMachineName ?? `${prefix}-${id}`),
        definition,
        substitutions,
      });
    }
  }
  // Buckets: provider.s3 (created by the s3 events) and AWS::S3::Bucket resources.
  const buckets = new Set<string>();
  const s3conf = (provider.s3 ?? {}) as Obj;
  const bucketName = (key: string) => String(((s3conf[key] ?? {}) as Obj).name ?? key);
  for (const f of functions) {
    for (const e of f.events) {
      if (e.type !== 's3') continue;
      e.bucketName = bucketName(e.bucketName);
      buckets.add(e.bucketName);
    }
  }
  for (const res of Object.values(resources)) {
    const r = res as Obj;
    if (r.Type === 'AWS::S3::Bucket') buckets.add(String(((r.Properties ?? {}) as Obj).BucketName));
  }
  for (const f of functions) {
    for (const e of f.events) {
      if (e.type === 'sqs') refs.requireLogical(e.queueLogicalId);
      if (e.type === 'stream') refs.requireLogical(e.tableLogicalId);
    }
  }

  const environment: Record<string, string> = {};
  for (const [k, v] of Object.entries((provider.environment ?? {}) as Obj)) environment[k] = refs.value(v);

  const containerEnvironment: Record<string, string> = {};
  for (const res of Object.values(resources)) {
    const r = res as Obj;
    if (r.Type !== 'AWS::ECS::TaskDefinition') continue;
    const containers = (((r.Properties ?? {}) as Obj).ContainerDefinitions ?? []) as Obj[];
    for (const kv of ((containers[0]?.Environment ?? []) as Obj[])) containerEnvironment[String(kv.Name)] = refs.value(kv.Value);
  }

  return {
    service,
    stage,
    region: LOCAL_REGION,
    functions,
    tables,
    queues,
    buckets: [...buckets],
    stateMachines,
    environment,
    containerEnvironment,
    physicalNames,
  };
}

function num(v: Json | undefined): number | undefined {
  return v === undefined || v === null ? undefined : Number(v);
}

function getAttTarget(v: Json | undefined): string {
  const o = v as Obj | undefined;
  const att = o?.['Fn::GetAtt'] as Json[] | undefined;
  if (att && typeof att[0] === 'string') return att[0];
  const ref = o?.Ref;
  if (typeof ref === 'string') return ref;
  throw new Error(`serverless.yml: expected Fn::GetAtt or Ref, got ${JSON.stringify(v)}`);
}

function parseEvent(e: Obj, fnName: string): FunctionEvent | undefined {
  if (e.httpApi) {
    const h = e.httpApi as Obj;
    return { type: 'httpApi', method: String(h.method ?? '*'), path: String(h.path ?? '/') };
  }
  if (e.sqs) {
    const s = e.sqs as Obj;
    return {
      type: 'sqs',
      queueLogicalId: getAttTarget(s.arn),
      batchSize: Number(s.batchSize ?? 10),
      reportBatchItemFailures: s.functionResponseType === 'ReportBatchItemFailures',
      maximumBatchingWindow: num(s.maximumBatchingWindow),
    };
  }
  if (e.stream) {
    const s = e.stream as Obj;
    if (s.type !== 'dynamodb') throw new Error(`function ${fnName}: only dynamodb streams are supported locally`);
    return {
      type: 'stream',
      tableLogicalId: getAttTarget(s.arn),
      batchSize: Number(s.batchSize ?? 100),
      startingPosition: s.startingPosition === 'LATEST' ? 'LATEST' : 'TRIM_HORIZON',
      maximumRetryAttempts: num(s.maximumRetryAttempts),
      reportBatchItemFailures: s.functionResponseType === 'ReportBatchItemFailures',
    };
  }
  if (e.schedule) {
    const sch = (typeof e.schedule === 'string' ? { rate: e.schedule } : e.schedule) as Obj;
    const m = /^rate\((\d+)\s+(minute|minutes|hour|hours|day|days)\)$/.exec(String(sch.rate));
    if (!m) throw new Error(`function ${fnName}: only rate(N unit) schedules are supported locally`);
    const unit = m[2].startsWith('minute') ? 60_000 : m[2].startsWith('hour') ? 3_600_000 : 86_400_000;
    return { type: 'schedule', everyMs: Number(m[1]) * unit, input: sch.input ?? {} };
  }
  if (e.s3) {
    const s = e.s3 as Obj;
    const rules = (s.rules ?? []) as Obj[];
    const prefix = rules.find((r) => r.prefix !== undefined)?.prefix;
    const suffix = rules.find((r) => r.suffix !== undefined)?.suffix;
    return {
      type: 's3',
      bucketName: String(s.bucket),
      event: String(s.event ?? 's3:ObjectCreated:*'),
      prefix: prefix === undefined ? undefined : String(prefix),
      suffix: suffix === undefined ? undefined : String(suffix),
    };
  }
  return undefined;
}

/** Maps CloudFormation references in values to what they are locally. */
class CfnRefs {
  constructor(
    private readonly names: Record<string, string>,
    private readonly fns: Map<string, FunctionDef>,
    private readonly endpoints: LocalEndpoints,
    private readonly resources: Obj,
  ) {}

  requireLogical(id: string): void {
    if (!(id in this.resources)) throw new Error(`serverless.yml: no resource ${id}`);
  }

  private typeOf(id: string): string {
    return String(((this.resources[id] ?? {}) as Obj).Type ?? '');
  }

  ref(id: string): string {
    if (id === 'AWS::Region') return LOCAL_REGION;
    if (id === 'AWS::AccountId') return LOCAL_ACCOUNT;
    const type = this.typeOf(id);
    const res = (this.resources[id] ?? {}) as Obj;
    const props = (res.Properties ?? {}) as Obj;
    switch (type) {
      case 'AWS::DynamoDB::Table':
        return this.names[id];
      case 'AWS::SQS::Queue':
        return `${this.endpoints.sqs.replace(/\/$/, '')}/${LOCAL_ACCOUNT}/${this.names[id]}`;
      case 'AWS::StepFunctions::StateMachine':
        return `arn:aws:states:${LOCAL_REGION}:${LOCAL_ACCOUNT}:stateMachine:${String(props.StateMachineName ?? id)}`;
      case 'AWS::KMS::Key':
        // Local mode encrypts with a local master key instead; the KMS key ID is not used.
        return '';
      case 'AWS::ECS::TaskDefinition':
        return `arn:aws:ecs:${LOCAL_REGION}:${LOCAL_ACCOUNT}:task-definition/${String(props.Family ?? id)}:1`;
      case 'AWS::Logs::LogGroup':
        return String(props.LogGroupName ?? id);
      default:
        if (this.fns.has(id)) return this.fns.get(id)!.fullName;
        return `local-${id}`;
    }
  }

  getAtt(id: string, attr: string): string {
    const fn = this.fns.get(id);
    if (fn && attr === 'Arn') return fn.arn;
    const type = this.typeOf(id);
    const props = (((this.resources[id] ?? {}) as Obj).Properties ?? {}) as Obj;
    if (type === 'AWS::SQS::Queue' && attr === 'Arn') return `arn:aws:sqs:${LOCAL_REGION}:${LOCAL_ACCOUNT}:${this.names[id]}`;
    if (type === 'AWS::DynamoDB::Table' && attr === 'Arn') return `arn:aws:dynamodb:${LOCAL_REGION}:${LOCAL_ACCOUNT}:table/${this.names[id]}`;
    if (type === 'AWS::ECS::Cluster' && attr === 'Arn') return `arn:aws:ecs:${LOCAL_REGION}:${LOCAL_ACCOUNT}:cluster/${String(props.ClusterName ?? id)}`;
    return `arn:local:${id}:${attr}`;
  }

  value(v: Json): string {
    if (v === null || typeof v !== 'object') return String(v);
    if (Array.isArray(v)) return v.map((x) => this.value(x)).join(',');
    if (typeof v.Ref === 'string') return this.ref(v.Ref);
    const att = v['Fn::GetAtt'] as Json[] | undefined;
    if (att) return this.getAtt(String(att[0]), String(att[1]));
    const join = v['Fn::Join'] as [string, Json[]] | undefined;
    if (join) return join[1].map((x) => this.value(x)).join(join[0]);
    const sub = v['Fn::Sub'];
    if (typeof sub === 'string') return sub.replace(/\$\{([^}]+)\}/g, (_, n: string) => this.ref(n));
    throw new Error(`serverless.yml: cannot resolve ${JSON.stringify(v)} locally`);
  }
}

/** The subset of Serverless Framework variables serverless.yml uses. */
class VariableResolver {
  constructor(
    private readonly raw: Obj,
    private readonly root: string,
    private readonly ctx: { stage: string; region: string },
  ) {}

  resolveAll(v: Json): Json {
    if (typeof v === 'string') return this.resolveString(v);
    if (Array.isArray(v)) return v.map((x) => this.resolveAll(x));
    if (v && typeof v === 'object') {
      const out: Obj = {};
      for (const [k, x] of Object.entries(v)) out[k] = this.resolveAll(x);
      return out;
    }
    return v;
  }

  private resolveString(s: string, depth = 0): Json {
    if (depth > 10) throw new Error(`serverless.yml: variable recursion in ${s}`);
    const whole = /^\$\{([^{}]+|[^{}]*\$\{[^{}]+\}[^{}]*)\}$/.exec(s);
    if (whole && findClose(s, 1) === s.length - 1) {
      const value = this.lookup(s.slice(2, -1), depth);
      if (value === s) return s;
      return typeof value === 'string' ? this.resolveString(value, depth + 1) : this.resolveAll(value);
    }
    let out = '';
    let i = 0;
    while (i < s.length) {
      const start = s.indexOf('${', i);
      if (start < 0) {
        out += s.slice(i);
        break;
      }
      const end = findClose(s, start + 1);
      out += s.slice(i, start);
      out += String(this.resolveString(s.slice(start, end + 1), depth + 1));
      i = end + 1;
    }
    return out;
  }

  private lookup(expr: string, depth: number): Json {
    // "source:address, 'default'" | "source:address, ${other}"
    const [head, ...rest] = splitTopLevel(expr);
    const fallback = rest.length ? rest.join(',').trim() : undefined;
    const value = this.source(head.trim(), depth);
    if (typeof value === 'string' && value === `\${${head.trim()}}`) return value;
    if (value !== undefined) return value;
    if (fallback === undefined) throw new Error(`serverless.yml: cannot resolve \${${expr}}`);
    const quoted = /^'(.*)'$|^"(.*)"$/.exec(fallback);
    if (quoted) return this.resolveString(quoted[1] ?? quoted[2], depth + 1);
    return this.resolveString(fallback, depth + 1);
  }

  private source(ref: string, depth: number): Json | undefined {
    if (ref.startsWith('self:')) {
      let cur: Json = this.raw;
      for (const part of ref.slice(5).split('.')) cur = (cur as Obj | undefined)?.[part] ?? (undefined as unknown as Json);
      return cur === undefined ? undefined : this.resolveAll(cur);
    }
    if (ref === 'opt:stage' || ref === 'sls:stage') return this.ctx.stage;
    if (ref === 'opt:region') return this.ctx.region;
    if (ref.startsWith('opt:')) return undefined;
    if (ref.startsWith('env:')) return process.env[ref.slice(4)];
    if (ref.startsWith('aws:accountId')) return LOCAL_ACCOUNT;
    const file = /^file\((.+)\):(\w+)$/.exec(ref);
    if (file) {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const mod = require(path.resolve(this.root, file[1])) as Record<string, unknown>;
      const x = mod[file[2]];
      return (typeof x === 'function' ? (x as () => Json)() : x) as Json;
    }
    if (/^[a-z]+:/.test(ref)) throw new Error(`serverless.yml: variable source not supported locally: ${ref} (depth ${depth})`);
    // Not a Serverless variable (e.g. CloudFormation's ${AWS::AccountId} in Fn::Sub): kept as written.
    return `\${${ref}}`;
  }
}

function findClose(s: string, openBraceIndex: number): number {
  let depth = 0;
  for (let i = openBraceIndex; i < s.length; i++) {
    if (s[i] === '{') depth++;
    else if (s[i] === '}' && --depth === 0) return i;
  }
  throw new Error(`serverless.yml: unbalanced braces in ${s}`);
}

function splitTopLevel(expr: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let quote: string | undefined;
  let cur = '';
  for (const ch of expr) {
    if (quote) {
      if (ch === quote) quote = undefined;
    } else if (ch === "'" || ch === '"') quote = ch;
    else if (ch === '{') depth++;
    else if (ch === '}') depth--;
    else if (ch === ',' && depth === 0) {
      parts.push(cur);
      cur = '';
      continue;
    }
    cur += ch;
  }
  parts.push(cur);
  return parts;
}
