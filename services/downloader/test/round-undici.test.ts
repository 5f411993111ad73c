// The fault suite over undici, the downloader's transport when HTTP_PROXY / HTTPS_PROXY is set.
import { Agent } from 'undici';
import { roundSuite } from './round-suite.ts';

roundSuite('undici', () => new Agent({ keepAliveTimeout: 2000 }));
