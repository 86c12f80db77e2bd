import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { S3Event } from 'aws-lambda';
import { loadConfig } from '../src/config';
import { logger } from '../src/logger';
import { makeUploadRegistrationDeps } from '../src/composition';
import { decodeS3Key, registerUpload } from '../src/services/upload-registration';

const deps = makeUploadRegistrationDeps(loadConfig());

/**
 * S3 ObjectCreated (Put, Post, Copy, CompleteMultipartUpload) under uploads/<SubAppId>/ → register the media
 * and start the task flow its session, tags or metadata name. Idempotent: a redelivered event registers once
 * and starts one flow. A transient failure is thrown, so S3's asynchronous invocation retries the event.
 */
export const handler = middy<S3Event, void>()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .handler(async (event) => {
    for (const r of event.Records) {
      if (!r.eventName.startsWith('ObjectCreated:')) continue;
      const key = decodeS3Key(r.s3.object.key);
      const result = await registerUpload(deps, {
        bucket: r.s3.bucket.name,
        key,
        size: r.s3.object.size,
        sequencer: r.s3.object.sequencer ?? r.s3.object.versionId ?? r.s3.object.eTag ?? '',
      });
      logger.info('upload trigger', { key, event: r.eventName, ...result });
    }
  });
