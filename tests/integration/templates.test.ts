/**
 * Custom templates and task-flow templates on real DynamoDB Local, through the services the API actions call:
 * Definitions allocated under concurrency (distinct, above every preset, never reused), per-app limits under
 * concurrency, app isolation, immutable presets, reference integrity between task-flow templates and custom
 * templates (also racing), Describe filters and paging, and starting a task flow by name from snapshots.
 */
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoTemplatesRepository } from '../../src/adapters/templates-repo';
import { DynamoTaskStore } from '../../src/adapters/task-store';
import { DynamoMediaRepository } from '../../src/adapters/media-repo';
import { ApiError } from '../../src/domain/errors';
import { CUSTOM_DEFINITION_BASE } from '../../src/domain/templates';
import { PRESETS, isPresetDefinition, type TranscodeTemplate } from '../../src/media/templates';
import {
  AppTemplateCatalog,
  createTemplate,
  deleteTemplate,
  describeTemplates,
  modifyTemplate,
} from '../../src/services/templates';
import {
  createProcedureTemplate,
  deleteProcedureTemplate,
  describeProcedureTemplates,
  processMediaByProcedure,
  resetProcedureTemplate,
  startProcedure,
  type ProcedureDeps,
} from '../../src/services/procedures';
import { processMedia } from '../../src/services/submit';
import { startDynamoWithTables } from '../helpers/dynamo';

let stop: () => Promise<void>;
let doc: DynamoDBDocumentClient;
let deps: ProcedureDeps;
let kicks = 0;

const TRANSCODE = {
  Container: 'mp4',
  VideoTemplate: { Codec: 'libx264', Fps: 25, Bitrate: 500, Height: 360 },
  AudioTemplate: { Codec: 'libfdk_aac', Bitrate: 64, SampleRate: 44100, AudioChannel: 2 },
};
const SAMPLE = { SampleType: 'Time', SampleInterval: 2, Format: 'png' };

let nextApp = 1_300_000_000;
const newApp = () => nextApp++;

async function refused(p: Promise<unknown>): Promise<ApiError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof ApiError) return e;
    throw e;
  }
  throw new Error('expected an ApiError');
}

beforeAll(async () => {
  const db = await startDynamoWithTables(
    { TemplatesTable: 'templates', TasksTable: 'tasks', MediaTable: 'media' },
    'openvod-templates-',
  );
  stop = db.stop;
  doc = db.doc;
  const templates = new DynamoTemplatesRepository(doc, 'templates');
  deps = {
    templates,
    tasks: new DynamoTaskStore(doc, 'tasks'),
    media: new DynamoMediaRepository(doc, 'media'),
    catalog: new AppTemplateCatalog(templates),
    intake: {
      kick: async () => {
        kicks++;
      },
    },
    urlPolicy: { allowLoopback: true },
    bucket: 'media',
    clock: Date.now,
  };
}, 60_000);

afterAll(async () => {
  await stop?.();
});

async function addMedia(subAppId: number, fileId: string, key = `uploads/${subAppId}/${fileId}.mp4`) {
  const now = new Date().toISOString();
  await deps.media.put({
    fileId,
    subAppId,
    status: 'READY',
    name: fileId,
    bucket: 'media',
    key,
    createTime: now,
    updateTime: now,
  });
}

const createTranscode = (app: number, extra: object = {}) =>
  createTemplate(deps, app, 'Transcode', { ...TRANSCODE, ...extra }).then((r) => r.Definition);

