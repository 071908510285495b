package dev.campaignnotifier.delivery;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.campaignnotifier.Samples;
import dev.campaignnotifier.it.LocalServers;
import dev.campaignnotifier.model.Campaign;
import dev.campaignnotifier.model.DeadLetterReason;
import dev.campaignnotifier.model.Slice;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.util.List;
import java.util.Map;
import java.util.Set;
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

  private static SliceDelivery.Sinks sinks(
      MockProducer<String, String> producer, DataSource db, boolean checksFavourites) {
    return new SliceDelivery.Sinks(
        producer,
        OUT,
        DLQ,
        "campaigns",
        db,
        LoggerFactory.getLogger(SliceDeliveryIT.class),
        () -> {},
        () -> {},
        checksFavourites);
  }

  /** Delivers the parcel as the service does, its clients having the restaurants in favourites. */
  private static SliceDelivery.Outcome deliver(
      MockProducer<String, String> producer, DataSource db, List<Slice> parcel) throws Exception {
    for (Slice slice : parcel) {
      favourites(db, slice.campaign().restaurantId(), slice.clients());
    }
    return SliceDelivery.deliver(sinks(producer, db, true), parcel);
  }

  private static SliceDelivery.Outcome deliver(
      MockProducer<String, String> producer, DataSource db, Slice slice) throws Exception {
    return deliver(producer, db, List.of(slice));
  }

  private static void favourites(DataSource db, String restaurant, List<String> clients)
      throws Exception {
    try (Connection c = db.getConnection();
        PreparedStatement s =
            c.prepareStatement(
                "INSERT INTO public.subscribers_restaurants (client_id, restaurant_id) VALUES (?, ?)")) {
      c.setAutoCommit(true);
      for (String client : clients) {
        s.setString(1, client);
        s.setString(2, restaurant);
        s.executeUpdate();
      }
    }
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
    Slice slice = new Slice(campaign, 15, List.of("a", "b"), "f1", 1, 1);

    SliceDelivery.Outcome outcome = deliver(producer, db, slice);

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
    Slice slice = new Slice(campaign, 15, List.of("a", "b", "c"), "f1", 1, 1);

    SliceDelivery.Outcome outcome = deliver(producer, db, slice);

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
    Slice slice = new Slice(campaign, 15, clients, "f1", 1, 1);

    SliceDelivery.Outcome outcome = deliver(producer, db, slice);

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

  /**
   * The small slices of three campaigns go as one parcel: one transaction (one {@code xmin}), all
   * rows and messages, and each campaign finished in the ledger.
   */
  @Test
  void smallSlicesOfManyCampaignsAreDeliveredInOneTransaction() throws Exception {
    DataSource db = database("");
    MockProducer<String, String> producer = broker("none");
    List<Slice> parcel =
        List.of(
            new Slice(Samples.campaign("p1", "r1", 10, 20), 15, List.of("a"), "f1", 1, 1),
            new Slice(Samples.campaign("p2", "r2", 10, 20), 15, List.of("a", "b"), "f2", 1, 1),
            new Slice(
                Samples.campaign("p3", "r3", 10, 20), 15, List.of("c", "d", "e"), "f3", 1, 1));

    SliceDelivery.Outcome outcome = deliver(producer, db, parcel);

    assertEquals(6, outcome.delivered());
    assertEquals(6, count(db, "SELECT count(*) FROM public.subscribers_feedback"));
    assertEquals(6, sent(producer, OUT).size());
    assertEquals(
        Set.of("p1", "p2", "p3"), DeliveryLedger.finishedAmong(db, List.of("p1", "p2", "p3")));
    assertEquals(
        1,
        count(
            db,
            "SELECT count(DISTINCT xmin::text) FROM (SELECT xmin FROM public.subscribers_feedback"
                + " UNION ALL SELECT xmin FROM public.campaign_slices) rows"),
        "rows and ledger rows of all three written by one transaction");
  }

  /**
   * A parcel with a slice delivered before (a replay) and one whose campaign PostgreSQL refuses
   * goes again slice by slice: the delivered clients keep their one row, the refused campaign is
   * dead-lettered alone, the third is delivered.
   */
  @Test
  void aParcelWithARowThatExistsOrIsRefusedIsDeliveredSliceBySlice() throws Exception {
    DataSource db = database("");
    MockProducer<String, String> producer = broker("none");
    Slice before = new Slice(Samples.campaign("q1", "r1", 10, 20), 15, List.of("a"), "f1", 1, 1);
    deliver(producer, db, before);
    String longClient = Samples.randomId(3_000);
    List<Slice> parcel =
        List.of(
            new Slice(Samples.campaign("q1", "r1", 10, 20), 15, List.of("a", "b"), "f1b", 1, 1),
            new Slice(
                Samples.campaign(Samples.randomId(1_000), "r2", 10, 20),
                15,
                List.of(longClient),
                "f2",
                1,
                1),
            new Slice(Samples.campaign("q3", "r3", 10, 20), 15, List.of("c"), "f3", 1, 1));

    // Without the favourites check: a client id this long cannot be in the lookup index's table
    // with its restaurant (PostgreSQL caps an index entry at 2,704 bytes), and the check needs it.
    SliceDelivery.Outcome outcome = SliceDelivery.deliver(sinks(producer, db, false), parcel);

    assertEquals(3, outcome.delivered(), "a again (its row exists), b and c");
    assertEquals(Map.of(DeadLetterReason.FEEDBACK_REFUSED, 1), outcome.deadLettered());
    assertEquals(
        1, count(db, "SELECT count(*) FROM public.subscribers_feedback WHERE client_id = 'a'"));
    assertEquals(3, count(db, "SELECT count(*) FROM public.subscribers_feedback"));
    assertEquals(Set.of("q1", "q3"), DeliveryLedger.finishedAmong(db, List.of("q1", "q3")));
  }

  /**
   * Kafka refuses the messages of one campaign of a parcel (its topic is a poisoned key's): that
   * slice is dead-lettered and has no rows, the others of the parcel are committed.
   */
  @Test
  void whatKafkaRefusesInAParcelIsDeadLetteredForItsSliceOnly() throws Exception {
    DataSource db = database("");
    MockProducer<String, String> producer =
        new MockProducer<>(true, new StringSerializer(), new StringSerializer()) {
          @Override
          public synchronized Future<RecordMetadata> send(
              ProducerRecord<String, String> record, Callback callback) {
            if (record.topic().equals(OUT) && record.key().startsWith("big:")) {
              return CompletableFuture.failedFuture(
                  new org.apache.kafka.common.errors.RecordTooLargeException("too large"));
            }
            return super.send(record, callback);
          }
        };
    List<Slice> parcel =
        List.of(
            new Slice(Samples.campaign("ok1", "r1", 10, 20), 15, List.of("a"), "f1", 1, 1),
            new Slice(Samples.campaign("big", "r2", 10, 20), 15, List.of("a", "b"), "f2", 1, 1),
            new Slice(Samples.campaign("ok2", "r3", 10, 20), 15, List.of("c"), "f3", 1, 1));

    SliceDelivery.Outcome outcome = deliver(producer, db, parcel);

    assertEquals(2, outcome.delivered());
    assertEquals(Map.of(DeadLetterReason.NOTIFICATION_REFUSED, 1), outcome.deadLettered());
    assertEquals(
        0,
        count(
            db, "SELECT count(*) FROM public.subscribers_feedback WHERE adv_campaign_id = 'big'"));
    assertEquals(2, count(db, "SELECT count(*) FROM public.subscribers_feedback"));
    List<ProducerRecord<String, String>> letters = sent(producer, DLQ);
    assertEquals(List.of("big"), letters.stream().map(ProducerRecord::key).toList());
    assertEquals(
        Set.of("ok1", "big", "ok2"),
        DeliveryLedger.finishedAmong(db, List.of("ok1", "big", "ok2")));
  }

  /**
   * A client who removed the restaurant from favourites after the fan-out read them gets nothing:
   * no row, no message; the others of the parcel are delivered, the slices settled in the ledger,
   * and the one question about favourites is for the whole parcel. The same client id with another
   * restaurant still in favourites is notified of that one's campaign.
   */
  @Test
  void aClientWhoRemovedTheFavouriteBeforeTheDeliveryGetsNothing() throws Exception {
    DataSource db = database("");
    MockProducer<String, String> producer = broker("none");
    favourites(db, "r1", List.of("a", "c"));
    favourites(db, "r2", List.of("b"));
    List<Slice> parcel =
        List.of(
            new Slice(Samples.campaign("g1", "r1", 10, 20), 15, List.of("a", "b", "c"), "f1", 1, 1),
            new Slice(Samples.campaign("g2", "r2", 10, 20), 15, List.of("a", "b"), "f2", 1, 1));

    SliceDelivery.Outcome outcome = SliceDelivery.deliver(sinks(producer, db, true), parcel);

    assertEquals(3, outcome.delivered());
    assertEquals(2, outcome.notFavourite(), "b of r1 and a of r2");
    assertEquals(
        List.of("g1:a", "g1:c", "g2:b"),
        sent(producer, OUT).stream().map(ProducerRecord::key).sorted().toList());
    assertEquals(
        3,
        count(
            db,
            "SELECT count(*) FROM public.subscribers_feedback WHERE (adv_campaign_id, client_id)"
                + " IN (('g1', 'a'), ('g1', 'c'), ('g2', 'b'))"));
    assertEquals(3, count(db, "SELECT count(*) FROM public.subscribers_feedback"));
    assertEquals(Set.of("g1", "g2"), DeliveryLedger.finishedAmong(db, List.of("g1", "g2")));
    assertEquals(List.of(), sent(producer, DLQ), "a removal is not bad input");
  }

  /**
   * A fan-out's slice (at least {@link Favourites#RANGE_FROM} clients) is asked about as one range
   * of the index: the client removed from its middle gets nothing, a favourite of the restaurant
   * inside the range but not in the slice is not made a notification, and ids that sort differently
   * in the database's collation than in Java's (upper and lower case) are all found.
   */
  @Test
  void aFanOutsSliceIsCheckedAsOneRangeOfTheIndex() throws Exception {
    DataSource db = database("");
    MockProducer<String, String> producer = broker("none");
    List<String> clients = new java.util.ArrayList<>();
    for (int i = 0; i < 150; i++) {
      clients.add((i % 2 == 0 ? "Client-" : "client-") + (1000 + i));
    }
    favourites(db, "big", clients);
    favourites(db, "big", List.of("client-1001x")); // in the range, not in the slice
    try (Connection c = db.getConnection();
        java.sql.Statement s = c.createStatement()) {
      c.setAutoCommit(true);
      s.execute("DELETE FROM public.subscribers_restaurants WHERE client_id = 'Client-1074'");
    }
    Slice slice = new Slice(Samples.campaign("big-c", "big", 10, 20), 15, clients, "f1", 1, 1);

    SliceDelivery.Outcome outcome = SliceDelivery.deliver(sinks(producer, db, true), slice);

    assertEquals(149, outcome.delivered());
    assertEquals(1, outcome.notFavourite());
    assertEquals(149, count(db, "SELECT count(*) FROM public.subscribers_feedback"));
    assertEquals(
        0,
        count(
            db,
            "SELECT count(*) FROM public.subscribers_feedback"
                + " WHERE client_id IN ('Client-1074', 'client-1001x')"));
  }
}
