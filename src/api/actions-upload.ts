import type { ActionHandler } from './actions';
import { ApiError } from '../domain/errors';
import { applyUpload, commitUpload, presignUploadParts, type UploadApiDeps } from '../services/upload-apply';
import { pullUpload, type PullUploadDeps } from '../services/upload-pull';

/** What the upload actions need (wired in src/composition.ts makeUploadServices). */
export interface UploadServices {
  api: UploadApiDeps;
  pull: PullUploadDeps;
}

function upload(services: { upload?: UploadServices }): UploadServices {
  if (!services.upload)
    throw new ApiError('UnsupportedOperation', 'Uploads are not configured in this deployment.');
  return services.upload;
}

/** ApplyUpload, CommitUpload, PullUpload; PresignUploadParts (OpenVOD extension: more parts of a multipart upload). */
export const UPLOAD_ACTIONS: Record<string, ActionHandler> = {
  ApplyUpload(ctx, raw) {
    return applyUpload(upload(ctx.services).api, ctx.subAppId, raw);
  },
  CommitUpload(ctx, raw) {
    return commitUpload(upload(ctx.services).api, ctx.subAppId, raw);
  },
  PresignUploadParts(ctx, raw) {
    return presignUploadParts(upload(ctx.services).api, ctx.subAppId, raw);
  },
  PullUpload(ctx, raw) {
    return pullUpload(upload(ctx.services).pull, ctx.subAppId, raw);
  },
};
