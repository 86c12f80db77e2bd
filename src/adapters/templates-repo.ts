import {
  GetCommand,
  TransactWriteCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
  type TransactWriteCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { queryAll } from './dynamo-query';
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import type { TemplateKind, TemplateOf } from '../media/templates';
import {
  CUSTOM_DEFINITION_BASE,
  CUSTOM_TEMPLATE_LIMITS,
  MissingTemplateRefError,
  PROCEDURE_LIMIT,
  ProcedureExistsError,
  ProcedureNotFoundError,
  TemplateInUseError,
  TemplateLimitError,
  TemplateNotFoundError,
  refKey,
  type ProcedureRecord,
  type TemplateRef,
} from '../domain/templates';

/**
 * Custom templates and task-flow templates on the templates table, one partition per app (pk `APP#<SubAppId>`):
 *   custom template  sk `TPL#<Kind>#<Definition, 10 digits>`  tpl (the template), version, usedBy (string set of
 *                    the task-flow templates that refer to it; absent when none)
 *   sequence         sk `SEQ#<Kind>`    last: definitions handed out so far (only grows: never reused)
 *   live count       sk `COUNT#<Kind>`  live: custom templates of the kind that exist (the per-app limit)
 *   task-flow        sk `PROC#<Name>`   the ProcedureRecord, version
 *   live count       sk `COUNT#PROC`
 * Every write that touches a limit or a reference is one transaction with conditions, so limits hold and an
 * in-use template cannot be deleted whatever runs at the same time. Lost races (TransactionConflict, a version
 * changed) are retried.
 */
const pk = (subAppId: number) => `APP#${subAppId}`;
const tplSk = (kind: TemplateKind, definition: number) =>
  `TPL#${kind}#${String(definition).padStart(10, '0')}`;
const procSk = (name: string) => `PROC#${name}`;
const countSk = (what: TemplateKind | 'PROC') => `COUNT#${what}`;

type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

const reasons = (e: unknown): string[] | undefined =>
  e instanceof TransactionCanceledException || (e as Error)?.name === 'TransactionCanceledException'
    ? ((e as TransactionCanceledException).CancellationReasons ?? []).map((r) => r.Code ?? 'None')
    : undefined;

const isConflict = (e: unknown): boolean =>
  (e as Error)?.name === 'TransactionConflictException' ||
  (e as Error)?.name === 'ConditionalCheckFailedException' ||
  (reasons(e)?.includes('TransactionConflict') ?? false);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Thrown inside an attempt to ask for another attempt (a version moved on between read and write). */
class Retry extends Error {}

const MAX_ATTEMPTS = 40;

async function withRetry<T>(what: string, attempt: () => Promise<T>): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await attempt();
    } catch (e) {
      if (!(e instanceof Retry) && !isConflict(e)) throw e;
      if (i >= MAX_ATTEMPTS) throw new Error(`${what}: too much contention, gave up after ${i} attempts`);
      await sleep(Math.random() * Math.min(200, 5 * 2 ** Math.min(i, 6)));
    }
  }
}

export interface StoredTemplate<K extends TemplateKind> {
  template: TemplateOf<K>;
  usedBy: string[];
  version: number;
}

export interface StoredProcedure extends ProcedureRecord {
  version: number;
}

export class DynamoTemplatesRepository {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  // -- custom templates ---------------------------------------------------------------------------------------

  async getTemplate<K extends TemplateKind>(
    subAppId: number,
    kind: K,
    definition: number,
  ): Promise<StoredTemplate<K> | undefined> {
    if (!Number.isSafeInteger(definition) || definition < CUSTOM_DEFINITION_BASE) return undefined;
    const out = await this.doc.send(
      new GetCommand({
        TableName: this.table,
        Key: { pk: pk(subAppId), sk: tplSk(kind, definition) },
        ConsistentRead: true,
      }),
    );
    return out.Item ? toStoredTemplate<K>(out.Item) : undefined;
  }

