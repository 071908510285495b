package dev.campaignnotifier.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.campaignnotifier.Samples;
import dev.campaignnotifier.options.CampaignNotifierOptions;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The servers fail while the service works: PostgreSQL becomes unreachable for 30 s, the Kafka
 * broker restarts, the subscriber table disappears for a while. The service must wait, retry, and
 * end with every row written once and every message delivered.
 */
@Tag("slow")
class OutageIT {
  private static final Duration WAIT = Duration.ofMinutes(5);

  /**
   * The outages' lengths, longer by hand: {@code -Doutage.postgresSeconds=300} and, against the
   * producer's own default delivery timeout (2 minutes), {@code -Doutage.brokerSeconds=300
   * -Doutage.deliveryTimeoutMs=default}.
   */
  private static final int POSTGRES_SECONDS = Integer.getInteger("outage.postgresSeconds", 30);

  private static final int BROKER_SECONDS = Integer.getInteger("outage.brokerSeconds", 25);
  private static final String DELIVERY_TIMEOUT_MS =
      System.getProperty("outage.deliveryTimeoutMs", "8000");
  private static final int SUBSCRIBERS = 100_000;

  private static long now() {
    return Instant.now().getEpochSecond();
  }

  private static void report(String scenario, ServiceClient db) {
    report(scenario, db, SUBSCRIBERS);
  }

  private static void report(String scenario, ServiceClient db, int expected) {
    Map<String, Integer> messages = db.notificationsByKey();
    long rows = db.feedbackRows();
    long duplicates = messages.values().stream().mapToLong(n -> n - 1).sum();
    System.out.printf(
        "%s: rows expected %d / written %d / duplicated 0 (unique index); messages expected %d /"
            + " delivered %d / duplicated %d%n",
        scenario, expected, rows, expected, messages.size(), duplicates);
    assertEquals(expected, rows, scenario + ": rows");
    assertEquals(expected, messages.size(), scenario + ": distinct messages");
  }

  @Test
  void postgresUnreachableIsWaitedOutWithoutLossOrCrash() throws Exception {
    CampaignNotifierOptions o = ServiceClient.options(true);
    ServiceClient db = new ServiceClient(o);
    db.insertSubscribers("big", SUBSCRIBERS);
    try (TcpProxy proxy = new TcpProxy(LocalServers.postgres().port());
        ServiceProcess service =
            ServiceProcess.start(
                ServiceClient.serviceArgs(
                    o, "jdbc:postgresql://localhost:" + proxy.port() + "/" + db.database))) {
      Await.until("ready, with the first snapshot", WAIT, () -> service.ready());
      db.publish("k", Samples.campaignJson("outage", "big", now() - 10, now() + 3600));
      Await.until("some rows", WAIT, () -> db.feedbackRows() >= 10_000);
      proxy.cut();
      long atCut = db.feedbackRows();
      Thread.sleep(POSTGRES_SECONDS * 1000L); // the outage itself: its length is the point
      assertTrue(service.isAlive(), "the service died while PostgreSQL was away");
      String during = service.log();
      proxy.restore();
      System.out.println("cut PostgreSQL for " + POSTGRES_SECONDS + " s at " + atCut + " rows");
      assertTrue(
          during.contains("PostgreSQL unavailable to write"),
          "no retry was logged while PostgreSQL was away");

      Await.until(
          "every row after the outage",
          WAIT,
          () -> db.feedbackRows() >= SUBSCRIBERS,
          () -> ", got " + db.feedbackRows());
      Await.until("every message", WAIT, () -> db.notifications().size() >= SUBSCRIBERS);
      assertTrue(service.isAlive());
      report("PostgreSQL cut for " + POSTGRES_SECONDS + " s", db);
    }
  }

  @Test
  void brokerRestartDuringFanOutIsRidden() throws Exception {
    RestartableBroker broker = new RestartableBroker(LocalServers.tempDir("restarted-kafka"));
    try {
      CampaignNotifierOptions o = ServiceClient.options(broker.kafka(), true);
      ServiceClient db = new ServiceClient(o);
      db.insertSubscribers("big", SUBSCRIBERS);
      try (ServiceProcess service =
          ServiceProcess.start(ServiceClient.serviceArgs(o, o.getJdbcUrl()))) {
        Await.until("ready, with the first snapshot", WAIT, () -> service.ready());
        db.publish("k", Samples.campaignJson("restart", "big", now() - 10, now() + 3600));
        Await.until("some rows", WAIT, () -> db.feedbackRows() >= 10_000);
        long atRestart = db.feedbackRows();
        broker.restart();
        System.out.println("restarted the broker at " + atRestart + " rows");
        Await.until(
            "every row after the restart",
            WAIT,
            () -> db.feedbackRows() >= SUBSCRIBERS,
            () -> ", got " + db.feedbackRows());
        Await.until("every message", WAIT, () -> db.notifications().size() >= SUBSCRIBERS);
        assertTrue(service.isAlive());
        report("broker restart", db);
      }
    } finally {
      broker.close();
    }
  }

