package dev.campaignnotifier.bench;

import dev.campaignnotifier.bench.ServiceUnderTest.Timing;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.ToDoubleFunction;

/** The {@code fanout} mode: campaigns of each size, against the floor of the same size. */
final class FanOutBench extends BenchRun {
  private static long median(List<Timing> timings, ToDoubleFunction<Timing> figure) {
    return Math.round(percentile(timings.stream().map(figure::applyAsDouble).toList(), 50));
  }

  private static List<Long> each(List<Timing> timings, ToDoubleFunction<Timing> figure) {
    return timings.stream().map(t -> Math.round(figure.applyAsDouble(t))).toList();
  }

  FanOutBench(BenchServers servers, String runner, String launch, List<String> serviceArgs) {
    super(servers, runner, launch, serviceArgs);
  }

  /**
   * Delivers one campaign of each size {@code repeats} times, then measures the floor of each size
   * as many times, and reports the medians: a single pipeline or floor run on these machines is off
   * by up to 20% now and then, which is more than the gap being measured.
   */
  void fanout(List<Integer> sizes, int repeats, Map<String, Object> result) throws Exception {
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
        List<Timing> timings = new ArrayList<>();
        List<Double> cpu = new ArrayList<>();
        for (int i = 1; i <= repeats; i++) {
          servers.truncateFeedback();
          double cpuBefore = service.cpuSeconds();
          timings.add(service.deliver("campaign-" + n + "-" + i, "restaurant-" + n, n));
          cpu.add((service.cpuSeconds() - cpuBefore) / (n / 100_000.0));
        }
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("subscribers", n);
        r.put("repeats", repeats);
        r.put("publish_to_first_row_ms", median(timings, Timing::firstRowMillis));
        r.put("publish_to_last_row_ms", median(timings, Timing::lastRowMillis));
        r.put("publish_to_first_message_ms", median(timings, Timing::firstMessageMillis));
        r.put("publish_to_last_message_ms", median(timings, Timing::lastMessageMillis));
        r.put("pipeline_ms", median(timings, Timing::bothMillis));
        r.put("pipeline_ms_each", each(timings, Timing::bothMillis));
        r.put("cpu_s_per_100k", round2(percentile(cpu, 50)));
        runs.add(r);
      }
    }
    // Right after the pipeline's runs, with the service stopped: the floor of each size.
    for (Map<String, Object> r : runs) {
      int n = (Integer) r.get("subscribers");
      List<Double> floors = new ArrayList<>();
      List<Double> oneTransaction = new ArrayList<>();
      List<Double> sliced = new ArrayList<>();
      for (int i = 1; i <= repeats; i++) {
        String id = "floor-" + n + "-" + i;
        Floor.Time time = Floor.measure(servers, id, "restaurant-" + n, n, id, sliceSize());
        floors.add(time.millis());
        oneTransaction.add(time.oneTransactionMillis());
        sliced.add(time.slicedMillis());
      }
      double floor = percentile(floors, 50);
      r.put("floor_ms", Math.round(floor));
      r.put("floor_ms_each", floors.stream().map(Math::round).toList());
      r.put("floor_one_transaction_ms_each", oneTransaction.stream().map(Math::round).toList());
      r.put("floor_sliced_ms_each", sliced.stream().map(Math::round).toList());
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
    System.out.printf(
        Locale.ROOT, "Medians of %d runs each; every run is in the BENCHMARK line.%n", repeats);
  }
}
