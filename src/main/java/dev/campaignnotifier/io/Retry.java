package dev.campaignnotifier.io;

import dev.campaignnotifier.delivery.SinkErrors;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.errors.RetriableException;
import org.slf4j.Logger;

/**
 * Waits out a server that is down or restarting, PostgreSQL or a Kafka broker, for as long as it
 * takes: capped exponential backoff, a log line per attempt saying what waits and why. Errors that
 * time will not fix are thrown at once.
 */
public final class Retry {
  private static final long FIRST_BACKOFF_MILLIS = 200;
  private static final long MAX_BACKOFF_MILLIS = 10_000;

  /** A database call (which may wait for something else, such as Kafka's acknowledgements). */
  @FunctionalInterface
  public interface SqlCall<T> {
    T call() throws SQLException, InterruptedException;
  }

  private Retry() {}

  /**
   * @param onRetry called before each wait (a metric: Beam counts only on the bundle's thread, so
   *     callers on other threads tally and report later)
   */
  public static <T> T sql(String what, Logger log, Runnable onRetry, SqlCall<T> call)
      throws InterruptedException {
    long backoff = FIRST_BACKOFF_MILLIS;
    for (int attempt = 1; ; attempt++) {
      try {
        return call.call();
      } catch (SQLException e) {
        if (!isTransient(e)) {
          throw new IllegalStateException("Cannot " + what + ": " + e.getMessage(), e);
        }
        onRetry.run();
        log.warn(
            "PostgreSQL unavailable to {} (attempt {}, SQLState {}): {}; retrying in {} ms",
            what,
            attempt,
            e.getSQLState(),
            e.getMessage(),
            backoff);
        Thread.sleep(backoff);
        backoff = Math.min(backoff * 2, MAX_BACKOFF_MILLIS);
      }
    }
  }

  /**
   * Sends every record and returns once the broker has acknowledged each one. A record the producer
   * gave up on for a reason time may fix (a broker down longer than {@code delivery.timeout.ms}, a
   * leader moving: Kafka's {@link RetriableException}s) is sent again after a wait, only that
   * record, for as long as it takes; any other refusal is thrown. A record given up on may still
   * have reached the log, so a long outage can leave a few duplicate messages, never a lost one.
   *
   * @param what what is being published, for the log ("12 dead letters")
   */
  public static <K, V> void kafka(
      String what,
      Logger log,
      Runnable onRetry,
      Producer<K, V> producer,
      List<ProducerRecord<K, V>> records)
      throws InterruptedException {
    Map<Integer, Exception> refused = kafkaUnlessRefused(what, log, onRetry, producer, records);
    if (!refused.isEmpty()) {
      Exception first = refused.values().iterator().next();
      throw new IllegalStateException("Cannot publish " + what + ": " + first.getMessage(), first);
    }
  }

  /**
   * As {@link #kafka}, but a record Kafka refuses for good ({@link SinkErrors.Kind#REFUSED}: too
   * large, not authorized) is not thrown: it is returned, by its index in {@code records}, with the
   * broker's or the producer's error, once every other record is acknowledged. An error that is
   * neither transient nor a refusal ({@link SinkErrors.Kind#FAILED}) is thrown.
   */
  public static <K, V> Map<Integer, Exception> kafkaUnlessRefused(
      String what,
      Logger log,
      Runnable onRetry,
      Producer<K, V> producer,
      List<ProducerRecord<K, V>> records)
      throws InterruptedException {
    Map<Integer, Exception> refused = new TreeMap<>();
    List<Integer> pending = new ArrayList<>(records.size());
    for (int i = 0; i < records.size(); i++) {
      pending.add(i);
    }
    long backoff = FIRST_BACKOFF_MILLIS;
    for (int attempt = 1; ; attempt++) {
      List<Future<RecordMetadata>> acks = new ArrayList<>(pending.size());
      for (int index : pending) {
        try {
          acks.add(producer.send(records.get(index)));
        } catch (KafkaException e) {
          acks.add(CompletableFuture.failedFuture(e));
        }
      }
      List<Integer> failed = new ArrayList<>();
      Throwable cause = null;
      for (int i = 0; i < acks.size(); i++) {
        try {
          acks.get(i).get();
        } catch (ExecutionException e) {
          Throwable error = e.getCause();
          switch (SinkErrors.of(error)) {
            case TRANSIENT -> {
              failed.add(pending.get(i));
              cause = error;
            }
            case REFUSED -> refused.put(pending.get(i), (Exception) error);
            case FAILED ->
                throw new IllegalStateException(
                    "Cannot publish " + what + ": " + error.getMessage(), error);
          }
        }
      }
      if (failed.isEmpty()) {
        return refused;
      }
      onRetry.run();
      log.warn(
          "Kafka unavailable to publish {} ({} of {} messages not acknowledged, attempt {}): {};"
              + " sending them again in {} ms",
          what,
          failed.size(),
          records.size(),
          attempt,
          cause.getMessage(),
          backoff);
      Thread.sleep(backoff);
      backoff = Math.min(backoff * 2, MAX_BACKOFF_MILLIS);
      pending = failed;
    }
  }

  /**
   * Waits {@code millis} before a loop beside the pipeline tries again; false if the thread was
   * interrupted meanwhile (its interrupt flag set again): the loop should end.
   */
  public static boolean pause(long millis) {
    try {
      Thread.sleep(millis);
      return true;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  /**
   * Connection problems (SQLState class 08), the server shutting down or starting (57P01-57P03),
   * and serialization or deadlock failures (40001, 40P01) pass with time; anything else will not.
   */
  public static boolean isTransient(SQLException e) {
    String state = e.getSQLState();
    if (state == null) {
      return e.getCause() instanceof java.io.IOException;
    }
    return state.startsWith("08")
        || state.equals("57P01")
        || state.equals("57P02")
        || state.equals("57P03")
        || state.equals("40001")
        || state.equals("40P01");
  }
}
