// A loopback server that answers with whatever bytes a test scripts, down to malformed HTTP: each request on a
// connection (GET only, no body) goes to the route for its path, which writes raw bytes to the socket.
import net from 'node:net';

export type RawRoute = (socket: net.Socket, nth: number) => void;

export interface RawServer {
  base: string;
  /** Requests seen per path. */
  count(path: string): number;
  /** Connections accepted so far. */
  connections(): number;
  close(): Promise<void>;
}

export async function startRawServer(routes: Record<string, RawRoute>): Promise<RawServer> {
  const seen = new Map<string, number>();
  const sockets = new Set<net.Socket>();
  let accepted = 0;
  const server = net.createServer((socket) => {
    accepted++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    let pending = '';
    socket.on('data', (data) => {
      pending += data.toString('latin1');
      for (let end = pending.indexOf('\r\n\r\n'); end !== -1; end = pending.indexOf('\r\n\r\n')) {
        const path = pending.slice(0, end).split(' ')[1] ?? '/';
        pending = pending.slice(end + 4);
        const nth = (seen.get(path) ?? 0) + 1;
        seen.set(path, nth);
        const route = routes[path];
        if (route) route(socket, nth);
        else socket.end('HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n');
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    base: `http://127.0.0.1:${port}`,
    count: (path) => seen.get(path) ?? 0,
    connections: () => accepted,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A whole response: status line, headers (content-length added unless given as null), body. */
export function response(
  status: string,
  headers: Record<string, string | number | null>,
  body: Buffer = Buffer.alloc(0),
) {
  const lines = [`HTTP/1.1 ${status}`];
  const all = { 'content-length': body.length, ...headers };
  for (const [name, value] of Object.entries(all)) if (value !== null) lines.push(`${name}: ${value}`);
  return Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1'), body]);
}

/**
 * Writes `data` a piece at a time, `size` bytes every `everyMs` (0: at every turn of the event loop, each piece its own
 * TCP segment) until it is all written, then calls `then`; stops when the socket closes.
 */
export function trickle(socket: net.Socket, data: Buffer, size: number, everyMs: number, then?: () => void): void {
  socket.setNoDelay(true);
  let at = 0;
  const next = () => {
    if (socket.destroyed) return;
    if (at >= data.length) {
      then?.();
      return;
    }
    socket.write(data.subarray(at, at + size));
    at += size;
    if (everyMs === 0) setImmediate(next);
    else setTimeout(next, everyMs);
  };
  next();
}
