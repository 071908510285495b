package dev.campaignnotifier.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.campaignnotifier.Samples;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/** A campaign published before its start, on real servers and the real clock. */
class ScheduledCampaignIT {
  @Test
  void campaignPublishedBeforeStartArrivesAtStart() {
    try (RunningPipeline service = RunningPipeline.start()) {
      service.awaitCounter("subscribers", "refreshes", 1);
      long start = Instant.now().getEpochSecond() + 4;
      service.publish("k", Samples.campaignJson("soon", Samples.RESTAURANT, start, start + 3600));
      service.awaitCounter("campaigns", "held", 1);
      assertEquals(0, service.feedbackRows(), "nothing before the start");

      Await.until("9 rows", Duration.ofSeconds(60), () -> service.feedbackRows() >= 9);
      Await.until("9 messages", Duration.ofSeconds(60), () -> service.notifications().size() >= 9);
      long arrived = Instant.now().getEpochSecond();

      assertEquals(1, service.counter("campaigns", "releasedAtStart"));
      long firstTrigger =
          service.count("SELECT min(trigger_datetime_created) FROM public.subscribers_feedback");
      assertTrue(firstTrigger >= start, "fanned out at " + firstTrigger + ", start " + start);
      assertTrue(arrived - start <= 5, "arrived " + (arrived - start) + " s after its start");
      assertEquals(9, service.feedbackRows());
      assertEquals(9, service.notifications().size());
    }
  }
}
