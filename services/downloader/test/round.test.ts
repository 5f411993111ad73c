// The fault suite over the lean HTTP/1.1 client, the downloader's transport unless a proxy is configured.
import { Http1Pool } from '../src/http1.ts';
import { roundSuite } from './round-suite.ts';

roundSuite('lean HTTP/1.1 client', () => new Http1Pool({ keepAliveMs: 2000, connectTimeoutMs: 1000 }));
