// The start|stop|status command of a local server runner (pnpm es:*, pnpm mq:*): flags, the shared stop and status
// steps and messages, and exit codes (0 done, 1 failed or refused, 2 usage, 3 not running).
import { parseArgs } from 'node:util';

const EXIT_NOT_RUNNING = 3;

export interface ServerCliOptions {
  port: number;
  dataDir?: string;
}

/** An integer flag within 1..max, or fallback when absent. */
export type CountFlag = (name: string, value: string | undefined, fallback: number, max: number) => number;

export interface ServerCliSpec<O extends ServerCliOptions> {
  /** The pnpm script prefix and the prefix of error lines: 'es' for pnpm es:start. */
  name: string;
  /** 'Elasticsearch', 'RabbitMQ'. */
  what: string;
  /** Who might answer without being ours, for stop's refusal: 'an Elasticsearch', 'a broker'. */
  someone: string;
  usage: string;
  /** Flags besides --port and --data-dir (all take a value). */
  flags: string[];
  /** The runner's options from the flags (port included); --data-dir is read here. */
  options: (values: Record<string, string | undefined>, count: CountFlag) => Omit<O, 'dataDir'>;
  /** Errors whose message is meant for people (printed without a stack). */
  isOwnError: (e: unknown) => boolean;
  instanceDirFor: (port: number) => string;
  /** The address shown to people (without secrets). */
  shown: (o: O) => string;
  runningPid: (dir: string) => Promise<number | null>;
  /** One line about the server answering on o.port (before its owner), or null when none answers. */
  describe: (o: O) => Promise<string | null>;
  /** Starts (or finds) the server and prints what happened; `seconds` is the time since the command began. */
  start: (o: O, seconds: () => string) => Promise<void>;
  stop: (o: O) => Promise<'stopped' | 'not-running'>;
}

class UsageError extends Error {}

function readOptions<O extends ServerCliOptions>(spec: ServerCliSpec<O>, argv: string[]): { command: string; o: O } {
  let parsed: { values: Record<string, string | undefined>; positionals: string[] };
  try {
    const flags = ['port', 'data-dir', ...spec.flags].map((f) => [f, { type: 'string' as const }]);
    parsed = parseArgs({ args: argv, options: Object.fromEntries(flags), allowPositionals: true }) as typeof parsed;
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const { values, positionals } = parsed;
  if (positionals.length > 1) throw new UsageError(`unknown argument ${positionals[1]}`);
  const count: CountFlag = (name, v, fallback, max) => {
    if (v === undefined) return fallback;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1 || n > max) throw new UsageError(`${name} ${v}: expected 1..${max}`);
    return n;
  };
  const o = { ...spec.options(values, count), dataDir: values['data-dir'] } as O;
  return { command: positionals[0] ?? '', o };
}

async function stop<O extends ServerCliOptions>(spec: ServerCliSpec<O>, o: O, seconds: () => string) {
  if ((await spec.stop(o)) === 'stopped') {
    console.log(`${spec.what} on ${spec.shown(o)} stopped in ${seconds()} s`);
    return 0;
  }
  if (await spec.describe(o)) {
    console.error(
      `${spec.someone} answers on ${spec.shown(o)} but was not started by pnpm ${spec.name}:start here (no pid file in ${o.dataDir ?? spec.instanceDirFor(o.port)}); not stopping it`,
    );
    return 1;
  }
  console.log(`${spec.what} is not running on ${spec.shown(o)}`);
  return 0;
}

async function status<O extends ServerCliOptions>(spec: ServerCliSpec<O>, o: O) {
  const line = await spec.describe(o);
  const pid = await spec.runningPid(o.dataDir ?? spec.instanceDirFor(o.port));
  if (!line) {
    console.log(
      pid
        ? `${spec.what} (pid ${pid}) is starting but does not answer on ${spec.shown(o)} yet`
        : `not running (${spec.shown(o)})`,
    );
    return EXIT_NOT_RUNNING;
  }
  const owner = pid ? `pid ${pid}, started by pnpm ${spec.name}:start` : `not started by pnpm ${spec.name}:start here`;
  console.log(`${line} (${owner})`);
  return 0;
}

async function run<O extends ServerCliOptions>(spec: ServerCliSpec<O>, argv: string[]): Promise<number> {
  const t0 = performance.now();
  const seconds = () => ((performance.now() - t0) / 1000).toFixed(1);
  const { command, o } = readOptions(spec, argv);
  switch (command) {
    case 'start':
      await spec.start(o, seconds);
      return 0;
    case 'stop':
      return stop(spec, o, seconds);
    case 'status':
      return status(spec, o);
    default:
      console.error(spec.usage);
      return 2;
  }
}

/** Runs the command in process.argv and exits with its code. */
export function runServerCli<O extends ServerCliOptions>(spec: ServerCliSpec<O>): void {
  run(spec, process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e: unknown) => {
      const forPeople =
        e instanceof UsageError || spec.isOwnError(e) || (e instanceof Error && e.name === 'ConfigError');
      console.error(forPeople ? `${spec.name}: ${(e as Error).message}` : e);
      process.exit(1);
    },
  );
}
