package dev.campaignnotifier.delivery;

import dev.campaignnotifier.io.Retry;
import dev.campaignnotifier.model.DeadLetterReason;
import dev.campaignnotifier.model.NotificationJson;
import dev.campaignnotifier.model.SinkRefusal;
import dev.campaignnotifier.model.Slice;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.sql.DataSource;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.slf4j.Logger;

/**
 * The delivery of a parcel of slices (one slice, or the small slices of many campaigns together) to
 * both sinks, in one PostgreSQL transaction and one wait for Kafka's acknowledgements, so that
 * nothing a sink refuses for good stops the service and no message is ever in Kafka without its row
 * because of a refusal PostgreSQL could have told first:
 *
 * <ol>
 *   <li>where the index allows it, the clients who no longer have the restaurant in favourites are
 *       left out ({@link Favourites}), one query for the parcel;
 *   <li>the rows are written in a transaction that stays open: a parcel of several slices with one
 *       {@code COPY} ({@link FeedbackTable#writeTogether}), a single slice with {@link
 *       FeedbackTable#write}, which sets aside the rows PostgreSQL refuses for good, with the
 *       error. A parcel whose {@code COPY} finds a row that exists already, or one PostgreSQL
 *       refuses, is delivered again slice by slice;
 *   <li>the notifications of the accepted rows are published and acknowledged; those Kafka refuses
 *       for good have their rows deleted in the same transaction;
 *   <li>what either sink refused goes to the dead-letter topic, one letter per slice and sink, and
 *       is acknowledged;
 *   <li>each slice's ledger row is written (the slice is settled, delivered or dead-lettered) and
 *       the transaction commits.
 * </ol>
 *
 * So a committed row still implies an acknowledged message, and a parcel whose commit is lost to a
 * crash is delivered again, as before (the in-flight duplicates of the delivery guarantees). A
 * transient PostgreSQL error at any step is waited out and the transaction is written again, but
 * what was acknowledged is not published again.
 */
final class SliceDelivery {
  /** The sinks and topics a slice is delivered to, and what counts their retries. */
  record Sinks(
      Producer<String, String> producer,
      String topic,
      String deadLetterTopic,
      String inputTopic,
      DataSource postgres,
      Logger log,
      Runnable onPostgresRetry,
      Runnable onKafkaRetry,
      boolean checksFavourites) {}

  /**
   * What came of a parcel: notifications delivered to both sinks, dead letters by reason, and
   * clients left out because they no longer have the restaurant in favourites.
   */
  record Outcome(int delivered, Map<DeadLetterReason, Integer> deadLettered, int notFavourite) {}

  private final Sinks sinks;
  private final Slice slice;
  private final String campaignId;
  private List<String> favourites;
  private List<String> toPublish;
  private final Map<String, Exception> refusedByKafka = new LinkedHashMap<>();
  private final Map<DeadLetterReason, Integer> deadLettered = new LinkedHashMap<>();

  private SliceDelivery(Sinks sinks, Slice slice) {
    this.sinks = sinks;
    this.slice = slice;
    this.campaignId = slice.campaign().advCampaignId();
  }

  static Outcome deliver(Sinks sinks, Slice slice) throws InterruptedException {
    return deliver(sinks, List.of(slice));
  }

  /** Delivers the slices together; see the class comment. */
  static Outcome deliver(Sinks sinks, List<Slice> slices) throws InterruptedException {
    Parcel parcel = new Parcel(sinks, slices);
    Integer delivered =
        Retry.sql(
            parcel.size() == 1
                ? "write "
                    + parcel.notifications
                    + " feedback rows of campaign "
                    + parcel.parts.get(0).campaignId
                : "write "
                    + parcel.notifications
                    + " feedback rows of "
                    + parcel.size()
                    + " slices",
            sinks.log(),
            sinks.onPostgresRetry(),
            parcel::attempt);
    if (delivered == null) {
      int each = 0;
      int notFavourite = 0;
      Map<DeadLetterReason, Integer> letters = new LinkedHashMap<>();
      for (Slice slice : slices) {
        Outcome alone = deliver(sinks, List.of(slice));
        each += alone.delivered();
        notFavourite += alone.notFavourite();
        alone.deadLettered().forEach((reason, n) -> letters.merge(reason, n, Integer::sum));
      }
      return new Outcome(each, letters, notFavourite);
    }
    Map<DeadLetterReason, Integer> letters = new LinkedHashMap<>();
    int notFavourite = 0;
    for (SliceDelivery part : parcel.parts) {
      part.deadLettered.forEach((reason, n) -> letters.merge(reason, n, Integer::sum));
      if (part.favourites != null) {
        notFavourite += part.slice.size() - part.favourites.size();
      }
    }
    return new Outcome(delivered, letters, notFavourite);
  }

