/**
 * Fault injection for the integration tests, kept out of the production classes. Off unless the
 * supervisor's environment has STRIPECACHE_TEST_HOOKS=1; then SIGUSR2 makes the first worker
 * thread throw an uncaught error, as a bug would, so a test can watch the supervisor replace it.
 */
const ENABLED = process.env['STRIPECACHE_TEST_HOOKS'] === '1';

/** Supervisor side: on SIGUSR2, `crashOne` asks one worker to crash. */
export function installCrashSignal(crashOne: () => void): void {
  if (ENABLED) process.on('SIGUSR2', crashOne);
}

/** Worker side: throws outside any handler, so the thread dies like it would on a bug. */
export function crashThisThread(): void {
  setImmediate(() => {
    throw new Error('worker crash requested by test hook');
  });
}
