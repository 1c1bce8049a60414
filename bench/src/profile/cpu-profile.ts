import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';

/**
 * Starts a V8 CPU profile of this process when `file` is given (KEYSTRATA_PROFILE_CPU=<path>) and
 * returns the function that stops it and writes it there: a profile of the measured loops only,
 * without the set-up, for `node scripts/cpuprofile-top.mjs <path>`.
 */
export async function profileInto(file: string | undefined): Promise<(() => Promise<void>) | undefined> {
  if (file === undefined || file === '') return undefined;
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 100 });
  await session.post('Profiler.start');
  return async () => {
    const { profile } = await session.post('Profiler.stop');
    writeFileSync(file, JSON.stringify(profile));
    session.disconnect();
  };
}
