/*
 * The Kafka Streams peer of the peers benchmark (bench/peers/index.ts): the
 * benchmark's three workloads as Kafka Streams topologies, the same as the
 * pipec pipelines bench/peers/{stateless,count,window}.ts, with JSON values
 * (de)serialized by Jackson into records, as a Kafka Streams user would.
 *
 *   java -cp peers-kafka-streams.jar:lib/* dev.pipec.bench.peers.PeersApp \
 *     --workload=stateless|count|window --guarantee=at-least-once|exactly-once \
 *     --brokers=H:P --application-id=ID --input=TOPIC --output=TOPIC \
 *     --commit-interval-ms=N --cache-bytes=N --threads=N --state-dir=DIR
 *
 * Everything else is Kafka Streams' default, except the state stores, which
 * are in memory (changelogged, as pipec's heap state is). The app writes JSON
 * lines to stderr ("config" with the settings, "running" when it starts
 * processing) and stops on SIGTERM, closing the streams (a final commit).
 */
package dev.pipec.bench.peers;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectReader;
import com.fasterxml.jackson.databind.ObjectWriter;
import java.io.IOException;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Grouped;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.kstream.Suppressed;
import org.apache.kafka.streams.kstream.TimeWindows;
import org.apache.kafka.streams.state.BuiltInDslStoreSuppliers;

public final class PeersApp {
  /** An input record's value (bench/peers/records.ts: Event). */
  public record Event(long id, long ts, String user, String action, String url, String agent, long bytes) {}
  /** The stateless workload's output value. */
  public record Projected(long id, String user, String action, String url, long kb) {}
  /** What goes through the repartition topic, and the count workload's output value. */
  public record UserCount(String user, long count) {}
  /** The window workload's output value. */
  public record WindowCount(String user, long start, long end, long count) {}

  private static final ObjectMapper MAPPER = new ObjectMapper();

  /** A JSON serde for a record type (Jackson databinding, one reader and writer per type). */
  static <T> Serde<T> json(Class<T> type) {
    ObjectReader reader = MAPPER.readerFor(type);
    ObjectWriter writer = MAPPER.writerFor(type);
    return Serdes.serdeFrom(
        (topic, value) -> {
          try {
            return value == null ? null : writer.writeValueAsBytes(value);
          } catch (IOException e) {
            throw new SerializationException(e);
          }
        },
        (topic, bytes) -> {
          try {
            return bytes == null ? null : reader.readValue(bytes);
          } catch (IOException e) {
            throw new SerializationException(e);
          }
        });
  }

  private static final Serde<Event> EVENT = json(Event.class);
  private static final Serde<UserCount> USER_COUNT = json(UserCount.class);

  /** Stateless: drop 'noise', project, keep the key (the user). */
  static void stateless(StreamsBuilder builder, String input, String output) {
    builder.stream(input, Consumed.with(Serdes.String(), EVENT))
        .filter((user, e) -> !e.action().equals("noise"))
        .mapValues(e -> new Projected(e.id(), e.user(), e.action(), e.url(), e.bytes() / 1024))
        .to(output, Produced.with(Serdes.String(), json(Projected.class)));
  }

  /** Events keyed by their user field (selectKey: a repartition before the next stateful step), projected as pipec's map does. */
  static KStream<String, UserCount> byUser(StreamsBuilder builder, String input, Consumed<String, Event> consumed) {
    return builder.stream(input, consumed)
        .selectKey((key, e) -> e.user())
        .mapValues(e -> new UserCount(e.user(), 1));
  }

  /** Keyed count through a repartition topic; with the record cache off, one output record per input record. */
  static void count(StreamsBuilder builder, String input, String output) {
    byUser(builder, input, Consumed.with(Serdes.String(), EVENT))
        .groupByKey(Grouped.with("by-user", Serdes.String(), USER_COUNT))
        .count(Materialized.as("counts"))
        .toStream()
        .mapValues((user, count) -> new UserCount(user, count))
        .to(output, Produced.with(Serdes.String(), USER_COUNT));
  }

  /** Keyed 1 s tumbling-window count on event time (the `ts` field), no grace; final results only (suppress until the window closes). */
  static void window(StreamsBuilder builder, String input, String output, long windowMs) {
    Consumed<String, Event> consumed = Consumed.with(Serdes.String(), EVENT).withTimestampExtractor((record, previous) -> ((Event) record.value()).ts());
    byUser(builder, input, consumed)
        .groupByKey(Grouped.with("by-user", Serdes.String(), USER_COUNT))
        .windowedBy(TimeWindows.ofSizeWithNoGrace(Duration.ofMillis(windowMs)))
        .count(Materialized.as("window-counts"))
        .suppress(Suppressed.untilWindowCloses(Suppressed.BufferConfig.unbounded()))
        .toStream()
        .map((w, count) -> KeyValue.pair(w.key(), new WindowCount(w.key(), w.window().start(), w.window().end(), count)))
        .to(output, Produced.with(Serdes.String(), json(WindowCount.class)));
  }

