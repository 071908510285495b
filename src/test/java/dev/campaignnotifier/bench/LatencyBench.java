package dev.campaignnotifier.bench;

import dev.campaignnotifier.bench.ServiceUnderTest.Timing;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** The {@code latency} mode: small campaigns alone, then behind a big one (head-of-line). */
final class LatencyBench extends BenchRun {
  LatencyBench(BenchServers servers, String runner, String launch, List<String> serviceArgs) {
    super(servers, runner, launch, serviceArgs);
  }

  void latency(int big, Map<String, Object> result) throws Exception {
    int campaigns = 30;
    int each = 1_000;
    for (int i = 0; i < campaigns; i++) {
      servers.subscribers("latency-" + i, each);
    }
    servers.subscribers("big", big);
    servers.update("ANALYZE public.subscribers_restaurants");
    List<Timing> alone = new ArrayList<>();
    List<Timing> behindBig = new ArrayList<>();
    try (ServiceUnderTest service = startService("latency")) {
      for (int i = 0; i < campaigns; i++) {
        alone.add(service.deliver("alone-" + i, "latency-" + i, each));
      }
      // Head-of-line: small campaigns one after another while a big one is being delivered.
      for (int b = 0; b < 3 && behindBig.size() < campaigns; b++) {
        String bigCampaign = "big-" + b;
        service.publish(bigCampaign, "big");
        for (int i = 0; servers.rows(bigCampaign) < big; i++) {
          behindBig.add(
              service.deliver("behind-" + b + "-" + i, "latency-" + (i % campaigns), each));
        }
      }
    }
    put(result, "alone", alone);
    put(result, "during_big", behindBig);
    result.put("big_subscribers", big);
    System.out.printf(
        Locale.ROOT,
        "%n%-44s %8s %8s %8s %8s%n",
        runner + ", 1,000 subscribers each",
        "row p50",
        "row p99",
        "msg p50",
        "msg p99");
    for (String key : List.of("alone", "during_big")) {
      System.out.printf(
          Locale.ROOT,
          "%-44s %5d ms %5d ms %5d ms %5d ms%n",
          key.equals("alone")
              ? campaigns + " one after another"
              : behindBig.size() + " while " + big + " are delivered",
          result.get(key + "_last_row_p50_ms"),
          result.get(key + "_last_row_p99_ms"),
          result.get(key + "_last_message_p50_ms"),
          result.get(key + "_last_message_p99_ms"));
    }
  }
}