  /** The app's custom templates of a kind, by Definition. */
  async listTemplates<K extends TemplateKind>(subAppId: number, kind: K): Promise<StoredTemplate<K>[]> {
    const items = await this.queryPrefix(subAppId, `TPL#${kind}#`);
    return items.map((i) => toStoredTemplate<K>(i));
  }

  /**
   * Allocates the next Definition of the kind (atomic, never reused) and stores the template `build` makes
   * with it, if the app has fewer than the kind's limit. Returns the Definition.
   */
  async createTemplate<K extends TemplateKind>(
    subAppId: number,
    kind: K,
    build: (definition: number) => TemplateOf<K>,
  ): Promise<number> {
    const limit = CUSTOM_TEMPLATE_LIMITS[kind];
    const current = await this.doc.send(
      new GetCommand({
        TableName: this.table,
        Key: { pk: pk(subAppId), sk: countSk(kind) },
        ConsistentRead: true,
      }),
    );
    // Refuse early when full, so a refused create does not consume a Definition (the transaction still decides).
    if (Number(current.Item?.live ?? 0) >= limit) throw new TemplateLimitError(limit);
    const seq = await this.doc.send(
      new UpdateCommand({
        TableName: this.table,
        Key: { pk: pk(subAppId), sk: `SEQ#${kind}` },
        UpdateExpression: 'ADD #last :one',
        ExpressionAttributeNames: { '#last': 'last' },
        ExpressionAttributeValues: { ':one': 1 },
        ReturnValues: 'UPDATED_NEW',
      }),
    );
    const definition = CUSTOM_DEFINITION_BASE + Number(seq.Attributes?.last) - 1;
    const template = build(definition);
    await withRetry('create template', async () => {
      try {
        await this.doc.send(
          new TransactWriteCommand({
            TransactItems: [
              this.countUp(subAppId, kind, limit),
              {
                Put: {
                  TableName: this.table,
                  Item: {
                    pk: pk(subAppId),
                    sk: tplSk(kind, definition),
                    kind,
                    definition,
                    tpl: template,
                    version: 1,
                  },
                  ConditionExpression: 'attribute_not_exists(pk)',
                },
              },
            ],
          }),
        );
      } catch (e) {
        if (reasons(e)?.[0] === 'ConditionalCheckFailed') throw new TemplateLimitError(limit);
        throw e;
      }
    });
    return definition;
  }

