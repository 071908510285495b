package dev.campaignnotifier.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.campaignnotifier.it.Await;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * {@link Retry#kafka} against Kafka's own {@link MockProducer}, whose acknowledgements the test
 * completes or fails one by one, as a broker would.
 */
class RetryTest {
  private static final Duration WAIT = Duration.ofSeconds(30);
  private final MockProducer<String, String> producer =
      new MockProducer<>(false, new StringSerializer(), new StringSerializer());
  private final AtomicInteger retries = new AtomicInteger();
  private final ProducerRecord<String, String> first = new ProducerRecord<>("out", "c:1", "one");
  private final ProducerRecord<String, String> second = new ProducerRecord<>("out", "c:2", "two");

  private CompletableFuture<Void> publishBoth() {
    return CompletableFuture.runAsync(
        () -> {
          try {
            Retry.kafka(
                "2 notifications",
                LoggerFactory.getLogger(RetryTest.class),
                retries::incrementAndGet,
                producer,
                List.of(first, second));
          } catch (InterruptedException e) {
            throw new IllegalStateException(e);
          }
        });
  }

  @Test
  void sendsAgainOnlyWhatABrokerOutageLeftUnacknowledged() throws Exception {
    CompletableFuture<Void> publishing = publishBoth();
    Await.until("both sent", WAIT, () -> producer.history().size() == 2);
    // The producer gives up on the first (delivery.timeout.ms passed), the second is acknowledged.
    producer.errorNext(new TimeoutException("Expiring 1 record(s): 120001 ms has passed"));
    producer.completeNext();
    Await.until("the first sent again", WAIT, () -> producer.history().size() == 3);
    assertEquals(first, producer.history().get(2));
    assertTrue(!publishing.isDone(), "returned before the first was acknowledged");
    producer.completeNext();

    publishing.get(30, TimeUnit.SECONDS);
    assertEquals(1, retries.get());
  }

  @Test
  void aRefusalTimeCannotFixIsThrown() {
    CompletableFuture<Void> publishing = publishBoth();
    Await.until("both sent", WAIT, () -> producer.history().size() == 2);
    producer.errorNext(new RecordTooLargeException("too large"));
    producer.completeNext();

    Exception e = assertThrows(Exception.class, () -> publishing.get(30, TimeUnit.SECONDS));
    assertTrue(e.getCause().getMessage().contains("Cannot publish 2 notifications"), e.toString());
    assertEquals(0, retries.get());
    assertEquals(2, producer.history().size());
  }

  /** A refusal for good is handed back by index once the rest are acknowledged, not thrown. */
  @Test
  void aRefusedRecordIsReturnedWhileTheOthersAreWaitedFor() throws Exception {
    CompletableFuture<java.util.Map<Integer, Exception>> publishing =
        CompletableFuture.supplyAsync(
            () -> {
              try {
                return Retry.kafkaUnlessRefused(
                    "2 notifications",
                    LoggerFactory.getLogger(RetryTest.class),
                    retries::incrementAndGet,
                    producer,
                    List.of(first, second));
              } catch (InterruptedException e) {
                throw new IllegalStateException(e);
              }
            });
    Await.until("both sent", WAIT, () -> producer.history().size() == 2);
    producer.errorNext(new RecordTooLargeException("too large"));
    producer.errorNext(new TimeoutException("expired"));
    Await.until("the second sent again", WAIT, () -> producer.history().size() == 3);
    assertEquals(second, producer.history().get(2));
    producer.completeNext();

    java.util.Map<Integer, Exception> refused = publishing.get(30, TimeUnit.SECONDS);
    assertEquals(java.util.Set.of(0), refused.keySet());
    assertTrue(refused.get(0) instanceof RecordTooLargeException, refused.toString());
    assertEquals(1, retries.get());
  }
}
