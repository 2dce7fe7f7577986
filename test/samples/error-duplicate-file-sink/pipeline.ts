import { pipeline, collection, file } from 'pipec';

// Two sinks write one file (spelled two ways): which output survives would depend on timing.
export default pipeline('error-duplicate-file-sink', (p) => {
  const words = p.source(collection(['a', 'bb', 'ccc']));
  words.filter((w) => w.length > 1).sink(file.lines('out/words.txt'));
  words.map((w) => w.toUpperCase()).sink(file.jsonl('./out/words.txt'));
  words.sink(file.lines('out/all-words.txt'));
});