test('30 concurrent creates get 30 distinct Definitions above every preset; a deleted one is never handed out again', async () => {
  const app = newApp();
  const defs = await Promise.all(
    Array.from({ length: 30 }, (_, i) => createTranscode(app, { Name: `t${i}` })),
  );
  expect(new Set(defs).size).toBe(30);
  const maxPreset = Math.max(...Object.values(PRESETS).flatMap((ts) => ts.map((t) => Number(t.Definition))));
  for (const d of defs) {
    expect(d).toBeGreaterThan(maxPreset);
    expect(d).toBeGreaterThanOrEqual(CUSTOM_DEFINITION_BASE);
    expect(isPresetDefinition('Transcode', d)).toBe(false);
  }
  const listed = await describeTemplates(deps, app, 'Transcode', { Type: 'Custom', Limit: 100 });
  expect(listed.TotalCount).toBe(30);
  const set = listed.TranscodeTemplateSet as TranscodeTemplate[];
  expect(set.map((t) => Number(t.Definition))).toEqual([...defs].sort((a, b) => a - b));
  expect(set.map((t) => t.Name).sort()).toEqual(defs.map((_, i) => `t${i}`).sort());
  expect(set.every((t) => t.Type === 'Custom' && typeof t.Definition === 'string')).toBe(true);
  expect(set[0].CreateTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);

  // Delete the newest and another; new creates continue above every Definition ever handed out.
  const highest = Math.max(...defs);
  await deleteTemplate(deps, app, 'Transcode', { Definition: highest });
  await deleteTemplate(deps, app, 'Transcode', { Definition: defs[3] });
  const again = await Promise.all([createTranscode(app), createTranscode(app)]);
  for (const d of again) {
    expect(d).toBeGreaterThan(highest);
    expect(defs).not.toContain(d);
  }
  expect((await describeTemplates(deps, app, 'Transcode', { Type: 'Custom', Limit: 100 })).TotalCount).toBe(
    30,
  );
  // A deleted Definition is gone: Describe, Modify and Delete say so.
  expect((await describeTemplates(deps, app, 'Transcode', { Definitions: [highest] })).TotalCount).toBe(0);
  expect((await refused(deleteTemplate(deps, app, 'Transcode', { Definition: highest }))).code).toBe(
    'ResourceNotFound.TemplateNotExist',
  );
  expect(
    (await refused(modifyTemplate(deps, app, 'Transcode', { Definition: highest, Name: 'x' }))).code,
  ).toBe('ResourceNotFound.TemplateNotExist');
}, 120_000);

test('the per-app limit holds under concurrency (16 sample-snapshot templates, 50 task-flow templates)', async () => {
  const app = newApp();
  const outcomes = await Promise.allSettled(
    Array.from({ length: 24 }, () => createTemplate(deps, app, 'SampleSnapshot', SAMPLE)),
  );
  const ok = outcomes.filter((o) => o.status === 'fulfilled');
  const no = outcomes.filter((o) => o.status === 'rejected') as PromiseRejectedResult[];
  expect(ok).toHaveLength(16);
  expect(no).toHaveLength(8);
  for (const r of no) {
    expect((r.reason as ApiError).code).toBe('LimitExceeded.TooMuchTemplate');
    expect((r.reason as ApiError).message).toMatch(/at most 16/);
  }
  const listed = await describeTemplates(deps, app, 'SampleSnapshot', { Type: 'Custom', Limit: 100 });
  expect(listed.TotalCount).toBe(16);
  // Full: refused; one deleted: a create passes again.
  expect((await refused(createTemplate(deps, app, 'SampleSnapshot', SAMPLE))).code).toBe(
    'LimitExceeded.TooMuchTemplate',
  );
  const first = (listed.SampleSnapshotTemplateSet as Array<{ Definition: number }>)[0].Definition;
  await deleteTemplate(deps, app, 'SampleSnapshot', { Definition: first });
  const { Definition } = await createTemplate(deps, app, 'SampleSnapshot', SAMPLE);
  expect(Definition).toBeGreaterThan(first);

  const procs = await Promise.allSettled(
    Array.from({ length: 56 }, (_, i) =>
      createProcedureTemplate(deps, app, {
        Name: `flow-${i}`,
        MediaProcessTask: { TranscodeTaskSet: [{ Definition: 100010 }] },
      }),
    ),
  );
  expect(procs.filter((o) => o.status === 'fulfilled')).toHaveLength(50);
  const procRefusals = procs.filter((o) => o.status === 'rejected') as PromiseRejectedResult[];
  expect(procRefusals.map((r) => (r.reason as ApiError).code)).toEqual(
    Array(6).fill('LimitExceeded.TooMuchTemplate'),
  );
  expect((await describeProcedureTemplates(deps, app, { Limit: 100 })).TotalCount).toBe(50);
}, 180_000);

