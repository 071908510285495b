package dev.campaignnotifier.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class BenchmarkTest {
  @Test
  void readsFlinksCheckpointsFromTheServiceLog() {
    String log =
        String.join(
            "\n",
            "10:00:01.000 INFO  CheckpointCoordinator - Triggering checkpoint 1 (type=CHECKPOINT)"
                + " @ 1700000000000 for job 3f2a.",
            "10:00:01.300 INFO  CheckpointCoordinator - Completed checkpoint 1 for job 3f2a"
                + " (1048576 bytes, checkpointDuration=300 ms, finalizationTime=2 ms).",
            "10:00:11.000 WARN  CheckpointFailureManager - Failed to trigger or complete checkpoint"
                + " 2 for job 3f2a. (0 consecutive failed attempts so far)",
            "10:00:21.900 INFO  CheckpointCoordinator - Completed checkpoint 3 for job 3f2a"
                + " (3145728 bytes, checkpointDuration=900 ms, finalizationTime=1 ms).",
            "10:00:31.100 INFO  CheckpointCoordinator - Completed checkpoint 4 for job 3f2a"
                + " (2097152 bytes, checkpointDuration=100 ms, finalizationTime=1 ms).");

    Map<String, Object> figures = ScaleBench.checkpoints(log);

    assertEquals(3, figures.get("checkpoints_completed"));
    assertEquals(1L, figures.get("checkpoints_failed"));
    assertEquals(3.0, figures.get("checkpoint_max_mb"));
    assertEquals(300L, figures.get("checkpoint_p50_ms"));
    assertEquals(900L, figures.get("checkpoint_max_ms"));
  }

  @Test
  void percentileIsTheNearestRankOfTheSortedValues() {
    List<Double> values = List.of(5.0, 1.0, 4.0, 2.0, 3.0);

    assertEquals(3.0, BenchRun.percentile(values, 50));
    assertEquals(5.0, BenchRun.percentile(values, 99));
    assertEquals(1.0, BenchRun.percentile(values, 1));
  }
}
