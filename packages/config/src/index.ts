export * from './env.ts';
export { exitOnConfigError } from './exit.ts';
export * from './services.ts';