test('apps are isolated: app B cannot see, change, delete or use app A’s templates and task flows', async () => {
  const a = newApp();
  const b = newApp();
  const defA = await createTranscode(a, { Name: 'A-only' });
  await createProcedureTemplate(deps, a, {
    Name: 'flowA',
    MediaProcessTask: { TranscodeTaskSet: [{ Definition: defA }] },
  });
  await addMedia(a, 'media-a');
  await addMedia(b, 'media-b');

  expect((await describeTemplates(deps, b, 'Transcode', { Type: 'Custom' })).TotalCount).toBe(0);
  expect((await describeTemplates(deps, b, 'Transcode', { Definitions: [defA] })).TotalCount).toBe(0);
  expect(
    (await refused(modifyTemplate(deps, b, 'Transcode', { Definition: defA, Name: 'stolen' }))).code,
  ).toBe('ResourceNotFound.TemplateNotExist');
  expect((await refused(deleteTemplate(deps, b, 'Transcode', { Definition: defA }))).code).toBe(
    'ResourceNotFound.TemplateNotExist',
  );
  const pm = await refused(
    processMedia(deps, b, {
      FileId: 'media-b',
      MediaProcessTask: { TranscodeTaskSet: [{ Definition: defA }] },
    }),
  );
  expect([pm.code, pm.message]).toEqual([
    'InvalidParameterValue.Definition',
    `MediaProcessTask.TranscodeTaskSet.0.Definition: there is no Transcode template ${defA}.`,
  ]);
  const proc = await refused(
    createProcedureTemplate(deps, b, {
      Name: 'flowB',
      MediaProcessTask: { TranscodeTaskSet: [{ Definition: defA }] },
    }),
  );
  expect(proc.code).toBe('InvalidParameterValue.Definition');
  expect(proc.message).toContain('MediaProcessTask.TranscodeTaskSet.0.Definition');
  expect((await describeProcedureTemplates(deps, b, {})).TotalCount).toBe(0);
  expect(
    (await refused(processMediaByProcedure(deps, b, { ProcedureName: 'flowA', FileId: 'media-b' }))).code,
  ).toBe('InvalidParameterValue.ProcedureName');
  expect((await refused(deleteProcedureTemplate(deps, b, { Name: 'flowA' }))).code).toBe(
    'InvalidParameterValue.Name',
  );
  expect((await refused(resetProcedureTemplate(deps, b, { Name: 'flowA', Comment: 'x' }))).code).toBe(
    'InvalidParameterValue.Name',
  );
  // A's task flow cannot run on B's media either.
  expect(
    (await refused(processMediaByProcedure(deps, a, { ProcedureName: 'flowA', FileId: 'media-b' }))).code,
  ).toBe('InvalidParameterValue.FileId');
  // Definitions are per app: B's first custom template may carry the same number, and stays B's own.
  const defB = await createTranscode(b, { Name: 'B-only' });
  expect(defB).toBe(defA);
  const seenByA = (await describeTemplates(deps, a, 'Transcode', { Definitions: [defA] }))
    .TranscodeTemplateSet as TranscodeTemplate[];
  expect(seenByA.map((t) => t.Name)).toEqual(['A-only']);
  // A's template is still in use by A's flow, whatever B does.
  expect((await refused(deleteTemplate(deps, a, 'Transcode', { Definition: defA }))).message).toContain(
    '"flowA"',
  );
  await deleteTemplate(deps, b, 'Transcode', { Definition: defB });
}, 60_000);

