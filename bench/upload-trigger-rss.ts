/**
 * Child process of the upload benchmark: invokes the real upload-trigger handler (functions/upload-trigger.ts)
 * with one S3 ObjectCreated record and prints its own peak RSS, so the trigger's memory is measured alone.
 * The environment is the local system's handler environment (inherited from the bench process).
 */
import '../local/polyfills';
import type { Context, S3Event, S3EventRecord } from 'aws-lambda';

async function main(): Promise<void> {
  const record = JSON.parse(process.argv[2] ?? '{}') as S3EventRecord;
  const before = process.resourceUsage().maxRSS;
  const { handler } = (await import('../functions/upload-trigger')) as {
    handler: (e: S3Event, c: Context) => Promise<void>;
  };
  const loaded = process.resourceUsage().maxRSS;
  const t = Date.now();
  await handler({ Records: [record] }, { awsRequestId: 'bench' } as Context);
  const ms = Date.now() - t;
  // maxRSS is in KiB (getrusage of this process: ffprobe runs in its own process).
  console.log(
    JSON.stringify({ startKiB: before, loadedKiB: loaded, peakKiB: process.resourceUsage().maxRSS, ms }),
  );
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