  private static Map<String, String> options(String[] args) {
    Map<String, String> options = new HashMap<>();
    for (String arg : args) {
      int eq = arg.indexOf('=');
      if (!arg.startsWith("--") || eq < 0) throw new IllegalArgumentException("expected --name=value, got " + arg);
      options.put(arg.substring(2, eq), arg.substring(eq + 1));
    }
    return options;
  }

  private static String required(Map<String, String> options, String name) {
    String value = options.get(name);
    if (value == null) throw new IllegalArgumentException("missing --" + name);
    return value;
  }

  private static void log(String json) {
    System.err.println(json);
    System.err.flush();
  }

  public static void main(String[] args) throws InterruptedException {
    Map<String, String> options = options(args);
    String workload = required(options, "workload");
    String input = required(options, "input");
    String output = required(options, "output");
    boolean exactlyOnce = required(options, "guarantee").equals("exactly-once");

    Properties props = new Properties();
    props.put(StreamsConfig.APPLICATION_ID_CONFIG, required(options, "application-id"));
    props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, required(options, "brokers"));
    props.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, exactlyOnce ? StreamsConfig.EXACTLY_ONCE_V2 : StreamsConfig.AT_LEAST_ONCE);
    props.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, Long.parseLong(required(options, "commit-interval-ms")));
    props.put(StreamsConfig.STATESTORE_CACHE_MAX_BYTES_CONFIG, Long.parseLong(required(options, "cache-bytes")));
    props.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, Integer.parseInt(options.getOrDefault("threads", "1")));
    props.put(StreamsConfig.STATE_DIR_CONFIG, required(options, "state-dir"));
    // In-memory stores, changelogged (pipec's heap state backend is the comparable one; RocksDB is Kafka Streams' default).
    props.put(StreamsConfig.DSL_STORE_SUPPLIERS_CLASS_CONFIG, BuiltInDslStoreSuppliers.InMemoryDslStoreSuppliers.class);
    props.put(StreamsConfig.consumerPrefix(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG), "earliest");

    StreamsBuilder builder = new StreamsBuilder();
    switch (workload) {
      case "stateless" -> stateless(builder, input, output);
      case "count" -> count(builder, input, output);
      case "window" -> window(builder, input, output, Long.parseLong(options.getOrDefault("window-ms", "1000")));
      default -> throw new IllegalArgumentException("unknown workload " + workload);
    }
    log("{\"msg\":\"config\",\"workload\":\"" + workload + "\",\"processing.guarantee\":\"" + props.get(StreamsConfig.PROCESSING_GUARANTEE_CONFIG)
        + "\",\"commit.interval.ms\":" + props.get(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG)
        + ",\"statestore.cache.max.bytes\":" + props.get(StreamsConfig.STATESTORE_CACHE_MAX_BYTES_CONFIG)
        + ",\"num.stream.threads\":" + props.get(StreamsConfig.NUM_STREAM_THREADS_CONFIG) + "}");

    KafkaStreams streams = new KafkaStreams(builder.build(), props);
    CountDownLatch stopped = new CountDownLatch(1);
    int[] exitCode = {0};
    streams.setStateListener((next, previous) -> {
      if (next == KafkaStreams.State.RUNNING && previous == KafkaStreams.State.REBALANCING) {
        log("{\"msg\":\"running\",\"time\":" + System.currentTimeMillis() + "}");
      }
      if (next == KafkaStreams.State.ERROR) {
        exitCode[0] = 1;
        stopped.countDown();
      }
    });
    streams.setUncaughtExceptionHandler(error -> {
      log("{\"msg\":\"stream thread failed\",\"error\":\"" + String.valueOf(error).replace('"', '\'') + "\"}");
      return StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
    });
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      streams.close(Duration.ofSeconds(30));
      log("{\"msg\":\"stopped\",\"time\":" + System.currentTimeMillis() + "}");
      stopped.countDown();
    }));
    streams.start();
    stopped.await();
    if (exitCode[0] != 0) {
      streams.close(Duration.ofSeconds(10));
      System.exit(exitCode[0]);
    }
  }
}