test('presets cannot be modified or deleted', async () => {
  const app = newApp();
  for (const [kind, definition] of [
    ['Transcode', 100010],
    ['SampleSnapshot', 10],
    ['SnapshotByTimeOffset', 10],
    ['ImageSprite', 10],
    ['AdaptiveDynamicStreaming', 10],
    ['AnimatedGraphics', 20000],
  ] as const) {
    const m = await refused(modifyTemplate(deps, app, kind, { Definition: definition, Name: 'mine' }));
    expect([m.code, /preset/.test(m.message)]).toEqual(['InvalidParameterValue.Definition', true]);
    const d = await refused(deleteTemplate(deps, app, kind, { Definition: definition }));
    expect([d.code, /preset/.test(d.message)]).toEqual(['InvalidParameterValue.Definition', true]);
  }
  const preset = (await describeTemplates(deps, app, 'Transcode', { Definitions: [100010] }))
    .TranscodeTemplateSet as TranscodeTemplate[];
  expect(preset.map((t) => [t.Type, t.VideoTemplate?.Bitrate, t.Name])).toEqual([
    ['Preset', 400, 'STD-H264-MP4-360P'],
  ]);
});

test('a template used by a task-flow template cannot be deleted (the error names them); references are checked when saved', async () => {
  const app = newApp();
  const t1 = await createTranscode(app);
  const s1 = (await createTemplate(deps, app, 'SampleSnapshot', SAMPLE)).Definition;
  const unknown = t1 + 1000;

  const missing = await refused(
    createProcedureTemplate(deps, app, {
      Name: 'broken',
      MediaProcessTask: {
        TranscodeTaskSet: [{ Definition: 100010 }, { Definition: t1 }, { Definition: unknown }],
      },
    }),
  );
  expect(missing.code).toBe('InvalidParameterValue.Definition');
  expect(missing.message).toContain(
    `MediaProcessTask.TranscodeTaskSet.2.Definition: there is no transcode template ${unknown}`,
  );
  const low = await refused(
    createProcedureTemplate(deps, app, {
      Name: 'broken',
      MediaProcessTask: { SampleSnapshotTaskSet: [{ Definition: 11 }] },
    }),
  );
  expect(low.message).toContain('MediaProcessTask.SampleSnapshotTaskSet.0.Definition');
  // A refused save leaves nothing behind: t1 is not marked in use.
  expect((await describeProcedureTemplates(deps, app, {})).TotalCount).toBe(0);

  await createProcedureTemplate(deps, app, {
    Name: 'flow-one',
    Comment: 'first',
    MediaProcessTask: {
      TranscodeTaskSet: [{ Definition: 100010 }, { Definition: t1 }],
      SampleSnapshotTaskSet: [{ Definition: s1 }],
    },
  });
  await createProcedureTemplate(deps, app, {
    Name: '任务流二',
    MediaProcessTask: { TranscodeTaskSet: [{ Definition: t1 }] },
  });
  const dup = await refused(
    createProcedureTemplate(deps, app, {
      Name: 'flow-one',
      MediaProcessTask: { TranscodeTaskSet: [{ Definition: 100010 }] },
    }),
  );
  expect([dup.code, /already exists/.test(dup.message)]).toEqual(['InvalidParameterValue.Name', true]);
  expect(
    (
      await refused(
        createProcedureTemplate(deps, app, {
          Name: 'x'.repeat(21),
          MediaProcessTask: { TranscodeTaskSet: [{ Definition: 100010 }] },
        }),
      )
    ).code,
  ).toBe('InvalidParameterValue.Name');
  await createProcedureTemplate(deps, app, {
    Name: '二'.repeat(20),
    MediaProcessTask: { TranscodeTaskSet: [{ Definition: 100010 }] },
  });

  const inUse = await refused(deleteTemplate(deps, app, 'Transcode', { Definition: t1 }));
  expect(inUse.code).toBe('FailedOperation');
  expect(inUse.message).toContain('"flow-one"');
  expect(inUse.message).toContain('"任务流二"');
  expect((await refused(deleteTemplate(deps, app, 'SampleSnapshot', { Definition: s1 }))).message).toContain(
    '"flow-one"',
  );

  // Modify stays allowed while in use.
  await modifyTemplate(deps, app, 'Transcode', { Definition: t1, Comment: 'still usable' });

  await deleteProcedureTemplate(deps, app, { Name: '任务流二' });
  const onlyOne = await refused(deleteTemplate(deps, app, 'Transcode', { Definition: t1 }));
  expect(onlyOne.message).toContain('"flow-one"');
  expect(onlyOne.message).not.toContain('任务流二');

  // Reset to a content without t1 and s1 frees them; a reset referring to a missing template is refused whole.
  const badReset = await refused(
    resetProcedureTemplate(deps, app, {
      Name: 'flow-one',
      MediaProcessTask: { TranscodeTaskSet: [{ Definition: unknown }] },
    }),
  );
  expect(badReset.message).toContain('MediaProcessTask.TranscodeTaskSet.0.Definition');
  expect((await refused(deleteTemplate(deps, app, 'Transcode', { Definition: t1 }))).code).toBe(
    'FailedOperation',
  );
  await resetProcedureTemplate(deps, app, {
    Name: 'flow-one',
    MediaProcessTask: { TranscodeTaskSet: [{ Definition: 100020 }] },
  });
  const [flow] = (await describeProcedureTemplates(deps, app, { Names: ['flow-one'] })).ProcedureTemplateSet;
  expect(flow).toMatchObject({
    Name: 'flow-one',
    Type: 'Custom',
    Comment: 'first',
    MediaProcessTask: { TranscodeTaskSet: [{ Definition: 100020 }] },
  });
  await deleteTemplate(deps, app, 'Transcode', { Definition: t1 });
  await deleteTemplate(deps, app, 'SampleSnapshot', { Definition: s1 });
  expect((await refused(deleteProcedureTemplate(deps, app, { Name: 'nope' }))).code).toBe(
    'InvalidParameterValue.Name',
  );
}, 60_000);

