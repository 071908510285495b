package dev.campaignnotifier.bench;

import dev.campaignnotifier.subscribers.SubscriberSnapshot;
import dev.campaignnotifier.subscribers.SubscriberTable;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The {@code scale} mode: both subscriber modes against tables of millions of rows. */
final class ScaleBench extends BenchRun {
  ScaleBench(BenchServers servers, String runner, String launch, List<String> serviceArgs) {
    super(servers, runner, launch, serviceArgs);
  }

  static final int SMALL = 1_000;

  /**
   * For each size: a table of {@code n} rows in restaurants of 1,000 subscribers plus one of {@code
   * big}; then, per mode, the service started on it, 20 campaigns of 1,000 one after another, then
   * the big one; rows PostgreSQL read for it (its own statistics) and full-table scans.
   */
  void scale(List<Integer> sizes, List<String> modes, int big, Map<String, Object> result)
      throws Exception {
    List<Map<String, Object>> runs = new ArrayList<>();
    for (int n : sizes) {
      fillScaleTable(n, big);
      long heapBefore = usedHeapAfterGc();
      long started = System.nanoTime();
      SubscriberSnapshot snapshot = SubscriberTable.read(servers.db);
      double loadMillis = (System.nanoTime() - started) / 1e6;
      long snapshotBytes = usedHeapAfterGc() - heapBefore;
      long rows = snapshot.sourceRows();
      snapshot = null;
      for (String mode : modes) {
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("subscriber_mode", mode);
        r.put("rows", rows);
        r.put(
            "subscriber_heap_mb",
            mode.equals("snapshot") ? Math.round(snapshotBytes / 1048576.0) : 0);
        r.put("snapshot_load_ms", mode.equals("snapshot") ? Math.round(loadMillis) : 0);
        scaleRun(mode, n, big, r);
        runs.add(r);
        System.out.printf(Locale.ROOT, "%nscale %s%n", r);
      }
    }
    result.put("runs", runs);
    System.out.printf(
        Locale.ROOT,
        "%n%-9s %11s %9s %9s %9s %13s %13s %13s %13s %15s %10s%n",
        "mode",
        "rows",
        "snap MiB",
        "heap MiB",
        "ready ms",
        "1k p50 ms",
        "1k p99 ms",
        "1M first ms",
        "1M last ms",
        "rows read",
        "seq scans");
    for (Map<String, Object> r : runs) {
      System.out.printf(
          Locale.ROOT,
          "%-9s %11d %9d %9d %9d %13d %13d %13d %13d %15d %10d%n",
          r.get("subscriber_mode"),
          r.get("rows"),
          r.get("subscriber_heap_mb"),
          r.get("service_heap_mb"),
          r.get("start_to_ready_ms"),
          r.get("small_last_row_p50_ms"),
          r.get("small_last_row_p99_ms"),
          r.get("big_first_row_ms"),
          r.get("big_last_row_ms"),
          r.get("rows_read_from_postgres"),
          r.get("full_table_scans"));
    }
    if (runner.equals("FlinkRunner")) {
      System.out.printf(
          Locale.ROOT,
          "%n%-9s %11s %12s %9s %12s %12s %12s%n",
          "mode",
          "rows",
          "checkpoints",
          "failed",
          "largest MiB",
          "p50 ms",
          "slowest ms");
      for (Map<String, Object> r : runs) {
        System.out.printf(
            Locale.ROOT,
            "%-9s %11d %12d %9d %12.2f %12d %12d%n",
            r.get("subscriber_mode"),
            r.get("rows"),
            r.get("checkpoints_completed"),
            r.get("checkpoints_failed"),
            ((Number) r.get("checkpoint_max_mb")).doubleValue(),
            ((Number) r.get("checkpoint_p50_ms")).longValue(),
            ((Number) r.get("checkpoint_max_ms")).longValue());
      }
    }
  }

