package dev.campaignnotifier.delivery;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;

/**
 * The delivery's producers, shared in a JVM: Spark sets a delivery step up for every task of every
 * micro-batch, and each one used to open a producer of its own.
 */
class SharedProducersTest {
  private final List<MockProducer<String, String>> made = new ArrayList<>();

  private Producer<String, String> make() {
    MockProducer<String, String> producer =
        new MockProducer<>(true, new StringSerializer(), new StringSerializer());
    made.add(producer);
    return producer;
  }

  /** Tasks of micro-batch after micro-batch, each setting up and tearing down: one producer. */
  @Test
  void instancesSetUpOneAfterAnotherShareOneProducer() {
    SharedProducers producers = new SharedProducers(Duration.ofHours(1));
    for (int batch = 0; batch < 100; batch++) {
      Producer<String, String> a = producers.acquire("broker out", this::make);
      Producer<String, String> b = producers.acquire("broker out", this::make);
      assertSame(a, b);
      producers.release("broker out");
      producers.release("broker out");
    }
    assertEquals(1, producers.created());
    assertFalse(made.get(0).closed(), "kept open for the next micro-batch");
  }

  @Test
  void anotherTopicOrBrokerHasAProducerOfItsOwn() {
    SharedProducers producers = new SharedProducers(Duration.ofHours(1));
    assertNotSame(producers.acquire("a out", this::make), producers.acquire("b out", this::make));
    assertEquals(2, producers.created());
  }

  /** Without a linger the last holder closes it, and the next taker gets a new one. */
  @Test
  void theLastHolderClosesItOnceNobodyTakesItAgain() {
    SharedProducers producers = new SharedProducers(Duration.ZERO);
    producers.acquire("k", this::make);
    producers.acquire("k", this::make);
    producers.release("k");
    assertFalse(made.get(0).closed(), "one holder left");
    producers.release("k");
    assertTrue(made.get(0).closed());
    producers.acquire("k", this::make);
    assertEquals(2, producers.created());
  }
}