test('racing a template delete against task-flow saves that use it: never both', async () => {
  const app = newApp();
  for (let round = 0; round < 8; round++) {
    const def = await createTranscode(app);
    const name = `race-${round}`;
    const [del, save] = await Promise.allSettled([
      deleteTemplate(deps, app, 'Transcode', { Definition: def }),
      createProcedureTemplate(deps, app, {
        Name: name,
        MediaProcessTask: { TranscodeTaskSet: [{ Definition: def }] },
      }),
    ]);
    expect([del.status, save.status].filter((s) => s === 'fulfilled')).toHaveLength(1);
    const exists = (await describeTemplates(deps, app, 'Transcode', { Definitions: [def] })).TotalCount === 1;
    const saved = (await describeProcedureTemplates(deps, app, { Names: [name] })).TotalCount === 1;
    expect([exists, saved]).toEqual(save.status === 'fulfilled' ? [true, true] : [false, false]);
    if (saved) {
      await deleteProcedureTemplate(deps, app, { Name: name });
      await deleteTemplate(deps, app, 'Transcode', { Definition: def });
    }
  }
}, 120_000);

test('Describe…Templates: presets first then customs by Definition, Type/Definitions/ContainerType filters, paging, TotalCount', async () => {
  const app = newApp();
  const c1 = await createTranscode(app, { Name: 'video' });
  const c2 = Number(
    (
      await createTemplate(deps, app, 'Transcode', {
        Container: 'mp3',
        AudioTemplate: { Codec: 'libmp3lame', Bitrate: 128, SampleRate: 44100 },
      })
    ).Definition,
  );
  const presets = PRESETS.Transcode.map((t) => Number(t.Definition));
  const all = await describeTemplates(deps, app, 'Transcode', { Limit: 100 });
  const defs = (all.TranscodeTemplateSet as TranscodeTemplate[]).map((t) => Number(t.Definition));
  expect(all.TotalCount).toBe(presets.length + 2);
  expect(defs).toEqual([...presets, c1, c2]);
  // Tencent's default page is 10.
  expect((await describeTemplates(deps, app, 'Transcode', {})).TranscodeTemplateSet).toHaveLength(10);
  const page = await describeTemplates(deps, app, 'Transcode', { Offset: presets.length - 1, Limit: 2 });
  expect([
    page.TotalCount,
    (page.TranscodeTemplateSet as TranscodeTemplate[]).map((t) => Number(t.Definition)),
  ]).toEqual([presets.length + 2, [presets[presets.length - 1], c1]]);
  expect((await describeTemplates(deps, app, 'Transcode', { Offset: 500 })).TranscodeTemplateSet).toEqual([]);
  const mixed = await describeTemplates(deps, app, 'Transcode', { Definitions: [c2, 100010, 4242] });
  expect((mixed.TranscodeTemplateSet as TranscodeTemplate[]).map((t) => Number(t.Definition))).toEqual([
    100010,
    c2,
  ]);
  expect((await describeTemplates(deps, app, 'Transcode', { Type: 'Preset' })).TotalCount).toBe(
    presets.length,
  );
  const audio = await describeTemplates(deps, app, 'Transcode', { ContainerType: 'PureAudio', Limit: 100 });
  expect(
    (audio.TranscodeTemplateSet as TranscodeTemplate[]).every((t) => t.ContainerType === 'PureAudio'),
  ).toBe(true);
  expect((audio.TranscodeTemplateSet as TranscodeTemplate[]).map((t) => Number(t.Definition))).toContain(c2);
  expect(
    (await describeTemplates(deps, app, 'Transcode', { Type: 'Custom', ContainerType: 'Video' })).TotalCount,
  ).toBe(1);
  expect((await describeTemplates(deps, app, 'Transcode', { TEHDType: 'TEHD' })).TotalCount).toBe(0);
  expect(
    (await describeTemplates(deps, app, 'Transcode', { EnhanceType: 'None', Type: 'Custom' })).TotalCount,
  ).toBe(2);
  // Other kinds have no ContainerType; bad values name the field.
  expect(
    (await refused(describeTemplates(deps, app, 'SampleSnapshot', { ContainerType: 'Video' }))).code,
  ).toBe('InvalidParameter');
  expect((await refused(describeTemplates(deps, app, 'Transcode', { Limit: 101 }))).code).toBe(
    'InvalidParameterValue.Limit',
  );
  expect((await refused(describeTemplates(deps, app, 'Transcode', { Type: 'Mine' }))).code).toBe(
    'InvalidParameterValue.Type',
  );
  expect((await refused(describeTemplates(deps, app, 'Transcode', { Offset: -1 }))).code).toBe(
    'InvalidParameterValue.Offset',
  );
  // Every kind lists its presets.
  expect(
    (await describeTemplates(deps, app, 'AnimatedGraphics', {})).AnimatedGraphicsTemplateSet,
  ).toHaveLength(2);
  expect(
    (await describeTemplates(deps, app, 'AdaptiveDynamicStreaming', { Type: 'Preset' })).TotalCount,
  ).toBe(1);
}, 60_000);

