// setupFiles of the integration project: what every integration file does after its tests.
import { afterAll } from 'vitest';
import { deleteTestQueues } from './rabbitmq.ts';

afterAll(deleteTestQueues);