  /** The slices of one transaction. */
  private static final class Parcel {
    private final Sinks sinks;
    private final List<SliceDelivery> parts = new ArrayList<>();
    private final List<Slice> slices;
    private final int notifications;
    private boolean published;

    Parcel(Sinks sinks, List<Slice> slices) {
      this.sinks = sinks;
      this.slices = slices;
      int n = 0;
      for (Slice slice : slices) {
        parts.add(new SliceDelivery(sinks, slice));
        n += slice.size();
      }
      this.notifications = n;
    }

    int size() {
      return parts.size();
    }

    /**
     * One transaction; again from the start after a transient error, minus what was published. Null
     * when the slices are to be delivered one by one instead.
     */
    Integer attempt() throws SQLException, InterruptedException {
      try (Connection connection = sinks.postgres().getConnection()) {
        // JdbcIO's pool hands out connections with auto-commit off: commit explicitly.
        connection.setAutoCommit(false);
        try {
          if (sinks.checksFavourites() && parts.get(0).favourites == null) {
            // Once per parcel, in its first attempt: a retry writes what was published.
            checkFavourites(connection);
          }
          List<List<String>> clients = new ArrayList<>(parts.size());
          for (SliceDelivery part : parts) {
            clients.add(part.clientsLeft());
          }
          List<FeedbackTable.Written> written = new ArrayList<>(parts.size());
          if (parts.size() == 1) {
            written.add(FeedbackTable.write(connection, slices.get(0), clients.get(0)));
          } else if (FeedbackTable.writeTogether(connection, slices, clients)) {
            clients.forEach(each -> written.add(new FeedbackTable.Written(each, Map.of())));
          } else {
            connection.rollback();
            return null;
          }
          if (!published) {
            for (int i = 0; i < parts.size(); i++) {
              parts.get(i).toPublish = written.get(i).accepted(clients.get(i));
            }
            publish();
            for (int i = 0; i < parts.size(); i++) {
              parts.get(i).settle(connection, written.get(i));
            }
            published = true;
          }
          DeliveryLedger.record(connection, slices);
          connection.commit();
          int delivered = 0;
          for (SliceDelivery part : parts) {
            delivered += part.toPublish.size() - part.refusedByKafka.size();
          }
          return delivered;
        } catch (SQLException | RuntimeException e) {
          rollbackQuietly(connection);
          throw e;
        }
      }
    }

    /** Step 0: the clients of each slice who still have its restaurant in favourites. */
    private void checkFavourites(Connection connection) throws SQLException {
      List<List<String>> all = new ArrayList<>(parts.size());
      for (Slice slice : slices) {
        all.add(slice.clients());
      }
      List<List<String>> kept = Favourites.keep(connection, slices, all);
      for (int i = 0; i < parts.size(); i++) {
        SliceDelivery part = parts.get(i);
        part.favourites = kept.get(i);
        int gone = part.slice.size() - part.favourites.size();
        if (gone > 0) {
          sinks
              .log()
              .info(
                  "Campaign {}, slice {}: {} client(s) no longer have restaurant {} in favourites;"
                      + " not notified",
                  part.campaignId,
                  part.slice.number(),
                  gone,
                  part.slice.campaign().restaurantId());
        }
      }
    }

    /** Step 2: every slice's notifications, one wait for all their acknowledgements. */
    private void publish() throws InterruptedException {
      List<ProducerRecord<String, String>> messages = new ArrayList<>();
      List<SliceDelivery> ofMessage = new ArrayList<>();
      List<String> clientOf = new ArrayList<>();
      for (SliceDelivery part : parts) {
        NotificationJson.Template json =
            NotificationJson.forSlice(part.slice.campaign(), part.slice.triggerEpochSecond());
        String keyPrefix = NotificationJson.keyPrefix(part.campaignId);
        for (String client : part.toPublish) {
          messages.add(
              new ProducerRecord<>(sinks.topic(), keyPrefix + client, json.forClient(client)));
          ofMessage.add(part);
          clientOf.add(client);
        }
      }
      // No flush(): it would also wait for the other workers' slices. linger.ms sends the tail.
      Map<Integer, Exception> refused =
          Retry.kafkaUnlessRefused(
              parts.size() == 1
                  ? messages.size() + " notifications of campaign " + parts.get(0).campaignId
                  : messages.size() + " notifications of " + parts.size() + " slices",
              sinks.log(),
              sinks.onKafkaRetry(),
              sinks.producer(),
              messages);
      refused.forEach(
          (index, error) -> ofMessage.get(index).refusedByKafka.put(clientOf.get(index), error));
    }
  }