test('task-flow templates: CRUD, Describe filters, AI fields stored as given, and a started flow runs from snapshots', async () => {
  const app = newApp();
  const t = await createTranscode(app, { Name: 'custom-360' });
  const s = (await createTemplate(deps, app, 'SampleSnapshot', SAMPLE)).Definition;
  await createProcedureTemplate(deps, app, {
    Name: 'media-flow',
    Comment: 'transcode + snapshots',
    MediaProcessTask: {
      TranscodeTaskSet: [{ Definition: t }, { Definition: 100010 }],
      SampleSnapshotTaskSet: [{ Definition: s }],
      ImageSpriteTaskSet: [{ Definition: 10 }],
    },
  });
  await createProcedureTemplate(deps, app, {
    Name: 'ai-flow',
    MediaProcessTask: { TranscodeTaskSet: [{ Definition: 100010 }] },
    AiAnalysisTask: { Definition: 10 },
    AiRecognitionTaskSet: [{ Definition: 10 }],
    ReviewAudioVideoTask: { Definition: 10, ReviewContents: ['Media'] },
  });
  await createProcedureTemplate(deps, app, { Name: 'ai-only', AiContentReviewTask: { Definition: 10 } });
  expect((await refused(createProcedureTemplate(deps, app, { Name: 'empty' }))).code).toBe(
    'MissingParameter',
  );
  expect(
    (
      await refused(
        createProcedureTemplate(deps, app, { Name: 'bad-ai', AiAnalysisTask: { Definition: 'ten' } }),
      )
    ).code,
  ).toBe('InvalidParameter');
  expect(
    (await refused(createProcedureTemplate(deps, app, { Name: 'bad-ai', MiniProgramPublishTask: {} }))).code,
  ).toBe('InvalidParameter');

  const all = await describeProcedureTemplates(deps, app, {});
  expect(all.TotalCount).toBe(3);
  expect(all.ProcedureTemplateSet.map((p) => p.Name)).toEqual(['ai-flow', 'ai-only', 'media-flow']);
  const ai = all.ProcedureTemplateSet[0];
  expect(ai).toMatchObject({
    AiAnalysisTask: { Definition: 10 },
    AiRecognitionTaskSet: [{ Definition: 10 }],
    ReviewAudioVideoTask: { Definition: 10, ReviewContents: ['Media'] },
    AiContentReviewTask: null,
  });
  expect((await describeProcedureTemplates(deps, app, { Type: 'Preset' })).TotalCount).toBe(0);
  expect(
    (
      await describeProcedureTemplates(deps, app, { Type: 'Custom', Names: ['media-flow', 'nope'] })
    ).ProcedureTemplateSet.map((p) => p.Name),
  ).toEqual(['media-flow']);
  const paged = await describeProcedureTemplates(deps, app, { Offset: 1, Limit: 1 });
  expect([paged.TotalCount, paged.ProcedureTemplateSet.map((p) => p.Name)]).toEqual([3, ['ai-only']]);
  const byTime = await describeProcedureTemplates(deps, app, {
    SortBy: [{ Field: 'CreateTime', Order: 'Desc' }],
  });
  expect(byTime.ProcedureTemplateSet).toHaveLength(3);

  // AI task flows cannot run yet: refused by name, no task stored.
  await addMedia(app, 'clip');
  const aiRun = await refused(
    processMediaByProcedure(deps, app, { ProcedureName: 'ai-flow', FileId: 'clip' }),
  );
  expect([aiRun.code, /AiAnalysisTask/.test(aiRun.message)]).toEqual(['UnsupportedOperation', true]);
  expect(
    (await refused(processMediaByProcedure(deps, app, { ProcedureName: 'ai-only', FileId: 'clip' }))).code,
  ).toBe('UnsupportedOperation');
  expect((await refused(processMediaByProcedure(deps, app, { ProcedureName: 'media-flow' }))).code).toBe(
    'MissingParameter',
  );
  expect((await refused(startProcedure(deps, app, { procedureName: 'nope', fileId: 'clip' }))).code).toBe(
    'InvalidParameterValue.ProcedureName',
  );

  // Start by MediaStoragePath, with a SessionId (7-day window).
  await addMedia(app, 'stored', `uploads/${app}/holiday.mp4`);
  const kicksBefore = kicks;
  const run = await processMediaByProcedure(deps, app, {
    ProcedureName: 'media-flow',
    MediaStoragePath: `/uploads/${app}/holiday.mp4`,
    SessionId: 'once',
    SessionContext: 'ctx',
    TasksPriority: 3,
    TasksNotifyMode: 'Change',
  });
  expect(run).toEqual({
    TaskId: expect.stringMatching(/procedurev2/),
    ReviewAudioVideoTaskId: '',
    ImportMediaKnowledgeTaskIdSet: [],
  });
  expect(kicks).toBe(kicksBefore + 1);
  const stored = await deps.tasks.get(run.TaskId);
  expect(stored?.task).toMatchObject({
    fileId: 'stored',
    status: 'WAITING',
    taskType: 'Procedure',
    priority: 3,
    notifyMode: 'Change',
    sessionContext: 'ctx',
  });
  expect(stored?.subtasks.map((x) => [x.kind, x.input.Definition])).toEqual([
    ['Transcode', t],
    ['Transcode', 100010],
    ['SampleSnapshot', s],
    ['ImageSprites', 10],
  ]);
  expect(stored?.subtasks[0].template).toMatchObject({
    Name: 'custom-360',
    Type: 'Custom',
    Definition: String(t),
  });
  const session = await doc.send(
    new GetCommand({ TableName: 'tasks', Key: { pk: `SESSION#${app}#once`, sk: '#SESSION' } }),
  );
  const window = Number(session.Item?.expiresAt) - Math.floor(Date.now() / 1000);
  expect(window).toBeGreaterThan(7 * 24 * 3600 - 120);
  expect(window).toBeLessThanOrEqual(7 * 24 * 3600);
  const again = await refused(
    processMediaByProcedure(deps, app, { ProcedureName: 'media-flow', FileId: 'stored', SessionId: 'once' }),
  );
  expect([again.code, again.message.includes(run.TaskId)]).toEqual(['InvalidParameterValue.SessionId', true]);
  expect(
    (
      await refused(
        processMediaByProcedure(deps, app, {
          ProcedureName: 'media-flow',
          MediaStoragePath: '/uploads/elsewhere.mp4',
        }),
      )
    ).code,
  ).toBe('InvalidParameterValue.MediaStoragePath');
  expect(
    (
      await refused(
        processMediaByProcedure(deps, app, {
          ProcedureName: 'media-flow',
          MediaStoragePath: `/uploads/${app}/holiday.mp4`,
          FileId: 'stored',
        }),
      )
    ).code,
  ).toBe('InvalidParameter');

  // The submitted task keeps its snapshot whatever happens to the templates afterwards.
  await modifyTemplate(deps, app, 'Transcode', {
    Definition: t,
    Name: 'renamed',
    VideoTemplate: { Bitrate: 900 },
  });
  await resetProcedureTemplate(deps, app, {
    Name: 'media-flow',
    MediaProcessTask: { TranscodeTaskSet: [{ Definition: 100020 }] },
  });
  await deleteTemplate(deps, app, 'Transcode', { Definition: t });
  await deleteProcedureTemplate(deps, app, { Name: 'media-flow' });
  const after = await deps.tasks.get(run.TaskId);
  expect(after?.subtasks[0].template).toMatchObject({ Name: 'custom-360', VideoTemplate: { Bitrate: 500 } });
  expect(
    (await refused(processMediaByProcedure(deps, app, { ProcedureName: 'media-flow', FileId: 'stored' })))
      .code,
  ).toBe('InvalidParameterValue.ProcedureName');
  // A ProcessMedia naming the deleted template is refused at once.
  expect(
    (
      await refused(
        processMedia(deps, app, {
          FileId: 'stored',
          MediaProcessTask: { TranscodeTaskSet: [{ Definition: t }] },
        }),
      )
    ).code,
  ).toBe('InvalidParameterValue.Definition');
}, 60_000);
