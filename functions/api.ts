import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { loadConfig } from '../src/config';
import { logger } from '../src/logger';
import { makeApiServices, makeAppsService } from '../src/composition';
import { handleApiRequest } from '../src/api/front-door';
import { fromHttpApiEvent, toHttpApiResult } from '../src/api/http-event';

const config = loadConfig();
const apps = makeAppsService(config);
const services = makeApiServices(config);

/** HTTP API `POST /`: the Tencent-style API front door. */
export const handler = middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .handler(async (event) =>
    toHttpApiResult(
      await handleApiRequest(fromHttpApiEvent(event), {
        services,
        resolveKey: (id) => apps.resolve(id),
        maxBodyBytes: config.maxBodyBytes,
        maxClockSkewSeconds: config.maxClockSkewSeconds,
        logger,
      }),
    ),
  );
