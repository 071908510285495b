package dev.campaignnotifier.bench;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.LocalDateTime;
import java.time.ZoneId;
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
  void readsPostgresCheckpointsFromItsLog() {
    List<String> log =
        List.of(
            "1795372000.100|LOG:  database system is ready to accept connections",
            "1795372040.852|LOG:  checkpoint starting: wal",
            "1795372056.465|LOG:  checkpoint complete: wrote 108 buffers (0.7%); write=15.1 s",
            "1795372060.001|LOG:  checkpoint starting: shutdown immediate");

    List<long[]> checkpoints = BenchServers.checkpoints(log);

    assertEquals(2, checkpoints.size());
    assertArrayEquals(new long[] {1795372040852L, 1795372056465L}, checkpoints.get(0));
    assertArrayEquals(new long[] {1795372060001L, Long.MAX_VALUE}, checkpoints.get(1));
  }

  @Test
  void timesEachCampaignFromPublicationToItsFanOutLogLine() {
    ZoneId zone = ZoneId.of("UTC");
    long published =
        LocalDateTime.of(2026, 11, 22, 23, 59, 59, 900_000_000)
            .atZone(zone)
            .toInstant()
            .toEpochMilli();
    List<String> log =
        List.of(
            "00:00:00.150 INFO  FanOutToSubscribers - Fanned out campaign c-1 of restaurant r to"
                + " 1000 subscribers",
            "00:00:00.200 INFO  FanOutTurns - Fanned out campaign c-2 of restaurant r to 5"
                + " subscribers (1 slices, 4 per turn)",
            "00:00:00.300 INFO  FanOutToSubscribers - Fanned out campaign other of restaurant r to"
                + " 1 subscribers");

    Map<String, Long> millis =
        ServiceUnderTest.fannedOutMillis(
            log, Map.of("c-1", published, "c-2", published - 1_000), zone);

    assertEquals(Map.of("c-1", 250L, "c-2", 1_300L), millis);
  }

  @Test
  void percentileIsTheNearestRankOfTheSortedValues() {
    List<Double> values = List.of(5.0, 1.0, 4.0, 2.0, 3.0);

    assertEquals(3.0, BenchRun.percentile(values, 50));
    assertEquals(5.0, BenchRun.percentile(values, 99));
    assertEquals(1.0, BenchRun.percentile(values, 1));
  }
}
