import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { loadConfig } from '../src/config';
import { logger } from '../src/logger';
import { makeAppsService, makeUploadServices } from '../src/composition';
import { fromHttpApiEvent, toHttpApiResult } from '../src/api/http-event';
import { handleClientUpload } from '../src/services/upload-client';

const config = loadConfig();
const apps = makeAppsService(config);
const upload = makeUploadServices(config).api;

/** HTTP API `POST /upload/apply` (and its CORS preflight): signed client uploads. */
export const handler = middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .handler(async (event) =>
    toHttpApiResult(
      await handleClientUpload(fromHttpApiEvent(event), {
        upload,
        resolveKey: (id) => apps.resolve(id),
        maxClockSkewSeconds: config.maxClockSkewSeconds,
        logger,
      }),
    ),
  );
