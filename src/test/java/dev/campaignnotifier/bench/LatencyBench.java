package dev.campaignnotifier.bench;

import dev.campaignnotifier.bench.ServiceUnderTest.Timing;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
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
    Map<String, Timing> alone = new LinkedHashMap<>();
    Map<String, Timing> behindBig = new LinkedHashMap<>();
    ServiceUnderTest measured;
    try (ServiceUnderTest service = startService("latency")) {
      measured = service;
      for (int i = 0; i < campaigns; i++) {
        alone.put("alone-" + i, service.deliver("alone-" + i, "latency-" + i, each));
      }
      // Head-of-line: small campaigns one after another while a big one is being delivered.
      for (int b = 0; b < 3 && behindBig.size() < campaigns; b++) {
        String bigCampaign = "big-" + b;
        service.publish(bigCampaign, "big");
        for (int i = 0; servers.rows(bigCampaign) < big; i++) {
          String id = "behind-" + b + "-" + i;
          behindBig.put(id, service.deliver(id, "latency-" + (i % campaigns), each));
        }
      }
    }
    put(result, "alone", List.copyOf(alone.values()));
    put(result, "during_big", List.copyOf(behindBig.values()));
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
    Map<String, Long> fannedOut = measured.fannedOutMillis();
    List<long[]> checkpoints = servers.checkpoints();
    explain("alone", alone, measured, fannedOut, checkpoints, result);
    explain("during_big", behindBig, measured, fannedOut, checkpoints, result);
  }

  /**
   * Where each campaign's time went: publish to its fan-out (the service's log line) and whether a
   * PostgreSQL checkpoint ran while it was under way (the started server's log; none on given
   * servers). Prints the slowest three.
   */
  private static void explain(
      String key,
      Map<String, Timing> timings,
      ServiceUnderTest service,
      Map<String, Long> fannedOut,
      List<long[]> checkpoints,
      Map<String, Object> result) {
    List<Long> fannedOutEach = new ArrayList<>();
    List<String> duringCheckpoint = new ArrayList<>();
    for (Map.Entry<String, Timing> e : timings.entrySet()) {
      fannedOutEach.add(fannedOut.getOrDefault(e.getKey(), -1L));
      long from = service.publishedAt(e.getKey());
      long to = from + Math.round(e.getValue().bothMillis());
      if (checkpoints.stream().anyMatch(c -> c[0] < to && c[1] > from)) {
        duringCheckpoint.add(e.getKey());
      }
    }
    result.put(key + "_fanned_out_ms_each", fannedOutEach);
    result.put(key + "_during_checkpoint", duringCheckpoint);
    System.out.printf(
        Locale.ROOT,
        "%s: %d of %d campaigns ran while PostgreSQL checkpointed; the slowest:%n",
        key,
        duringCheckpoint.size(),
        timings.size());
    timings.entrySet().stream()
        .sorted(
            Comparator.comparingDouble((Map.Entry<String, Timing> e) -> e.getValue().bothMillis())
                .reversed())
        .limit(3)
        .forEach(
            e ->
                System.out.printf(
                    Locale.ROOT,
                    "  %-16s last row %5d ms, last message %5d ms, fanned out after %5d ms%s%n",
                    e.getKey(),
                    Math.round(e.getValue().lastRowMillis()),
                    Math.round(e.getValue().lastMessageMillis()),
                    fannedOut.getOrDefault(e.getKey(), -1L),
                    duringCheckpoint.contains(e.getKey()) ? ", during a checkpoint" : ""));
  }
}
