package dev.campaignnotifier.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.campaignnotifier.bench.Benchmark;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Keeps the benchmark working: a small run of each mode against real servers (a broker in its own
 * JVM and a durable PostgreSQL, started once for all modes; the service in its own process), every
 * figure present. No thresholds: a timed test on a shared CI machine is not a benchmark
 * (docs/performance.md).
 */
@Tag("slow")
class BenchmarkIT {
  private static final String LAUNCH = "--launch=classpath";

  /** One broker and one PostgreSQL for every mode: each run has a database of its own on them. */
  private static Benchmark.Servers servers;

  @BeforeAll
  static void startServers() throws Exception {
    servers = Benchmark.Servers.start();
  }

  @AfterAll
  static void stopServers() throws Exception {
    servers.close();
  }

  private static Map<String, Object> run(String... args) throws Exception {
    return Benchmark.run(args, servers);
  }

  private static void assertFigures(Map<String, Object> result, List<String> keys) {
    for (String key : keys) {
      Object value = result.get(key);
      assertTrue(value instanceof Number, key + " missing in " + result);
      assertTrue(((Number) value).doubleValue() > 0, key + " is not positive in " + result);
    }
  }

  @Test
  void fanOutModeMeasuresBothSinksTheFloorAndCpuOnDurableServers() throws Exception {
    Map<String, Object> result = run(LAUNCH, "--subscribers=2000,5000", "--repeats=2");
    assertEquals("on", result.get("postgres_fsync"));
    assertEquals("on", result.get("postgres_synchronous_commit"));
    assertEquals("own JVM", result.get("broker"));
    @SuppressWarnings("unchecked")
    List<Map<String, Object>> runs = (List<Map<String, Object>>) result.get("runs");
    assertEquals(2, runs.size());
    for (Map<String, Object> run : runs) {
      assertFigures(
          run,
          List.of(
              "publish_to_first_row_ms",
              "publish_to_last_row_ms",
              "publish_to_first_message_ms",
              "publish_to_last_message_ms",
              "cpu_s_per_100k",
              "floor_ms",
              "ratio_to_floor"));
      assertEquals(2, ((List<?>) run.get("pipeline_ms_each")).size(), run.toString());
      assertEquals(2, ((List<?>) run.get("floor_ms_each")).size(), run.toString());
    }
  }

  @Test
  void rushModeMeasuresManyCampaignsAtOnceAgainstOneOfTheSameSizeAndTheFloor() throws Exception {
    Map<String, Object> result = run(LAUNCH, "--mode=rush", "--rush=300x5,20x100", "--peer");
    @SuppressWarnings("unchecked")
    List<Map<String, Object>> runs = (List<Map<String, Object>>) result.get("runs");
    assertEquals(2, runs.size());
    assertEquals(300, runs.get(0).get("campaigns"));
    assertEquals(100, runs.get(1).get("subscribers"));
    for (Map<String, Object> run : runs) {
      assertFigures(
          run,
          List.of(
              "publish_to_last_row_ms",
              "publish_to_last_message_ms",
              "campaign_last_row_p50_ms",
              "campaign_last_row_p99_ms",
              "cpu_s_per_1000_campaigns",
              "single_campaign_ms",
              "ratio_to_single",
              "floor_one_transaction_ms",
              "floor_sliced_ms",
              "ratio_to_floor"));
      assertTrue(
          ((Number) run.get("campaign_last_row_p50_ms")).longValue()
              <= ((Number) run.get("publish_to_last_row_ms")).longValue() + 1_000,
          "a campaign's last row after the rush's last row: " + run);
      assertTrue(((Number) run.get("ratio_to_peer")).doubleValue() > 0, "against the peer: " + run);
    }
    // The plain Structured Streaming job ran the same workloads on the same servers.
    @SuppressWarnings("unchecked")
    List<Map<String, Object>> peer = (List<Map<String, Object>>) result.get("peer_runs");
    assertEquals(2, peer.size());
    for (Map<String, Object> run : peer) {
      assertFigures(
          run,
          List.of(
              "publish_to_last_row_ms",
              "publish_to_last_message_ms",
              "single_campaign_ms",
              "floor_ms",
              "ratio_to_floor",
              "cpu_s_per_1000_campaigns"));
    }
  }

