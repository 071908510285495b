package dev.campaignnotifier.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.campaignnotifier.Samples;
import dev.campaignnotifier.it.LocalServers;
import dev.campaignnotifier.model.Campaign;
import dev.campaignnotifier.model.DeadLetterReason;
import dev.campaignnotifier.model.NotificationBatch;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Future;
import javax.sql.DataSource;
import org.apache.kafka.clients.producer.Callback;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.errors.TopicAuthorizationException;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * One slice's delivery on a real PostgreSQL, with a producer that stands for a broker whose answers
 * the test decides: what a sink refuses for good is dead-lettered and settled in the ledger, and
 * nothing is published for rows PostgreSQL refused. (The broker's own refusals, a record too large
 * for the topic, are in PoisonCampaignsIT on a real broker.)
 */
class SliceDeliveryIT {
  private static final String OUT = "notifications";
  private static final String DLQ = "dead-letters";

  /** Acknowledges every record at once, except those of {@code deniedTopic}: not authorized. */
  private static MockProducer<String, String> broker(String deniedTopic) {
    return new MockProducer<>(true, new StringSerializer(), new StringSerializer()) {
      @Override
      public synchronized Future<RecordMetadata> send(
          ProducerRecord<String, String> record, Callback callback) {
        if (record.topic().equals(deniedTopic)) {
          super.send(record, callback);
          return CompletableFuture.failedFuture(
              new TopicAuthorizationException(
                  "Not authorized to access topics: [" + deniedTopic + "]"));
        }
        return super.send(record, callback);
      }
    };
  }

  private static DataSource database(String options) {
    return LocalServers.database("slice", options);
  }

  private static SliceDelivery.Sinks sinks(MockProducer<String, String> producer, DataSource db) {
    return new SliceDelivery.Sinks(
        producer,
        OUT,
        DLQ,
        "campaigns",
        db,
        LoggerFactory.getLogger(SliceDeliveryIT.class),
        () -> {},
        () -> {});
  }

  private static long count(DataSource db, String sql) throws Exception {
    return LocalServers.count(db, sql);
  }

  private static List<ProducerRecord<String, String>> sent(
      MockProducer<String, String> producer, String topic) {
    return producer.history().stream().filter(r -> r.topic().equals(topic)).toList();
  }

  @Test
  void anOutputTopicTheServiceMayNotWriteToDeadLettersTheSliceAndSettlesIt() throws Exception {
    DataSource db = database("");
    MockProducer<String, String> producer = broker(OUT);
    Campaign campaign = Samples.campaign("denied", "r", 10, 20);
    NotificationBatch slice = new NotificationBatch(campaign, 15, List.of("a", "b"), "f1", 1, 1);

    SliceDelivery.Outcome outcome = SliceDelivery.deliver(sinks(producer, db), slice);

    assertEquals(0, outcome.delivered());
    assertEquals(Map.of(DeadLetterReason.NOTIFICATION_REFUSED, 1), outcome.deadLettered());
    assertEquals(0, count(db, "SELECT count(*) FROM public.subscribers_feedback"), "no row");
    List<ProducerRecord<String, String>> letters = sent(producer, DLQ);
    assertEquals(1, letters.size());
    assertEquals("denied", letters.get(0).key());
    String letter = letters.get(0).value();
    assertTrue(letter.startsWith("{\"reason\":\"NOTIFICATION_REFUSED\""), letter);
    assertTrue(letter.contains("\"error_code\":\"TopicAuthorizationException\""), letter);
    assertTrue(letter.contains("\"clients\":[\"a\",\"b\"]"), letter);
    assertEquals(
        1,
        count(db, "SELECT count(*) FROM public.campaign_slices WHERE adv_campaign_id = 'denied'"),
        "the slice is settled: a restart does not deliver it again");
    assertEquals(true, DeliveryLedger.finished(db, "denied"));
  }

  /**
   * A database whose encoding has no Cyrillic refuses every row of the campaign (SQLState 22P05):
   * the campaign alone is refused, so it is dead-lettered whole, and nothing was published.
   */
  @Test
  void textTheDatabasesEncodingRefusesIsDeadLetteredBeforeAnythingIsPublished() throws Exception {
    DataSource db = database("ENCODING 'LATIN1' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0");
    MockProducer<String, String> producer = broker("none");
    Campaign campaign = new Campaign("r", "latin", "скидка 50%", "owner", "contact", 10, 20, 5);
    NotificationBatch slice =
        new NotificationBatch(campaign, 15, List.of("a", "b", "c"), "f1", 1, 1);

    SliceDelivery.Outcome outcome = SliceDelivery.deliver(sinks(producer, db), slice);

    assertEquals(0, outcome.delivered());
    assertEquals(Map.of(DeadLetterReason.FEEDBACK_REFUSED, 1), outcome.deadLettered());
    assertEquals(List.of(), sent(producer, OUT), "nothing published for refused rows");
    String letter = sent(producer, DLQ).get(0).value();
    assertTrue(letter.contains("\"error_code\":\"22P05\""), letter);
    assertTrue(letter.contains("\"clients_refused\":3"), letter);
    assertEquals(0, count(db, "SELECT count(*) FROM public.subscribers_feedback"));
    assertEquals(true, DeliveryLedger.finished(db, "latin"));
  }

  /**
   * Of a slice where one client's id is too long for the unique index with this campaign id
   * (SQLState 54000), only that client is refused; the others are recorded and published.
   */
  @Test
  void onlyTheClientsPostgresRefusesAreSetAside() throws Exception {
    DataSource db = database("");
    MockProducer<String, String> producer = broker("none");
    String campaignId = Samples.randomId(1_000);
    String longClient = Samples.randomId(2_000);
    Campaign campaign = Samples.campaign(campaignId, "r", 10, 20);
    List<String> clients = List.of("a", "b", longClient, "c", "d");
    NotificationBatch slice = new NotificationBatch(campaign, 15, clients, "f1", 1, 1);

    SliceDelivery.Outcome outcome = SliceDelivery.deliver(sinks(producer, db), slice);

    assertEquals(4, outcome.delivered());
    assertEquals(
        List.of(campaignId + ":a", campaignId + ":b", campaignId + ":c", campaignId + ":d"),
        sent(producer, OUT).stream().map(ProducerRecord::key).toList());
    assertEquals(4, count(db, "SELECT count(*) FROM public.subscribers_feedback"));
    String letter = sent(producer, DLQ).get(0).value();
    assertTrue(letter.contains("\"error_code\":\"54000\""), letter);
    assertTrue(letter.contains("\"clients\":[\"" + longClient + "\"]"), letter);
    assertTrue(DeliveryLedger.finished(db, campaignId));
  }
}
