package dev.campaignnotifier.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.campaignnotifier.BadInputCorpus;
import dev.campaignnotifier.Samples;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.beam.sdk.PipelineResult;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** Bad messages interleaved with good ones, through a real broker. */
class DeadLetterIT {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Duration WAIT = Duration.ofSeconds(90);

  @Test
  void everyBadMessageIsDeadLetteredWithItsReasonAndEveryGoodOneIsDelivered() throws Exception {
    List<BadInputCorpus.Case> corpus = BadInputCorpus.cases();
    long now = Instant.now().getEpochSecond();
    try (RunningPipeline service = RunningPipeline.start()) {
      // Offsets on the single partition follow publishing order: offset -> what was published.
      Map<Long, BadInputCorpus.Case> badByOffset = new HashMap<>();
      List<String> goodIds = new ArrayList<>();
      long offset = 0;
      for (BadInputCorpus.Case bad : corpus) {
        String id = "good-" + offset;
        service.publish(
            "k" + offset, Samples.campaignJson(id, Samples.OTHER_RESTAURANT, now - 10, now + 3600));
        goodIds.add(id);
        offset++;
        service.publish(keyOf(offset), bad.value());
        badByOffset.put(offset, bad);
        offset++;
      }

      Await.until(
          corpus.size() + " dead letters",
          WAIT,
          () -> service.deadLetters().size() >= corpus.size(),
          () -> ", got " + service.deadLetters().size());
      Await.until(goodIds.size() + " rows", WAIT, () -> service.feedbackRows() >= goodIds.size());
      Await.until(
          goodIds.size() + " notifications",
          WAIT,
          () -> service.notifications().size() >= goodIds.size());

      List<ConsumerRecord<String, String>> deadLetters = service.deadLetters();
      assertEquals(corpus.size(), deadLetters.size());
      for (ConsumerRecord<String, String> record : deadLetters) {
        JsonNode d = JSON.readTree(record.value());
        long source = d.get("offset").longValue();
        BadInputCorpus.Case expected = badByOffset.remove(source);
        assertEquals(expected.reason().name(), d.get("reason").textValue(), expected.name());
        assertEquals(service.options.getInputTopic(), d.get("topic").textValue());
        assertEquals(0, d.get("partition").intValue());
        assertEquals(keyOf(source), d.get("key").textValue(), expected.name());
        assertEquals(keyOf(source), record.key(), "dead letter keeps the original key");
        assertArrayEquals(expected.value(), originalValue(d), expected.name());
        assertEquals(true, d.get("message").textValue().length() > 5, expected.name());
      }
      assertEquals(Map.of(), badByOffset, "every bad message has exactly one dead letter");

      assertEquals(goodIds.size(), service.feedbackRows());
      assertEquals(goodIds.size(), service.notifications().size());
      assertEquals(PipelineResult.State.RUNNING, service.state());

      // Still running and still processing after all that.
      service.publish("k", Samples.campaignJson("after", Samples.RESTAURANT, now - 10, now + 3600));
      Await.until(
          "the last campaign's rows", WAIT, () -> service.feedbackRows() >= goodIds.size() + 9);
    }
  }

  /** Scenario: the corpus, twenty times over, among 10,000 valid campaigns sent at full speed. */
  @Test
  @Tag("slow")
  void poisonInputUnderLoadNeitherStallsNorLosesAnything() {
    List<BadInputCorpus.Case> corpus = BadInputCorpus.cases();
    long now = Instant.now().getEpochSecond();
    int good = 10_000;
    List<ProducerRecord<byte[], byte[]>> records = new ArrayList<>();
    int bad = 0;
    try (RunningPipeline service = RunningPipeline.start()) {
      String topic = service.options.getInputTopic();
      for (int i = 0; i < good; i++) {
        records.add(
            new ProducerRecord<>(
                topic,
                ("k" + i).getBytes(StandardCharsets.UTF_8),
                Samples.campaignJson("load-" + i, Samples.OTHER_RESTAURANT, now - 10, now + 3600)
                    .getBytes(StandardCharsets.UTF_8)));
        if (i % 10 == 0) {
          records.add(new ProducerRecord<>(topic, null, corpus.get(bad % corpus.size()).value()));
          bad++;
        }
      }
      long started = System.nanoTime();
      service.publishAll(records);
      int expectedBad = bad;
      Await.until(
          good + " rows",
          Duration.ofMinutes(5),
          () -> service.feedbackRows() >= good,
          () -> ", got " + service.feedbackRows());
      Await.until(
          expectedBad + " dead letters",
          Duration.ofMinutes(5),
          () -> service.deadLetters().size() >= expectedBad);
      System.out.printf(
          "poison under load: %d valid campaigns and %d bad messages in %.1f s; rows %d, messages"
              + " %d, dead letters %d%n",
          good,
          expectedBad,
          (System.nanoTime() - started) / 1e9,
          service.feedbackRows(),
          service.notifications().size(),
          service.deadLetters().size());
      assertEquals(good, service.feedbackRows());
      assertEquals(good, service.notifications().size());
      assertEquals(expectedBad, service.deadLetters().size());
      assertEquals(PipelineResult.State.RUNNING, service.state());
    }
  }

  private static String keyOf(long offset) {
    return "bad-" + offset;
  }

  private static byte[] originalValue(JsonNode d) {
    if (d.get("value").isNull()) {
      assertNull(d.get("value_encoding").textValue());
      return null;
    }
    String text = d.get("value").textValue();
    return "base64".equals(d.get("value_encoding").textValue())
        ? Base64.getDecoder().decode(text)
        : text.getBytes(StandardCharsets.UTF_8);
  }
}
