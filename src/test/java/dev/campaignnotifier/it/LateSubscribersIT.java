package dev.campaignnotifier.it;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.campaignnotifier.Samples;
import java.time.Duration;
import java.time.Instant;
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
}
