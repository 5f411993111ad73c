// The downloader's Prometheus metrics, served by packages/metrics' listener when METRICS_PORT is set.
import { Counter, Histogram, ROUND_DURATION_BUCKETS } from '@image-search/metrics';

export const picturesDownloaded = new Counter({
  name: 'downloader_pictures_downloaded_total',
  help: 'Pictures fetched and stored (each URL once; adopted files and pictures already there are not counted)',
});

export const downloadedBytes = new Counter({
  name: 'downloader_downloaded_bytes_total',
  help: 'Bytes of the pictures stored',
});

export const downloadsFailed = new Counter({
  name: 'downloader_downloads_failed_total',
  help: 'URLs given up on after their retries, by reason (http_404, not_an_image, timeout, …)',
  labelNames: ['reason'],
});

export const roundDuration = new Histogram({
  name: 'downloader_round_duration_seconds',
  help: 'How long each round over the URL list took',
  buckets: ROUND_DURATION_BUCKETS,
});
