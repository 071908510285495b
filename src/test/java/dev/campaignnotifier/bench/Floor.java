package dev.campaignnotifier.bench;

import dev.campaignnotifier.model.Campaign;
import dev.campaignnotifier.model.Notification;
import dev.campaignnotifier.model.NotificationJson;
import java.io.IOException;
import java.io.StringReader;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Future;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.postgresql.PGConnection;

/**
 * The floor a fan-out is measured against: what the same servers take to receive the same work with
 * no pipeline in between. One {@code COPY} of the n rows the service writes into the contract's
 * {@code subscribers_feedback}, unique index and all, while a bare producer with the service's own
 * settings ({@code acks=all}, idempotence, lz4, batching) sends the n messages it sends; both at
 * once, the time until both are done.
 */
final class Floor {
  private Floor() {}

  /** Milliseconds for n rows and n messages of campaign {@code id} at once. */
  static double measure(BenchServers servers, String id, String restaurant, int n, String topic)
      throws Exception {
    servers.createTopics(topic);
    long now = Instant.now().getEpochSecond();
    Campaign campaign =
        new Campaign(
            restaurant,
            id,
            "first campaign",
            "Ivanov Ivan Ivanovich",
            "iiivanov@restaurant.ru",
            now - 10,
            now + 3600,
            now - 10);
    String rows = copyText(campaign, n, now);
    List<ProducerRecord<String, String>> messages = new ArrayList<>(n);
    for (int i = 1; i <= n; i++) {
      Notification note = new Notification(campaign, "client-" + i, now);
      messages.add(new ProducerRecord<>(topic, note.key(), NotificationJson.toJson(note)));
    }
    try (KafkaProducer<String, String> producer = servers.producer();
        Connection c = servers.db.getConnection()) {
      // Connected and the producer's metadata fetched before the clock starts, as the service's
      // are.
      producer.partitionsFor(topic);
      long started = System.nanoTime();
      CompletableFuture<Void> copy =
          CompletableFuture.runAsync(
              () -> {
                try {
                  c.unwrap(PGConnection.class)
                      .getCopyAPI()
                      .copyIn(
                          "COPY public.subscribers_feedback (restaurant_id, adv_campaign_id,"
                              + " adv_campaign_content, adv_campaign_owner,"
                              + " adv_campaign_owner_contact, adv_campaign_datetime_start,"
                              + " adv_campaign_datetime_end, datetime_created, client_id,"
                              + " trigger_datetime_created, feedback) FROM STDIN",
                          new StringReader(rows));
                } catch (SQLException | IOException e) {
                  throw new IllegalStateException("COPY failed", e);
                }
              });
      CompletableFuture<Void> produce =
          CompletableFuture.runAsync(
              () -> {
                try {
                  List<Future<?>> acks = new ArrayList<>(n);
                  for (ProducerRecord<String, String> message : messages) {
                    acks.add(producer.send(message));
                  }
                  for (Future<?> ack : acks) {
                    ack.get();
                  }
                } catch (Exception e) {
                  throw new IllegalStateException("producing failed", e);
                }
              });
      CompletableFuture.allOf(copy, produce).get();
      return (System.nanoTime() - started) / 1e6;
    }
  }

  private static String copyText(Campaign c, int n, long trigger) {
    String fixed =
        String.join(
                "\t",
                c.restaurantId(),
                c.advCampaignId(),
                c.content(),
                c.owner(),
                c.ownerContact(),
                Long.toString(c.startEpochSecond()),
                Long.toString(c.endEpochSecond()),
                Long.toString(c.createdEpochSecond()))
            + "\tclient-";
    String tail = "\t" + trigger + "\t\\N\n";
    StringBuilder rows = new StringBuilder(n * (fixed.length() + tail.length() + 8));
    for (int i = 1; i <= n; i++) {
      rows.append(fixed).append(i).append(tail);
    }
    return rows.toString();
  }
}
