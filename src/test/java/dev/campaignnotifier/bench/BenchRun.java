package dev.campaignnotifier.bench;

import dev.campaignnotifier.bench.ServiceUnderTest.Timing;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * What every benchmark mode shares: the servers, how the service under test is started, waiting for
 * rows, PostgreSQL's read statistics, figures rounded for the table.
 */
abstract class BenchRun {
  final BenchServers servers;
  final String runner;
  final String launch;
  final List<String> serviceArgs;

  BenchRun(BenchServers servers, String runner, String launch, List<String> serviceArgs) {
    this.servers = servers;
    this.runner = runner;
    this.launch = launch;
    this.serviceArgs = serviceArgs;
  }

  ServiceUnderTest startService(String name, String... extra) throws Exception {
    List<String> args = new ArrayList<>(serviceArgs);
    args.addAll(List.of(extra));
    return ServiceUnderTest.start(servers, runner, launch, args, name);
  }

  /** The service's {@code --deliverySliceSize}: the slices of the floor's sliced {@code COPY}. */
  int sliceSize() {
    return serviceArgs.stream()
        .filter(a -> a.startsWith("--deliverySliceSize="))
        .map(a -> Integer.parseInt(a.substring("--deliverySliceSize=".length())))
        .reduce((first, last) -> last)
        .orElse(2_000);
  }

  static void put(Map<String, Object> result, String key, List<Timing> timings) {
    List<Double> rows = timings.stream().map(Timing::lastRowMillis).toList();
    List<Double> messages = timings.stream().map(Timing::lastMessageMillis).toList();
    result.put(key + "_campaigns", timings.size());
    result.put(key + "_last_row_p50_ms", Math.round(percentile(rows, 50)));
    result.put(key + "_last_row_p99_ms", Math.round(percentile(rows, 99)));
    result.put(key + "_last_message_p50_ms", Math.round(percentile(messages, 50)));
    result.put(key + "_last_message_p99_ms", Math.round(percentile(messages, 99)));
    // Every campaign in order: a p99 of 30 is their slowest, so where it fell is worth seeing.
    result.put(key + "_last_row_ms_each", rows.stream().map(Math::round).toList());
  }

  static double percentile(List<Double> values, int p) {
    double[] sorted = values.stream().mapToDouble(Double::doubleValue).sorted().toArray();
    int index = (int) Math.ceil(p / 100.0 * sorted.length) - 1;
    return sorted[Math.max(0, Math.min(sorted.length - 1, index))];
  }

  void awaitFeedbackRows(long n) throws InterruptedException {
    awaitCount("SELECT count(*) FROM public.subscribers_feedback", n);
  }

  void awaitRows(String campaign, long n) throws InterruptedException {
    awaitCount(
        "SELECT count(*) FROM public.subscribers_feedback WHERE adv_campaign_id = '"
            + campaign
            + "'",
        n);
  }

  void awaitCount(String sql, long n) throws InterruptedException {
    long deadline = System.nanoTime() + 20L * 60 * 1_000_000_000;
    long seen = 0;
    while (System.nanoTime() < deadline) {
      seen = servers.query(sql);
      if (seen >= n) {
        return;
      }
      Thread.sleep(500);
    }
    throw new IllegalStateException(sql + ": " + seen + " of " + n + " after 20 minutes");
  }

  /**
   * Rows PostgreSQL's statistics say were read from the tables so far, by sequential scans and
   * through their indexes.
   */
  long rowsRead(String tables) {
    return servers.query(
        "SELECT coalesce(sum(t.seq_tup_read), 0) + coalesce((SELECT sum(i.idx_tup_read)"
            + " FROM pg_stat_user_indexes i WHERE i.relname = ANY(string_to_array(?, ','))), 0)"
            + " FROM pg_stat_user_tables t WHERE t.relname = ANY(string_to_array(?, ','))",
        tables,
        tables);
  }

  /** {rows read, sequential scans} of subscribers_restaurants so far. */
  long[] tableReads() {
    long scans =
        servers.query(
            "SELECT seq_scan FROM pg_stat_user_tables WHERE relname = 'subscribers_restaurants'");
    return new long[] {rowsRead("subscribers_restaurants"), scans};
  }

  static long usedHeapAfterGc() {
    Runtime rt = Runtime.getRuntime();
    for (int i = 0; i < 3; i++) {
      System.gc();
    }
    return rt.totalMemory() - rt.freeMemory();
  }

  static double round2(double value) {
    return Math.round(value * 100) / 100.0;
  }
}
