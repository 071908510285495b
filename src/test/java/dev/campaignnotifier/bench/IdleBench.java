package dev.campaignnotifier.bench;

import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The {@code idle} mode: the service's CPU use while it waits; with {@code --endedCampaigns=N},
 * after N campaigns have come and gone (their ids are what a long-running service accumulates).
 */
final class IdleBench extends BenchRun {
  IdleBench(BenchServers servers, String runner, String launch, List<String> serviceArgs) {
    super(servers, runner, launch, serviceArgs);
  }

  void idle(int settle, int seconds, int ended, Map<String, Object> result) throws Exception {
    try (ServiceUnderTest service = startService("idle")) {
      if (ended > 0) {
        service.publishEnded(ended);
        result.put("ended_campaigns_before", ended);
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
              + " published first)%n",
          runner,
          cores * 100,
          seconds,
          settle,
          ended);
    }
  }
}
