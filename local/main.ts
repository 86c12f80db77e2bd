/**
 * `npm start`: runs OpenVOD on this machine. Prints one ready line and the credentials, writes them to
 * <data dir>/credentials.json, and stops every child process on Ctrl-C or SIGTERM.
 */
import { StartupError, startLocal } from './runtime';

async function main(): Promise<void> {
  const started = Date.now();
  const port = Number(process.env.OPENVOD_PORT ?? 3000);
  if (!Number.isInteger(port) || port <= 0 || port > 65530) {
    throw new StartupError(`OPENVOD_PORT must be a port number (got ${process.env.OPENVOD_PORT}).`);
  }
  const dataDir = process.env.OPENVOD_DATA_DIR ?? '.openvod';
  const verbose = process.env.OPENVOD_LOG_LEVEL === 'DEBUG';
  const system = await startLocal({
    port,
    dataDir,
    log: verbose ? (m) => console.error(`[local] ${m}`) : undefined,
  });
  const c = system.credentials;
  console.log(`OpenVOD ready on ${c.Endpoint} in ${((Date.now() - started) / 1000).toFixed(1)} s (data in ${dataDir})`);
  console.log(`Endpoint:         ${c.Endpoint}`);
  console.log(`SubAppId:         ${c.SubAppId}`);
  console.log(`SecretId:         ${c.SecretId}`);
  console.log(`SecretKey:        ${c.SecretKey}`);
  console.log(`S3Endpoint:       ${c.S3Endpoint}`);
  console.log(`MediaBucket:      ${c.MediaBucket}`);
  console.log(`DynamoDBEndpoint: ${c.DynamoDBEndpoint}`);
  console.log(`SQSEndpoint:      ${c.SQSEndpoint}`);
  console.log(`Credentials written to ${dataDir}/credentials.json`);

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`${signal}: stopping OpenVOD…`);
    const force = setTimeout(() => process.exit(1), 15_000);
    force.unref();
    system.stop().then(
      () => process.exit(0),
      (e: unknown) => {
        console.error(`stop failed: ${(e as Error).message}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

main().catch((err: unknown) => {
  const e = err as Error;
  console.error(e instanceof StartupError ? `openvod: ${e.message}` : `openvod: failed to start: ${e.stack ?? e.message}`);
  process.exit(1);
});
