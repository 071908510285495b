package dev.campaignnotifier.bench;

import dev.campaignnotifier.bench.ServiceUnderTest.Timing;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** The {@code fanout} mode: one campaign per size, against the floor of the same size. */
final class FanOutBench extends BenchRun {
  FanOutBench(BenchServers servers, String runner, String launch, List<String> serviceArgs) {
    super(servers, runner, launch, serviceArgs);
  }

  void fanout(List<Integer> sizes, Map<String, Object> result) throws Exception {
    for (int n : sizes) {
      servers.subscribers("restaurant-" + n, n);
    }
    // Other restaurants' subscribers, so the snapshot is not one restaurant only.
    servers.update(
        "INSERT INTO public.subscribers_restaurants (client_id, restaurant_id)"
            + " SELECT 'other-' || g, 'noise-' || (g % 100) FROM generate_series(1, 100000) g");
    servers.update("ANALYZE public.subscribers_restaurants");
    List<Map<String, Object>> runs = new ArrayList<>();
    try (ServiceUnderTest service = startService("fanout")) {
      for (int n : sizes) {
        servers.truncateFeedback();
        double cpuBefore = service.cpuSeconds();
        Timing t = service.deliver("campaign-" + n, "restaurant-" + n, n);
        double cpu = service.cpuSeconds() - cpuBefore;
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("subscribers", n);
        r.put("publish_to_first_row_ms", Math.round(t.firstRowMillis()));
        r.put("publish_to_last_row_ms", Math.round(t.lastRowMillis()));
        r.put("publish_to_first_message_ms", Math.round(t.firstMessageMillis()));
        r.put("publish_to_last_message_ms", Math.round(t.lastMessageMillis()));
        r.put("pipeline_ms", Math.round(t.bothMillis()));
        r.put("cpu_s_per_100k", round2(cpu / (n / 100_000.0)));
        runs.add(r);
      }
    }
    // Right after the pipeline's run, with the service stopped: the floor of each size.
    for (Map<String, Object> r : runs) {
      int n = (Integer) r.get("subscribers");
      servers.truncateFeedback();
      double floor = Floor.measure(servers, "floor-" + n, "restaurant-" + n, n, "floor-" + n);
      r.put("floor_ms", Math.round(floor));
      r.put("ratio_to_floor", round2(((Long) r.get("pipeline_ms")) / floor));
    }
    result.put("runs", runs);
    System.out.printf(
        Locale.ROOT,
        "%n%-14s %10s %10s %10s %10s %10s %8s %12s%n",
        runner,
        "subscribers",
        "last row",
        "last msg",
        "floor",
        "ratio",
        "CPU s",
        "");
    for (Map<String, Object> r : runs) {
      System.out.printf(
          Locale.ROOT,
          "%-14s %10d %8d ms %8d ms %8d ms %10.2f %8.2f per 100k%n",
          "",
          r.get("subscribers"),
          r.get("publish_to_last_row_ms"),
          r.get("publish_to_last_message_ms"),
          r.get("floor_ms"),
          r.get("ratio_to_floor"),
          r.get("cpu_s_per_100k"));
    }
  }
}
