/** The file connectors: bounded sources over a path or glob (one task), sinks that write one file. */
import type { ConnectorDefinition } from '../definition.ts';

export const fileConnector: ConnectorDefinition = {
  names: ['file.lines', 'file.csv', 'file.jsonl'],
  module: 'file',
  sources: { 'file.lines': 'FileLinesSource', 'file.csv': 'FileCsvSource', 'file.jsonl': 'FileJsonlSource' },
  sinks: { 'file.lines': 'FileLinesSink', 'file.csv': 'FileCsvSink', 'file.jsonl': 'FileJsonlSink' },
  singleTaskSource: true,
  sinkGuarantee: { 'file.lines': 'checkpointed', 'file.csv': 'checkpointed', 'file.jsonl': 'checkpointed' },
  describe: (o) => String(o.path ?? ''),
};
