// A stream with no sink builds, with a warning.
import { pipeline, collection, print } from 'pipec';

export default pipeline('warning-no-sink', (p) => {
  const numbers = p.source(collection([1, 2, 3]));
  numbers.map((n) => n * 10);
  numbers.sink(print());
});
