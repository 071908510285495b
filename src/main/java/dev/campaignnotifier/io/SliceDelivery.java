package dev.campaignnotifier.io;

import dev.campaignnotifier.model.DeadLetterReason;
import dev.campaignnotifier.model.NotificationBatch;
import dev.campaignnotifier.model.NotificationJson;
import dev.campaignnotifier.model.SinkRefusal;
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
 * The delivery of one slice to both sinks, so that nothing a sink refuses for good stops the
 * service and no message is ever in Kafka without its row because of a refusal PostgreSQL could
 * have told first:
 *
 * <ol>
 *   <li>the rows are written in a transaction that stays open ({@link FeedbackTable#write}); rows
 *       PostgreSQL refuses for good are set aside, with the error;
 *   <li>the notifications of the accepted rows are published and acknowledged; those Kafka refuses
 *       for good have their rows deleted in the same transaction;
 *   <li>what either sink refused goes to the dead-letter topic, one letter per slice and sink, and
 *       is acknowledged;
 *   <li>the slice's ledger row is written (the slice is settled, delivered or dead-lettered) and
 *       the transaction commits.
 * </ol>
 *
 * So a committed row still implies an acknowledged message, and a slice whose commit is lost to a
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
      Runnable onKafkaRetry) {}

  /** What came of a slice: notifications delivered to both sinks, and dead letters by reason. */
  record Outcome(int delivered, Map<DeadLetterReason, Integer> deadLettered) {}

  private final Sinks sinks;
  private final NotificationBatch slice;
  private final String campaignId;
  private List<String> toPublish;
  private final Map<String, Exception> refusedByKafka = new LinkedHashMap<>();
  private final Map<DeadLetterReason, Integer> deadLettered = new LinkedHashMap<>();
  private boolean published;

  private SliceDelivery(Sinks sinks, NotificationBatch slice) {
    this.sinks = sinks;
    this.slice = slice;
    this.campaignId = slice.campaign().advCampaignId();
  }

  static Outcome deliver(Sinks sinks, NotificationBatch slice) throws InterruptedException {
    SliceDelivery delivery = new SliceDelivery(sinks, slice);
    int delivered =
        Retry.sql(
            "write " + slice.size() + " feedback rows of campaign " + delivery.campaignId,
            sinks.log(),
            sinks.onPostgresRetry(),
            delivery::attempt);
    return new Outcome(delivered, delivery.deadLettered);
  }

  /** One transaction; again from the start after a transient error, minus what was published. */
  private int attempt() throws SQLException, InterruptedException {
    try (Connection connection = sinks.postgres().getConnection()) {
      // JdbcIO's pool hands out connections with auto-commit off: commit explicitly.
      connection.setAutoCommit(false);
      try {
        List<String> clients = new ArrayList<>(slice.clients());
        clients.removeAll(refusedByKafka.keySet());
        FeedbackTable.Written written = FeedbackTable.write(connection, slice, clients);
        if (!published) {
          toPublish = written.accepted(clients);
          publish(connection, written);
          published = true;
        }
        DeliveryLedger.record(connection, slice);
        connection.commit();
        return toPublish.size() - refusedByKafka.size();
      } catch (SQLException | RuntimeException e) {
        rollbackQuietly(connection);
        throw e;
      }
    }
  }

  /** Steps 2 and 3: the notifications, then the dead letters of both sinks' refusals. */
  private void publish(Connection connection, FeedbackTable.Written written)
      throws SQLException, InterruptedException {
    NotificationJson.Template json =
        NotificationJson.forSlice(slice.campaign(), slice.triggerEpochSecond());
    String keyPrefix = campaignId + ":";
    List<ProducerRecord<String, String>> messages = new ArrayList<>(toPublish.size());
    for (String client : toPublish) {
      messages.add(new ProducerRecord<>(sinks.topic(), keyPrefix + client, json.forClient(client)));
    }
    // No flush(): it would also wait for the other workers' slices. linger.ms sends the tail.
    Map<Integer, Exception> refused =
        Retry.kafkaUnlessRefused(
            toPublish.size() + " notifications of campaign " + campaignId,
            sinks.log(),
            sinks.onKafkaRetry(),
            sinks.producer(),
            messages);
    refused.forEach((index, error) -> refusedByKafka.put(toPublish.get(index), error));
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
        reason, sink, code, message, sinks.inputTopic(), slice.campaign(), slice.slice(), clients);
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
