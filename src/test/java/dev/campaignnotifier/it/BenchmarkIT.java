package dev.campaignnotifier.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.campaignnotifier.bench.Benchmark;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Keeps the benchmark working: a small run of each mode, every figure present and positive. No
 * thresholds: a timed test on a shared CI machine is not a benchmark (README, "Performance").
 */
class BenchmarkIT {
  private static final String[] DIRECT = {"--runner=DirectRunner", "--enforceImmutability=false"};

  private static void assertFigures(Map<String, Object> result, List<String> keys) {
    for (String key : keys) {
      Object value = result.get(key);
      assertTrue(value instanceof Number, key + " missing in " + result);
      assertTrue(((Number) value).doubleValue() > 0, key + " is not positive in " + result);
    }
  }

  @Test
  void fanOutModeMeasuresBothSinksAndTheFloor() throws Exception {
    Map<String, Object> result = Benchmark.run(concat("--subscribers=2000"));
    assertEquals("fanout", result.get("mode"));
    assertFigures(
        result,
        List.of(
            "publish_to_first_row_ms",
            "publish_to_last_row_ms",
            "publish_to_first_message_ms",
            "publish_to_last_message_ms",
            "rows_per_s",
            "messages_per_s",
            "floor_ms",
            "ratio_to_floor"));
  }

  @Test
  void scaleModeMeasuresTheSnapshot() throws Exception {
    Map<String, Object> result = Benchmark.run(concat("--mode=scale", "--subscribers=20000"));
    assertEquals(10_000, result.get("restaurants"));
    assertFigures(
        result,
        List.of(
            "snapshot_load_ms",
            "refresh_ms",
            "campaigns_during_refreshes",
            "during_refreshes_last_row_p50_ms",
            "during_refreshes_last_row_max_ms"));
  }

  private static String[] concat(String... args) {
    String[] all = new String[DIRECT.length + args.length];
    System.arraycopy(DIRECT, 0, all, 0, DIRECT.length);
    System.arraycopy(args, 0, all, DIRECT.length, args.length);
    return all;
  }
}
