package dev.campaignnotifier.it;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.campaignnotifier.Samples;
import dev.campaignnotifier.options.CampaignNotifierOptions;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Late subscribers at size, on real servers: 100,000 favourites of one restaurant added in one
 * statement while its campaign is active (a bulk import) are notified once each, in slices, and
 * none of the campaign's first 1,000 twice.
 */
@Tag("slow")
class LateSubscribersIT {
  private static final Duration WAIT = Duration.ofMinutes(3);
  private static final int FIRST = 1_000;
  private static final int BULK = 100_000;

  @Test
  void aBulkOfFavouritesDuringACampaignIsNotifiedOnceEach() {
    try (RunningPipeline service = RunningPipeline.start(false)) {
      service.execute(
          "INSERT INTO public.subscribers_restaurants (client_id, restaurant_id)"
              + " SELECT 'first-' || g, 'bulk' FROM generate_series(1, "
              + FIRST
              + ") g");
      Await.until("the first snapshot", WAIT, () -> snapshotHas(service));
      long now = Instant.now().getEpochSecond();
      service.publish("k", Samples.campaignJson("bulk-campaign", "bulk", now - 10, now + 3600));
      Await.until("the fan-out", WAIT, () -> service.rowsOf("bulk-campaign") == FIRST);
      long inserted = System.nanoTime();
      service.execute(
          "INSERT INTO public.subscribers_restaurants (client_id, restaurant_id)"
              + " SELECT 'late-' || g, 'bulk' FROM generate_series(1, "
              + BULK
              + ") g");
      Await.until(
          "every late favourite notified",
          WAIT,
          () -> service.rowsOf("bulk-campaign") == FIRST + BULK);
      double seconds = (System.nanoTime() - inserted) / 1e9;
      Await.until("every message", WAIT, () -> service.notifications().size() >= FIRST + BULK);
      Map<String, Integer> messages = service.notificationsByKey();
      long duplicates = messages.values().stream().mapToLong(n -> n - 1).sum();
      System.out.printf(
          "late subscribers at size: %d favourites added at once, all notified %.1f s after the"
              + " insert; rows %d, messages %d, duplicated %d%n",
          BULK, seconds, service.rowsOf("bulk-campaign"), messages.size(), duplicates);
      assertEquals(FIRST + BULK, service.rowsOf("bulk-campaign"));
      assertEquals(FIRST + BULK, messages.size());
      assertEquals(0, duplicates);
    }
  }

  private static boolean snapshotHas(RunningPipeline service) {
    return service.counter("subscribers", "refreshes") > 0;
  }

  /**
   * A favourite added while the service is stopped, during a campaign it had delivered in full, is
   * notified once the service is started again: the watcher resumes from the mark the first run
   * saved (a fresh process has no Beam state of its own).
   */
  @Test
  void aFavouriteAddedWhileTheServiceIsStoppedIsNotifiedAfterTheRestart() throws Exception {
    CampaignNotifierOptions options = ServiceClient.options(true);
    List<String> args = ServiceClient.serviceArgs(options, options.getJdbcUrl());
    try (ServiceClient client = new ServiceClient(options)) {
      long now = Instant.now().getEpochSecond();
      try (ServiceProcess first = ServiceProcess.start(args)) {
        client.publish(
            "k", Samples.campaignJson("while-stopped", Samples.RESTAURANT, now - 10, now + 3600));
        Await.until("the fan-out", WAIT, () -> client.rowsOf("while-stopped") == 9);
        Await.until(
            "the watcher's mark saved",
            WAIT,
            () -> client.count("SELECT count(*) FROM public.campaign_notifier_watch") == 1);
      }
      client.execute(
          "INSERT INTO public.subscribers_restaurants (client_id, restaurant_id)"
              + " VALUES ('added-while-stopped', '"
              + Samples.RESTAURANT
              + "')");
      try (ServiceProcess second = ServiceProcess.start(args)) {
        Await.until(
            "the favourite added while stopped notified",
            WAIT,
            () -> client.rowsOf("while-stopped") == 10);
        Await.until("its message", WAIT, () -> client.notificationsByKey().size() == 10);
      }
      assertEquals(
          1,
          client.count(
              "SELECT count(*) FROM public.subscribers_feedback"
                  + " WHERE client_id = 'added-while-stopped'"));
      assertEquals(10, client.rowsOf("while-stopped"), "nobody notified twice");
      assertEquals(10, client.notificationsByKey().size());
    }
  }
}
