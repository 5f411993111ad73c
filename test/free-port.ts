// Tests share `pnpm stack`'s way of finding a port nothing listens on.
export { freePort } from '../scripts/free-port.ts';
