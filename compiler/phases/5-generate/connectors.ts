/** Which runtime module and class implement each connector, so a stage imports only what it uses. */

const CLASSES: Record<string, { module: string; source?: string; sink?: string }> = {
  collection: { module: 'collection', source: 'CollectionSource' },
  generator: { module: 'generator', source: 'GeneratorSource' },
  'file.lines': { module: 'file', source: 'FileLinesSource', sink: 'FileLinesSink' },
  'file.csv': { module: 'file', source: 'FileCsvSource', sink: 'FileCsvSink' },
  'file.jsonl': { module: 'file', source: 'FileJsonlSource', sink: 'FileJsonlSink' },
  print: { module: 'print', sink: 'PrintSink' },
  kafka: { module: 'kafka', source: 'KafkaSource', sink: 'KafkaSink' },
};

/** The import of a connector's implementation. */
export function connectorClass(connector: string, role: 'source' | 'sink'): { module: string; name: string } {
  const entry = CLASSES[connector];
  const name = entry?.[role];
  if (!entry || !name) throw new Error(`internal: no ${role} implementation for connector ${connector}`);
  return { module: `pipec/internal/connectors/${entry.module}`, name };
}