  /**
   * The slice's clients (those still with the restaurant in favourites, where that is checked),
   * less those Kafka refused in an earlier attempt.
   */
  private List<String> clientsLeft() {
    List<String> clients = new ArrayList<>(favourites != null ? favourites : slice.clients());
    clients.removeAll(refusedByKafka.keySet());
    return clients;
  }

  /**
   * Step 3 for this slice: the rows of what Kafka refused are deleted, and the dead letters of both
   * sinks' refusals are published.
   */
  private void settle(Connection connection, FeedbackTable.Written written)
      throws SQLException, InterruptedException {
    List<SinkRefusal> letters = new ArrayList<>(2);
    if (!written.refused().isEmpty()) {
      SQLException first = written.refused().values().iterator().next();
      letters.add(
          refusal(
              DeadLetterReason.FEEDBACK_REFUSED,
              "postgresql",
              first.getSQLState(),
              "PostgreSQL refused "
                  + written.refused().size()
                  + " of "
                  + slice.size()
                  + " feedback rows (SQLState "
                  + first.getSQLState()
                  + "): "
                  + first.getMessage()
                  + "; their notifications were not sent",
              new ArrayList<>(written.refused().keySet())));
    }
    if (!refusedByKafka.isEmpty()) {
      List<String> inserted = new ArrayList<>(refusedByKafka.keySet());
      inserted.retainAll(written.inserted());
      FeedbackTable.forget(connection, campaignId, inserted);
      Exception first = refusedByKafka.values().iterator().next();
      letters.add(
          refusal(
              DeadLetterReason.NOTIFICATION_REFUSED,
              "kafka",
              first.getClass().getSimpleName(),
              "Kafka refused "
                  + refusedByKafka.size()
                  + " of "
                  + slice.size()
                  + " notifications for topic "
                  + sinks.topic()
                  + " ("
                  + first.getClass().getSimpleName()
                  + "): "
                  + first.getMessage()
                  + "; they have no feedback row",
              new ArrayList<>(refusedByKafka.keySet())));
    }
    if (!letters.isEmpty()) {
      deadLetter(letters);
    }
  }

  private SinkRefusal refusal(
      DeadLetterReason reason, String sink, String code, String message, List<String> clients) {
    return new SinkRefusal(
        reason, sink, code, message, sinks.inputTopic(), slice.campaign(), slice.number(), clients);
  }

  /**
   * Publishes the letters and waits for them. A letter the dead-letter topic refuses as too large
   * (a campaign too large for the output topic is most likely too large for it too) goes again
   * without the campaign and the client list; one refused even so is thrown: the dead-letter topic
   * cannot be written to, which no input causes.
   */
  private void deadLetter(List<SinkRefusal> letters) throws InterruptedException {
    long now = System.currentTimeMillis();
    List<ProducerRecord<String, String>> whole = new ArrayList<>(letters.size());
    for (SinkRefusal letter : letters) {
      sinks
          .log()
          .warn(
              "Dead letter {} for campaign {}, slice {}: {}",
              letter.reason(),
              campaignId,
              letter.slice(),
              letter.message());
      whole.add(
          new ProducerRecord<>(
              sinks.deadLetterTopic(), campaignId, NotificationJson.toJson(letter, true, now)));
    }
    Map<Integer, Exception> tooLarge =
        Retry.kafkaUnlessRefused(
            letters.size() + " dead letters of campaign " + campaignId,
            sinks.log(),
            sinks.onKafkaRetry(),
            sinks.producer(),
            whole);
    List<ProducerRecord<String, String>> shorter = new ArrayList<>();
    tooLarge.forEach(
        (index, error) ->
            shorter.add(
                new ProducerRecord<>(
                    sinks.deadLetterTopic(),
                    campaignId,
                    NotificationJson.toJson(letters.get(index), false, now))));
    if (!shorter.isEmpty()) {
      Retry.kafka(
          shorter.size() + " shortened dead letters of campaign " + campaignId,
          sinks.log(),
          sinks.onKafkaRetry(),
          sinks.producer(),
          shorter);
    }
    for (SinkRefusal letter : letters) {
      deadLettered.merge(letter.reason(), 1, Integer::sum);
    }
  }

  private static void rollbackQuietly(Connection connection) {
    try {
      if (!connection.isClosed()) {
        connection.rollback();
      }
    } catch (SQLException ignored) {
      // The connection is broken; the pool drops it, and the retry takes another.
    }
  }
}
