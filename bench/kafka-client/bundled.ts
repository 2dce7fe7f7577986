/** The entry of the bundled kafka-client benchmark (index.ts builds and runs it): `node kafka-client.mjs <records> <rounds>`. */
import { measure } from './measure.ts';

await measure({ records: Number(process.argv[2]), rounds: Number(process.argv[3]) });
