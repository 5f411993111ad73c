// With QUEUE_URL set, every stored picture is announced on the work queue (a confirmed publish). The picture is on
// disk whatever the broker does: when it cannot take the message, the embedder's folder scan indexes the picture, so
// an outage costs latency, never a picture — and is logged once per outage, not once per picture.
import type { Logger } from '@image-search/log';
import type { PicturePublisher } from '@image-search/work-queue';
import type { StoredPicture } from './download.ts';

export function announceStored(publisher: PicturePublisher, log: Logger): (p: StoredPicture) => Promise<void> {
  let missed = 0;
  return async ({ contentId, file, url }) => {
    try {
      await publisher.publish({ contentId, file, sourceUrl: url });
      if (missed > 0) {
        log.info(
          { missed },
          'work queue takes messages again; the pictures stored meanwhile are left to the folder scan',
        );
        missed = 0;
      }
    } catch (err) {
      if (missed++ === 0) {
        log.warn(
          { file, err: (err as Error).message },
          'work queue unavailable: pictures are stored but not queued; the embedder folder scan will index them',
        );
      }
    }
  };
}
