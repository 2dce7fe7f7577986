// The user's own parsing code, kept in its own module and built on an npm
// package (syslog-parse, an RFC 3164 parser). pipec bundles it, and the
// package with it, into the stage that calls it.
import parse from 'syslog-parse';

/** A parsed syslog line. */
export interface SyslogEntry {
  host: string;
  facility: string;
  severity: string;
  program: string;
  message: string;
}

/** Parses one syslog line; returns null when the line is not syslog. */
export function parseSyslog(line: string): SyslogEntry | null {
  const parsed = parse(line);
  if (!parsed || !parsed.host || parsed.facility === undefined || parsed.severity === undefined) return null;
  return {
    host: parsed.host,
    facility: parsed.facility,
    severity: parsed.severity,
    program: parsed.process ?? '-',
    message: parsed.message ?? '',
  };
}
