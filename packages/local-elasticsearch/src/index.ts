// A real local Elasticsearch from Maven Central artifacts, for pnpm es:start|stop|status, tests, benchmarks and
// pnpm stack. See README.md in this package.

export {
  type LocalEs,
  type LocalEsOptions,
  logFileOf,
  runningPid,
  startLocalElasticsearch,
  stopLocalElasticsearch,
} from './instance.ts';
export { resolveClasspath } from './launcher.ts';
export { describeElasticsearch, type EsSummary, isElasticsearchUp } from './probe.ts';
export { hostFor, instanceDirFor, LocalEsError, localEsSpec, repoRoot } from './settings.ts';
