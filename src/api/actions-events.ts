import { ApiError } from '../domain/errors';
import { describeEventConfig, modifyEventConfig, type EventConfigDeps } from '../services/event-config';
import { confirmEvents, pullEvents, type PullDeps } from '../services/pull';
import type { ActionContext, ActionHandler } from './actions';

/** Event notification actions: configuration (ModifyEventConfig, DescribeEventConfig) and reliable pull. */
export interface EventApiDeps extends EventConfigDeps {
  pull: PullDeps;
}

function deps(ctx: ActionContext): EventApiDeps {
  if (!ctx.services.events)
    throw new ApiError('InternalError', 'Event notifications are not configured on this server.');
  return ctx.services.events;
}

export const EVENT_ACTIONS: Record<string, ActionHandler> = {
  ModifyEventConfig: (ctx, raw) => modifyEventConfig(deps(ctx), ctx.subAppId, raw),
  DescribeEventConfig: (ctx, raw) => describeEventConfig(deps(ctx), ctx.subAppId, raw),
  PullEvents: (ctx, raw) => pullEvents(deps(ctx).pull, ctx.subAppId, raw),
  ConfirmEvents: (ctx, raw) => confirmEvents(deps(ctx).pull, ctx.subAppId, raw),
};
