// Entry of the in-process worker thread: TypeScript loading (tsx) does not carry
// over into worker threads, so register it here, then load the real worker.
import { register } from 'tsx/esm/api';

register();
await import('./in-process-worker.ts');