  /**
   * The broker stays away three times longer than the producer's delivery timeout (shrunk to 8 s
   * through the user's properties file, so the outage can be 25 s rather than the default's
   * minutes). Before, the first expired batch failed the bundle and the service exited.
   */
  @Test
  void brokerDownLongerThanTheDeliveryTimeoutIsWaitedOut() throws Exception {
    int subscribers = 200_000;
    RestartableBroker broker = new RestartableBroker(LocalServers.tempDir("stopped-kafka"));
    try {
      CampaignNotifierOptions o = ServiceClient.options(broker.kafka(), true);
      ServiceClient db = new ServiceClient(o);
      db.insertSubscribers("big", subscribers);
      Path kafkaProperties = LocalServers.tempDir("short-delivery-timeout").resolve("k.properties");
      Files.writeString(
          kafkaProperties,
          DELIVERY_TIMEOUT_MS.equals("default")
              ? ""
              : "delivery.timeout.ms=" + DELIVERY_TIMEOUT_MS + "\nrequest.timeout.ms=3000\n");
      List<String> args = new ArrayList<>(ServiceClient.serviceArgs(o, o.getJdbcUrl()));
      args.add("--kafkaPropertiesFile=" + kafkaProperties);
      try (ServiceProcess service = ServiceProcess.start(args)) {
        Await.until("ready, with the first snapshot", WAIT, () -> service.ready());
        db.publish("k", Samples.campaignJson("long-outage", "big", now() - 10, now() + 3600));
        Await.until("some rows", WAIT, () -> db.feedbackRows() >= 10_000);
        broker.stop();
        long atStop = db.feedbackRows();
        Thread.sleep(BROKER_SECONDS * 1000L); // the outage itself: its length is the point
        assertTrue(service.isAlive(), "the service died while the broker was away");
        String during = service.log();
        long rowsDuring = db.feedbackRows();
        broker.startAgain();
        System.out.println(
            "stopped the broker for "
                + BROKER_SECONDS
                + " s at "
                + atStop
                + " rows; "
                + rowsDuring
                + " when it came back");
        assertTrue(
            during.contains("Kafka unavailable to publish"),
            "no wait for the broker was logged while it was away");
        assertFalse(during.contains("pipeline failed"), "the pipeline failed during the outage");

        Await.until(
            "every row after the outage",
            WAIT,
            () -> db.feedbackRows() >= subscribers,
            () -> ", got " + db.feedbackRows());
        Await.until("every message", WAIT, () -> db.notifications().size() >= subscribers);
        assertTrue(service.isAlive());
        report(
            "broker down for "
                + BROKER_SECONDS
                + " s (delivery timeout "
                + DELIVERY_TIMEOUT_MS
                + ")",
            db,
            subscribers);
      }
    } finally {
      broker.close();
    }
  }

  @Test
  void refreshThatFailsKeepsTheLastGoodSnapshot() {
    try (RunningPipeline service = RunningPipeline.start()) {
      service.awaitCounter("subscribers", "refreshes", 1);
      service.execute(
          "ALTER TABLE public.subscribers_restaurants RENAME TO subscribers_restaurants_away");
      long failures = service.counter("subscribers", "refreshFailures");
      service.awaitCounter("subscribers", "refreshFailures", failures + 2);

      service.publish(
          "key",
          Samples.campaignJson(Samples.CAMPAIGN_ID, Samples.RESTAURANT, now() - 60, now() + 3600));
      Await.until("9 rows from the last good snapshot", WAIT, () -> service.feedbackRows() >= 9);
      assertEquals(9, service.feedbackRows());
      service.execute(
          "ALTER TABLE public.subscribers_restaurants_away RENAME TO subscribers_restaurants");
      long refreshes = service.counter("subscribers", "refreshes");
      service.awaitCounter("subscribers", "refreshes", refreshes + 1);
    }
  }
}
