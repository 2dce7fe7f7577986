// The job reads a Kafka topic: the sample checks the build (PC2002), not a run.
export default { run: false };
