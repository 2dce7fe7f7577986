import { pipeline, collection, print } from 'pipec';

export default pipeline('error-plan-timeout-invalid', (p) => {
  p.source(collection([1])).sink(print());
});
