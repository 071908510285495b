package dev.campaignnotifier.bench;

import dev.campaignnotifier.delivery.DeliverNotifications;
import dev.campaignnotifier.delivery.FeedbackTable;
import dev.campaignnotifier.local.SampleCampaign;
import dev.campaignnotifier.model.Campaign;
import dev.campaignnotifier.model.NotificationJson;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.postgresql.PGConnection;

/**
 * The floor a delivery is measured against: what the same servers take to receive the same work
 * with no pipeline in between. The rows the service writes go into the contract's {@code
 * subscribers_feedback}, unique index and all, by {@code COPY}, while a bare producer with the
 * service's own settings ({@code acks=all}, idempotence, lz4, batching) sends the messages it
 * sends; both at once, the time until both are done. The {@code COPY} is measured two ways, and the
 * faster counts: all rows in one transaction, and the rows in slices of {@code --deliverySliceSize}
 * on as many connections at once as a delivery worker uses (a floor the service beats with parallel
 * slices is no floor).
 */
final class Floor {
  /** The rows and messages of one campaign. */
  record Part(Campaign campaign, List<String> clients) {}

  /** Both ways, in milliseconds. */
  record Time(double oneTransactionMillis, double slicedMillis) {
    double millis() {
      return Math.min(oneTransactionMillis, slicedMillis);
    }
  }

  private Floor() {}

  /** One campaign of n subscribers ({@code client-1..n}). */
  static Time measure(
      BenchServers servers, String id, String restaurant, int n, String topic, int sliceSize)
      throws Exception {
    return measure(servers, List.of(part(id, restaurant, n)), topic, sliceSize);
  }

  /** A campaign of n subscribers, {@code client-1..n}, active for an hour. */
  static Part part(String id, String restaurant, int n) {
    long now = Instant.now().getEpochSecond();
    Campaign campaign = SampleCampaign.campaign(id, restaurant, now - 10, now + 3600, now - 10);
    List<String> clients = new ArrayList<>(n);
    for (int i = 1; i <= n; i++) {
      clients.add("client-" + i);
    }
    return new Part(campaign, clients);
  }

  /** The parts' rows and messages, both ways; the feedback table is emptied before each. */
  static Time measure(BenchServers servers, List<Part> parts, String topic, int sliceSize)
      throws Exception {
    servers.createTopics(topic);
    int trigger = (int) Instant.now().getEpochSecond();
    List<ProducerRecord<String, String>> messages = new ArrayList<>();
    List<byte[]> slices = new ArrayList<>();
    ByteArrayOutputStream all = new ByteArrayOutputStream();
    ByteArrayOutputStream slice = new ByteArrayOutputStream();
    int inSlice = 0;
    for (Part part : parts) {
      for (String client : part.clients()) {
        messages.add(
            new ProducerRecord<>(
                topic,
                NotificationJson.keyPrefix(part.campaign().advCampaignId()) + client,
                NotificationJson.forSlice(part.campaign(), trigger).forClient(client)));
        // The very bytes the service's COPY sends for these rows.
        byte[] row = FeedbackTable.copyRows(part.campaign(), trigger, List.of(client));
        all.writeBytes(row);
        slice.writeBytes(row);
        if (++inSlice == sliceSize) {
          slices.add(slice.toByteArray());
          slice.reset();
          inSlice = 0;
        }
      }
    }
    if (inSlice > 0) {
      slices.add(slice.toByteArray());
    }
    servers.truncateFeedback();
    double one = timed(servers, messages, List.of(all.toByteArray()), 1);
    servers.truncateFeedback();
    double sliced = timed(servers, messages, slices, DeliverNotifications.slicesInDelivery());
    return new Time(one, sliced);
  }

  /**
   * Milliseconds until {@code copies} (each a transaction, {@code connections} at once) and the
   * messages are all done.
   */
  private static double timed(
      BenchServers servers,
      List<ProducerRecord<String, String>> messages,
      List<byte[]> copies,
      int connections)
      throws Exception {
    List<Connection> pool = new ArrayList<>();
    ExecutorService copiers = Executors.newFixedThreadPool(connections);
    try (KafkaProducer<String, String> producer = servers.producer()) {
      for (int i = 0; i < connections; i++) {
        pool.add(servers.db.getConnection());
      }
      // Connected and the producer's metadata fetched before the clock starts, as the service's
      // are.
      producer.partitionsFor(messages.get(0).topic());
      long started = System.nanoTime();
      List<CompletableFuture<Void>> work = new ArrayList<>();
      java.util.concurrent.BlockingQueue<Connection> free =
          new java.util.concurrent.LinkedBlockingQueue<>(pool);
      for (byte[] rows : copies) {
        work.add(
            CompletableFuture.runAsync(
                () -> {
                  Connection c = null;
                  try {
                    c = free.take();
                    c.unwrap(PGConnection.class)
                        .getCopyAPI()
                        .copyIn(FeedbackTable.COPY, new ByteArrayInputStream(rows));
                  } catch (SQLException | IOException e) {
                    throw new IllegalStateException("COPY failed", e);
                  } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException(e);
                  } finally {
                    if (c != null) {
                      free.add(c);
                    }
                  }
                },
                copiers));
      }
      work.add(
          CompletableFuture.runAsync(
              () -> {
                try {
                  List<Future<?>> acks = new ArrayList<>(messages.size());
                  for (ProducerRecord<String, String> message : messages) {
                    acks.add(producer.send(message));
                  }
                  for (Future<?> ack : acks) {
                    ack.get();
                  }
                } catch (Exception e) {
                  throw new IllegalStateException("producing failed", e);
                }
              }));
      CompletableFuture.allOf(work.toArray(CompletableFuture[]::new)).get();
      return (System.nanoTime() - started) / 1e6;
    } finally {
      copiers.shutdownNow();
      for (Connection c : pool) {
        c.close();
      }
    }
  }
}
