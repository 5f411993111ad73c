// Worker side of file-writer.ts: writes each body it is sent to a temporary file, then renames it into place, all
// with synchronous calls (no thread-pool hand-offs); replies once per message it was sent.
import { closeSync, openSync, rmSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import type { CommitReply, CommitRequest, WriterThreadData } from './file-writer.ts';
import { commitDownload, tempPathFor, writeChunksSync } from './store.ts';

const port = parentPort as NonNullable<typeof parentPort>;
const { arena, slotBytes } = workerData as WriterThreadData;

function bodyOf(job: CommitRequest): Buffer[] | undefined {
  if (job.slot !== undefined) return [Buffer.from(arena, job.slot * slotBytes, job.length)];
  return job.body?.map((part) => Buffer.from(part.buffer, part.byteOffset, part.byteLength));
}

function commitOne(job: CommitRequest): void {
  let tmp = job.tmp;
  try {
    const body = bodyOf(job);
    if (body) {
      tmp = tempPathFor(job.outputDir, job.fileName);
      const fd = openSync(tmp, 'wx');
      try {
        writeChunksSync(fd, body);
      } finally {
        closeSync(fd);
      }
    }
    commitDownload(job.outputDir, tmp as string, job.fileName);
  } catch (err) {
    if (tmp) rmSync(tmp, { force: true });
    throw err;
  }
}

port.on('message', (jobs: CommitRequest[]) => {
  const replies: CommitReply[] = [];
  for (const job of jobs) {
    try {
      commitOne(job);
      replies.push({ id: job.id });
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      replies.push({ id: job.id, error: { code: e?.code, message: e?.message ?? String(err) } });
    }
  }
  port.postMessage(replies);
});
