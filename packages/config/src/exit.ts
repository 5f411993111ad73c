import { ConfigError } from './env.ts';

/**
 * Runs `load`; on a configuration error prints each problem on one line to stderr and exits with status 2,
 * so a service with a bad value stops before doing anything.
 */
export function exitOnConfigError<T>(service: string, load: () => T): T {
  try {
    return load();
  } catch (err) {
    if (err instanceof ConfigError) {
      for (const p of err.problems) process.stderr.write(`${service}: invalid configuration: ${p}\n`);
      process.exit(2);
    }
    throw err;
  }
}