  /** Replaces a custom template by what `modify` makes of it (optimistic: retried if it changed meanwhile). */
  async updateTemplate<K extends TemplateKind>(
    subAppId: number,
    kind: K,
    definition: number,
    modify: (existing: TemplateOf<K>) => TemplateOf<K>,
  ): Promise<TemplateOf<K>> {
    return withRetry('modify template', async () => {
      const stored = await this.getTemplate(subAppId, kind, definition);
      if (!stored) throw new TemplateNotFoundError(`${kind} template ${definition}`);
      const next = modify(stored.template);
      await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: pk(subAppId), sk: tplSk(kind, definition) },
          UpdateExpression: 'SET tpl = :t, version = :next',
          ConditionExpression: 'version = :v',
          ExpressionAttributeValues: { ':t': next, ':v': stored.version, ':next': stored.version + 1 },
        }),
      );
      return next;
    });
  }

  /** Deletes a custom template unless a task-flow template refers to it. */
  async deleteTemplate(subAppId: number, kind: TemplateKind, definition: number): Promise<void> {
    if (!Number.isSafeInteger(definition) || definition < CUSTOM_DEFINITION_BASE) {
      throw new TemplateNotFoundError(`${kind} template ${definition}`);
    }
    await withRetry('delete template', async () => {
      try {
        await this.doc.send(
          new TransactWriteCommand({
            TransactItems: [
              {
                Delete: {
                  TableName: this.table,
                  Key: { pk: pk(subAppId), sk: tplSk(kind, definition) },
                  ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(usedBy)',
                },
              },
              this.countDown(subAppId, kind),
            ],
          }),
        );
      } catch (e) {
        if (reasons(e)?.[0] !== 'ConditionalCheckFailed') throw e;
        const stored = await this.getTemplate(subAppId, kind, definition);
        if (!stored) throw new TemplateNotFoundError(`${kind} template ${definition}`);
        if (stored.usedBy.length > 0) throw new TemplateInUseError(stored.usedBy);
        throw new Retry(); // it was in use a moment ago and no longer is
      }
    });
  }

  // -- task-flow templates ------------------------------------------------------------------------------------

  async getProcedure(subAppId: number, name: string): Promise<StoredProcedure | undefined> {
    const out = await this.doc.send(
      new GetCommand({
        TableName: this.table,
        Key: { pk: pk(subAppId), sk: procSk(name) },
        ConsistentRead: true,
      }),
    );
    return out.Item ? toStoredProcedure(out.Item) : undefined;
  }

  /** The app's task-flow templates, by name. */
  async listProcedures(subAppId: number): Promise<StoredProcedure[]> {
    return (await this.queryPrefix(subAppId, 'PROC#')).map(toStoredProcedure);
  }

  /**
   * Stores a new task-flow template, in one transaction with: the per-app limit, and a reference mark on every
   * custom template it refers to (each must exist).
   */
  async createProcedure(subAppId: number, rec: ProcedureRecord): Promise<void> {
    const refs = distinct(rec.refs);
    await withRetry('create task-flow template', async () => {
      try {
        await this.doc.send(
          new TransactWriteCommand({
            TransactItems: [
              {
                Put: {
                  TableName: this.table,
                  Item: this.procedureItem(subAppId, { ...rec, refs }, 1),
                  ConditionExpression: 'attribute_not_exists(pk)',
                },
              },
              this.countUp(subAppId, 'PROC', PROCEDURE_LIMIT),
              ...refs.map((r) => this.markRef(subAppId, r, rec.name, 'ADD')),
            ],
          }),
        );
      } catch (e) {
        const r = reasons(e);
        if (r?.[0] === 'ConditionalCheckFailed') throw new ProcedureExistsError(rec.name);
        if (r?.[1] === 'ConditionalCheckFailed') throw new TemplateLimitError(PROCEDURE_LIMIT);
        const missing = r?.findIndex((c, i) => i >= 2 && c === 'ConditionalCheckFailed') ?? -1;
        if (missing >= 2) throw new MissingTemplateRefError(refs[missing - 2]);
        throw e;
      }
    });
  }

  /** Replaces a task-flow template by what `reset` makes of it, moving the reference marks to match. */
  async resetProcedure(
    subAppId: number,
    name: string,
    reset: (existing: StoredProcedure) => ProcedureRecord,
  ): Promise<void> {
    await withRetry('reset task-flow template', async () => {
      const existing = await this.getProcedure(subAppId, name);
      if (!existing) throw new ProcedureNotFoundError(name);
      const next = reset(existing);
      const refs = distinct(next.refs);
      const before = new Set(existing.refs.map(refKey));
      const after = new Set(refs.map(refKey));
      const removed = existing.refs.filter((r) => !after.has(refKey(r)));
      const added = refs.filter((r) => !before.has(refKey(r)));
      const items: TransactItem[] = [
        {
          Put: {
            TableName: this.table,
            Item: this.procedureItem(subAppId, { ...next, name, refs }, existing.version + 1),
            ConditionExpression: 'version = :v',
            ExpressionAttributeValues: { ':v': existing.version },
          },
        },
        ...added.map((r) => this.markRef(subAppId, r, name, 'ADD')),
        ...removed.map((r) => this.markRef(subAppId, r, name, 'DELETE')),
      ];
      try {
        await this.doc.send(new TransactWriteCommand({ TransactItems: items }));
      } catch (e) {
        const r = reasons(e);
        if (r?.[0] === 'ConditionalCheckFailed') throw new Retry();
        const missing =
          r?.findIndex((c, i) => i >= 1 && i <= added.length && c === 'ConditionalCheckFailed') ?? -1;
        if (missing >= 1) throw new MissingTemplateRefError(added[missing - 1]);
        throw e;
      }
    });
  }

  /** Deletes a task-flow template and its reference marks. */
  async deleteProcedure(subAppId: number, name: string): Promise<void> {
    await withRetry('delete task-flow template', async () => {
      const existing = await this.getProcedure(subAppId, name);
      if (!existing) throw new ProcedureNotFoundError(name);
      try {
        await this.doc.send(
          new TransactWriteCommand({
            TransactItems: [
              {
                Delete: {
                  TableName: this.table,
                  Key: { pk: pk(subAppId), sk: procSk(name) },
                  ConditionExpression: 'version = :v',
                  ExpressionAttributeValues: { ':v': existing.version },
                },
              },
              this.countDown(subAppId, 'PROC'),
              ...existing.refs.map((r) => this.markRef(subAppId, r, name, 'DELETE')),
            ],
          }),
        );
      } catch (e) {
        if (reasons(e)?.[0] === 'ConditionalCheckFailed') throw new Retry();
        throw e;
      }
    });
  }

  // -- helpers ------------------------------------------------------------------------------------------------

  private procedureItem(subAppId: number, rec: ProcedureRecord, version: number): Record<string, unknown> {
    return { pk: pk(subAppId), sk: procSk(rec.name), ...rec, version };
  }

  /** Adds or removes a task-flow template's name in a custom template's usedBy set; the template must exist. */
  private markRef(subAppId: number, ref: TemplateRef, name: string, op: 'ADD' | 'DELETE'): TransactItem {
    return {
      Update: {
        TableName: this.table,
        Key: { pk: pk(subAppId), sk: tplSk(ref.kind, ref.definition) },
        UpdateExpression: `${op} usedBy :n`,
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeValues: { ':n': new Set([name]) },
      },
    };
  }

  /** Takes one of an app's `limit` places of a kind (transaction item; fails its condition when full). */
  private countUp(subAppId: number, counter: TemplateKind | 'PROC', limit: number) {
    return {
      Update: {
        TableName: this.table,
        Key: { pk: pk(subAppId), sk: countSk(counter) },
        UpdateExpression: 'ADD live :one',
        ConditionExpression: 'attribute_not_exists(live) OR live < :limit',
        ExpressionAttributeValues: { ':one': 1, ':limit': limit },
      },
    };
  }

  /** Gives one place of a kind back (transaction item). */
  private countDown(subAppId: number, counter: TemplateKind | 'PROC') {
    return {
      Update: {
        TableName: this.table,
        Key: { pk: pk(subAppId), sk: countSk(counter) },
        UpdateExpression: 'ADD live :minus',
        ExpressionAttributeValues: { ':minus': -1 },
      },
    };
  }

  private async queryPrefix(subAppId: number, prefix: string): Promise<Record<string, unknown>[]> {
    return queryAll(this.doc, {
      TableName: this.table,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :p)',
      ExpressionAttributeValues: { ':pk': pk(subAppId), ':p': prefix },
      ConsistentRead: true,
    });
  }
}

function distinct(refs: TemplateRef[]): TemplateRef[] {
  const seen = new Map<string, TemplateRef>();
  for (const r of refs)
    if (!seen.has(refKey(r))) seen.set(refKey(r), { kind: r.kind, definition: r.definition });
  return [...seen.values()];
}

function toStoredTemplate<K extends TemplateKind>(item: Record<string, unknown>): StoredTemplate<K> {
  const usedBy = item.usedBy instanceof Set ? [...(item.usedBy as Set<string>)].sort() : [];
  return { template: item.tpl as TemplateOf<K>, usedBy, version: Number(item.version ?? 1) };
}

function toStoredProcedure(item: Record<string, unknown>): StoredProcedure {
  return {
    name: String(item.name),
    comment: String(item.comment ?? ''),
    mediaProcessTask: item.mediaProcessTask as ProcedureRecord['mediaProcessTask'],
    ai: (item.ai as ProcedureRecord['ai']) ?? {},
    refs: ((item.refs as TemplateRef[] | undefined) ?? []).map((r) => ({
      kind: r.kind,
      definition: Number(r.definition),
    })),
    createTime: String(item.createTime),
    updateTime: String(item.updateTime),
    version: Number(item.version ?? 1),
  };
}
