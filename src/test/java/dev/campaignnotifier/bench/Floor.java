package dev.campaignnotifier.bench;

import dev.campaignnotifier.io.FeedbackTable;
import dev.campaignnotifier.local.SampleCampaign;
import dev.campaignnotifier.model.Campaign;
import dev.campaignnotifier.model.Notification;
import dev.campaignnotifier.model.NotificationJson;
import java.io.ByteArrayInputStream;
import java.io.IOException;
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
    Campaign campaign = SampleCampaign.campaign(id, restaurant, now - 10, now + 3600, now - 10);
    List<String> clients = new ArrayList<>(n);
    for (int i = 1; i <= n; i++) {
      clients.add("client-" + i);
    }
    // The very bytes the service's COPY sends for these rows.
    byte[] rows = FeedbackTable.copyRows(campaign, (int) now, clients);
    List<ProducerRecord<String, String>> messages = new ArrayList<>(n);
    for (String client : clients) {
      Notification note = new Notification(campaign, client, now);
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
                      .copyIn(FeedbackTable.COPY, new ByteArrayInputStream(rows));
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
}
