/**
 * Connector descriptors: what every source and sink the DSL accepts carries.
 * Each connector declares its own DSL functions in its folder
 * (runtime/internal/connectors/<name>/api.ts, exported from the `pipec`
 * index); those functions only record what the user asked for, and nothing
 * connects at build time. Server addresses and credentials come from the
 * environment at run time (PIPEC_KAFKA_BROKERS, PIPEC_MYSQL_URL, PIPEC_REDIS_URL).
 */

/** The name of a connector: one of the names a connector definition serves (`file.csv`, `kafka`). */
export type ConnectorName = string;

/** What every descriptor carries. */
export interface ConnectorDescriptor {
  readonly kind: 'connector';
  readonly connector: ConnectorName;
  /** Settings as the user wrote them (functions included). */
  readonly options: Readonly<Record<string, unknown>>;
}

/** Something `p.source(...)` accepts, producing records of type T. */
export interface Source<T> extends ConnectorDescriptor {
  readonly source: { readonly bounded: boolean };
  /** Phantom field carrying T; never set. */
  readonly __out?: () => T;
}

/** Something `stream.sink(...)` accepts, consuming records of type T. */
export interface Sink<T> extends ConnectorDescriptor {
  readonly sink: true;
  /** Phantom field carrying T; never set. */
  readonly __in?: (value: T) => void;
}

/** Builds a descriptor (for connectors' DSL functions). */
export function descriptor<D extends ConnectorDescriptor>(connector: ConnectorName, options: Record<string, unknown>, extra: Omit<D, keyof ConnectorDescriptor>): D {
  return { kind: 'connector', connector, options, ...extra } as D;
}
