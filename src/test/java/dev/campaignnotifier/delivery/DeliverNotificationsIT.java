package dev.campaignnotifier.delivery;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.campaignnotifier.Samples;
import dev.campaignnotifier.campaigns.CampaignVersions;
import dev.campaignnotifier.io.KafkaClients;
import dev.campaignnotifier.io.PostgresDataSource;
import dev.campaignnotifier.it.Await;
import dev.campaignnotifier.it.LocalServers;
import dev.campaignnotifier.local.EmbeddedPostgresServer;
import dev.campaignnotifier.model.Slice;
import dev.campaignnotifier.runner.RunnerProfile;
import java.time.Duration;
import java.util.List;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;

/** The delivery step's own calls, on a real broker and a real PostgreSQL. */
class DeliverNotificationsIT {
  /**
   * Where a bundle ends on a timer (Flink, 1 s by default), a small slice is delivered while its
   * bundle is still open: a parcel goes at once while none is in delivery, instead of waiting for
   * more slices until the bundle ends (checked: times out with {@code eager} false).
   */
  @Test
  void whereBundlesEndOnATimerASmallSliceGoesBeforeItsBundleEnds() throws Exception {
    String topic = LocalServers.unique("eager_out");
    String deadLetters = LocalServers.unique("eager_dlq");
    LocalServers.kafka().createTopics(1, topic, deadLetters);
    String url = LocalServers.postgres().createDatabase(LocalServers.unique("eager"), false, "");
    PostgresDataSource postgres =
        new PostgresDataSource(url, EmbeddedPostgresServer.USER, null, null);
    DataSource db = postgres.apply(null);
    try (java.sql.Connection c = db.getConnection();
        java.sql.Statement s = c.createStatement()) {
      c.setAutoCommit(true);
      s.execute(
          "INSERT INTO public.subscribers_restaurants (client_id, restaurant_id)"
              + " VALUES ('a', 'r1'), ('b', 'r1'), ('c', 'r1')");
    }
    DeliverNotifications delivery =
        new DeliverNotifications(
            LocalServers.kafka().bootstrapServers(),
            topic,
            deadLetters,
            "campaigns",
            new KafkaClients(null),
            postgres,
            2_000,
            1_000_000,
            CampaignVersions.NONE,
            RunnerProfile.DIRECT);
    DeliverNotifications.DeliverFn fn = new DeliverNotifications.DeliverFn(delivery, true, false);
    fn.setup();
    try {
      fn.startBundle();
      fn.process(
          new Slice(
              Samples.campaign("eager", "r1", 10, 4_000_000_000L),
              15,
              List.of("a", "b", "c"),
              "f1",
              1,
              1));

      Await.until(
          "the slice's rows with its bundle open",
          Duration.ofSeconds(30),
          () -> count(db) == 3,
          () -> ", rows: " + count(db));
      fn.finishBundle();
      assertEquals(3, count(db));
    } finally {
      fn.teardown();
    }
  }

  private static long count(DataSource db) {
    try {
      return LocalServers.count(db, "SELECT count(*) FROM public.subscribers_feedback");
    } catch (java.sql.SQLException e) {
      throw new IllegalStateException(e);
    }
  }
}