  @Test
  void latencyModeMeasuresSmallCampaignsAloneAndBehindABigOne() throws Exception {
    Map<String, Object> result = run(LAUNCH, "--mode=latency", "--subscribers=50000");
    assertEquals(30, result.get("alone_campaigns"));
    assertFigures(
        result,
        List.of(
            "alone_last_row_p99_ms",
            "alone_last_message_p99_ms",
            "during_big_campaigns",
            "during_big_last_row_p99_ms",
            "during_big_last_message_p99_ms"));
    // Each campaign's fan-out was found in the service's log, before its last row.
    for (String key : List.of("alone", "during_big")) {
      List<?> fannedOut = (List<?>) result.get(key + "_fanned_out_ms_each");
      List<?> lastRow = (List<?>) result.get(key + "_last_row_ms_each");
      assertEquals(lastRow.size(), fannedOut.size(), key);
      for (int i = 0; i < fannedOut.size(); i++) {
        long fan = ((Number) fannedOut.get(i)).longValue();
        assertTrue(
            fan >= 0 && fan <= ((Number) lastRow.get(i)).longValue() + 5,
            key
                + " campaign "
                + i
                + ": fanned out after "
                + fan
                + " ms, last row "
                + lastRow.get(i));
      }
    }
  }

  @Test
  void idleModeMeasuresCpu() throws Exception {
    Map<String, Object> result = run(LAUNCH, "--mode=idle", "--settleSeconds=1", "--idleSeconds=3");
    assertTrue(result.get("idle_percent_of_a_core") instanceof Number, result.toString());
  }

  @Test
  void scaleModeMeasuresBothSubscriberModes() throws Exception {
    Map<String, Object> result =
        run(LAUNCH, "--mode=scale", "--subscribers=20000", "--bigSubscribers=5000");
    @SuppressWarnings("unchecked")
    List<Map<String, Object>> runs = (List<Map<String, Object>>) result.get("runs");
    assertEquals(2, runs.size());
    assertEquals("snapshot", runs.get(0).get("subscriber_mode"));
    assertEquals("lookup", runs.get(1).get("subscriber_mode"));
    for (Map<String, Object> run : runs) {
      assertEquals(25_000L, run.get("rows"));
      assertFigures(
          run,
          List.of(
              "start_to_ready_ms",
              "service_heap_mb",
              "small_last_row_p99_ms",
              "big_last_row_ms",
              "rows_read_from_postgres"));
    }
    assertFigures(runs.get(0), List.of("snapshot_load_ms"));
    assertEquals(0L, runs.get(1).get("full_table_scans"), "a lookup scanned the whole table");
  }

  @Test
  void startupModeTimesTheArchiveAndTheLauncherToReady() throws Exception {
    Map<String, Object> result = run("--mode=startup", "--repeats=1");
    assertFigures(
        result,
        List.of("archive_bytes", "archive_to_ready_median_s", "launcher_to_ready_median_s"));
  }

  @Test
  void restartModeMeasuresTheReplayWithAndWithoutTheLedger() throws Exception {
    Map<String, Object> result =
        run(LAUNCH, "--mode=restart", "--restartCampaigns=100", "--bigSubscribers=20000");
    @SuppressWarnings("unchecked")
    List<Map<String, Object>> runs = (List<Map<String, Object>>) result.get("runs");
    assertEquals(2, runs.size());
    for (Map<String, Object> run : runs) {
      assertFigures(run, List.of("start_to_new_campaign_ms", "rows_read_from_postgres"));
    }
    long withLedger = ((Number) runs.get(0).get("rows_read_from_postgres")).longValue();
    long without = ((Number) runs.get(1).get("rows_read_from_postgres")).longValue();
    assertTrue(withLedger < without, "the ledger did not spare the feedback rows: " + runs);
  }
}
