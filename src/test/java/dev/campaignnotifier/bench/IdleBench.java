package dev.campaignnotifier.bench;

import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The {@code idle} mode: the service's CPU use while it waits; with {@code --endedCampaigns=N},
 * after N campaigns that had ended before they arrived; with {@code --briefCampaigns=N}, after N
 * campaigns on up to 10,000 restaurants were active for {@code --briefSeconds} each and ended
 * (their ids and restaurants are what a long-running service accumulates). The settling starts once
 * the last brief campaign has ended.
 */
final class IdleBench extends BenchRun {
  IdleBench(BenchServers servers, String runner, String launch, List<String> serviceArgs) {
    super(servers, runner, launch, serviceArgs);
  }

  /** Restaurants the brief campaigns are spread over, at most. */
  private static final int BRIEF_RESTAURANTS = 10_000;

  void idle(
      int settle, int seconds, int ended, int brief, int briefSeconds, Map<String, Object> result)
      throws Exception {
    try (ServiceUnderTest service = startService("idle")) {
      if (ended > 0) {
        service.publishEnded(ended);
        result.put("ended_campaigns_before", ended);
      }
      if (brief > 0) {
        long over = service.publishBrief(brief, Math.min(brief, BRIEF_RESTAURANTS), briefSeconds);
        result.put("brief_campaigns_before", brief);
        result.put("brief_restaurants", Math.min(brief, BRIEF_RESTAURANTS));
        result.put("brief_seconds", briefSeconds);
        Thread.sleep(Math.max(0, over * 1000 - System.currentTimeMillis()) + 2_000);
      }
      // Settle first: the JIT compiler is still busy for minutes after the start.
      Thread.sleep(settle * 1000L);
      double before = service.cpuSeconds();
      long started = System.nanoTime();
      Thread.sleep(seconds * 1000L);
      double cores = (service.cpuSeconds() - before) / ((System.nanoTime() - started) / 1e9);
      result.put("settle_seconds", settle);
      result.put("idle_seconds", seconds);
      result.put("idle_percent_of_a_core", round2(cores * 100));
      System.out.printf(
          Locale.ROOT,
          "%n%s idle: %.2f%% of one core over %d s (after %d s to settle; %d ended campaigns"
              + " and %d brief ones published first)%n",
          runner,
          cores * 100,
          seconds,
          settle,
          ended,
          brief);
    }
  }
}
