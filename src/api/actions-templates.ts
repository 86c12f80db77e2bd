/**
 * Actions of custom templates (Create/Modify/Delete/Describe for each template kind), task-flow templates
 * (Create/Reset/Delete/DescribeProcedureTemplate(s)) and ProcessMediaByProcedure.
 */
import { TEMPLATE_KINDS } from '../media/templates';
import { TEMPLATE_ACTION_STEM } from '../media/template-params';
import { createTemplate, deleteTemplate, describeTemplates, modifyTemplate } from '../services/templates';
import {
  createProcedureTemplate,
  deleteProcedureTemplate,
  describeProcedureTemplates,
  processMediaByProcedure,
  resetProcedureTemplate,
} from '../services/procedures';
import type { ActionContext, ActionHandler } from './actions';

const templateDeps = (ctx: ActionContext) => ({
  templates: ctx.services.templates,
  clock: ctx.services.clock,
});

export const TEMPLATE_ACTIONS: Record<string, ActionHandler> = {
  ...Object.fromEntries(
    TEMPLATE_KINDS.flatMap((kind): Array<[string, ActionHandler]> => {
      const stem = TEMPLATE_ACTION_STEM[kind];
      return [
        [`Create${stem}`, (ctx, raw) => createTemplate(templateDeps(ctx), ctx.subAppId, kind, raw)],
        [`Modify${stem}`, (ctx, raw) => modifyTemplate(templateDeps(ctx), ctx.subAppId, kind, raw)],
        [`Delete${stem}`, (ctx, raw) => deleteTemplate(templateDeps(ctx), ctx.subAppId, kind, raw)],
        [`Describe${stem}s`, (ctx, raw) => describeTemplates(templateDeps(ctx), ctx.subAppId, kind, raw)],
      ];
    }),
  ),

  CreateProcedureTemplate: (ctx, raw) => createProcedureTemplate(templateDeps(ctx), ctx.subAppId, raw),
  ResetProcedureTemplate: (ctx, raw) => resetProcedureTemplate(templateDeps(ctx), ctx.subAppId, raw),
  DeleteProcedureTemplate: (ctx, raw) => deleteProcedureTemplate(templateDeps(ctx), ctx.subAppId, raw),
  DescribeProcedureTemplates: (ctx, raw) => describeProcedureTemplates(templateDeps(ctx), ctx.subAppId, raw),

  ProcessMediaByProcedure: (ctx, raw) =>
    processMediaByProcedure({ ...ctx.services, tasks: ctx.services.taskStore }, ctx.subAppId, raw),
};