  /** {@code n} rows in restaurants of 1,000, one restaurant of {@code big}, indexed, vacuumed. */
  private void fillScaleTable(int n, int big) {
    servers.update("TRUNCATE public.subscribers_restaurants");
    servers.update("DROP INDEX IF EXISTS public.subscribers_restaurants_restaurant_client_idx");
    servers.update(
        "INSERT INTO public.subscribers_restaurants (client_id, restaurant_id)"
            + " SELECT 'client-' || g, 'small-' || (g / ?) FROM generate_series(0, ? - 1) g",
        SMALL,
        n);
    servers.subscribers("big", big);
    servers.update(SubscriberTable.LOOKUP_INDEX.replace(" CONCURRENTLY", ""));
    // As autovacuum leaves a table in steady state: statistics, and a visibility map that lets
    // the lookup read the index alone.
    servers.update("VACUUM ANALYZE public.subscribers_restaurants");
  }

  private void scaleRun(String mode, int n, int big, Map<String, Object> r) throws Exception {
    servers.awaitStatisticsOfClosedConnections();
    long[] statsBefore = tableReads();
    long started = System.nanoTime();
    try (ServiceUnderTest service =
        startService("scale-" + mode + "-" + n, "--subscribers=" + mode)) {
      r.put("start_to_ready_ms", Math.round((System.nanoTime() - started) / 1e6));
      r.put("service_heap_mb", Math.round(service.heapAfterGcBytes() / 1048576.0));
      List<Double> small = new ArrayList<>();
      for (int i = 0; i < 20; i++) {
        small.add(
            service
                .deliver(
                    "small-" + mode + "-" + n + "-" + i, "small-" + (i * 37 % (n / SMALL)), SMALL)
                .lastRowMillis());
      }
      r.put("small_last_row_p50_ms", Math.round(percentile(small, 50)));
      r.put("small_last_row_p99_ms", Math.round(percentile(small, 99)));
      ServiceUnderTest.Timing bigOne = service.deliver("big-" + mode + "-" + n, "big", big);
      r.put("big_subscribers", big);
      r.put("big_first_row_ms", Math.round(bigOne.firstRowMillis()));
      r.put("big_last_row_ms", Math.round(bigOne.bothMillis()));
      r.put("cpu_s", round2(service.cpuSeconds()));
      r.put("elapsed_s", Math.round((System.nanoTime() - started) / 1e9));
      service.kill(); // the reads end here: a graceful stop would add reads of its own
      if (runner.equals("FlinkRunner")) {
        r.putAll(checkpoints(service.log()));
      }
    }
    servers.awaitStatisticsOfClosedConnections();
    long[] statsAfter = tableReads();
    r.put("rows_read_from_postgres", statsAfter[0] - statsBefore[0]);
    r.put("full_table_scans", statsAfter[1] - statsBefore[1]);
  }

  private static final Pattern COMPLETED_CHECKPOINT =
      Pattern.compile(
          "Completed checkpoint \\d+ for job \\S+ \\((\\d+) bytes, checkpointDuration=(\\d+) ms");

  /**
   * Flink's checkpoints in a service's log (the launcher's, every 10 s): how many completed, the
   * largest and the slowest, and how many failed.
   */
  static Map<String, Object> checkpoints(String log) {
    List<Double> bytes = new ArrayList<>();
    List<Double> millis = new ArrayList<>();
    Matcher m = COMPLETED_CHECKPOINT.matcher(log);
    while (m.find()) {
      bytes.add(Double.parseDouble(m.group(1)));
      millis.add(Double.parseDouble(m.group(2)));
    }
    long failed =
        log.lines()
            .filter(l -> l.contains("Failed to trigger") || l.contains("maximum permitted"))
            .count();
    Map<String, Object> r = new LinkedHashMap<>();
    r.put("checkpoints_completed", bytes.size());
    r.put("checkpoints_failed", failed);
    r.put("checkpoint_max_mb", bytes.isEmpty() ? 0 : round2(percentile(bytes, 100) / 1048576));
    r.put("checkpoint_p50_ms", millis.isEmpty() ? 0 : Math.round(percentile(millis, 50)));
    r.put("checkpoint_max_ms", millis.isEmpty() ? 0 : Math.round(percentile(millis, 100)));
    return r;
  }
}
