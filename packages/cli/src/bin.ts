import { main } from './program.js';

// The `ganpo` executable. Both streams are drained before exiting, then the exit code is applied
// explicitly, so no stray handle (a worker, a timer) can keep the process alive after the command ends.
const drain = (stream: NodeJS.WriteStream) => new Promise<void>((resolve) => (stream.writableLength === 0 ? resolve() : stream.write('', () => resolve())));

main(process.argv)
  .catch((e: unknown) => {
    // main never rejects; this is a last line of defence against a bug in the error path itself.
    process.stderr.write(`ganpo: internal error: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  })
  .then(async (code) => {
    await Promise.all([drain(process.stdout), drain(process.stderr)]);
    process.exit(code);
  });
