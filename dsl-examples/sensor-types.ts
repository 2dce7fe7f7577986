// The record type shared by the sensor examples (Flink's SensorReading).

/** One reading of a temperature sensor, in °F, with its event time in ms. */
export interface SensorReading { id: string; ts: number; temperature: number }
