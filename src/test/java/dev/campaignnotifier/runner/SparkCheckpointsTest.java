package dev.campaignnotifier.runner;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SparkCheckpointsTest {
  @Test
  void eachStartGetsItsOwnDirectoryAndEarlierRunsAreDeleted(@TempDir Path base) throws Exception {
    Path earlier = Files.createDirectories(base.resolve("run-100/receivedBlockMetadata"));
    Files.writeString(earlier.resolve("log-1"), "x");
    Path notOurs = Files.writeString(base.resolve("README"), "kept");

    String run = SparkCheckpoints.newRun(base.toString() + "/", 200);

    assertEquals(base + "/run-200", run);
    assertFalse(Files.exists(base.resolve("run-100")), "an earlier run's checkpoints are deleted");
    assertTrue(Files.exists(notOurs), "only run-* directories are deleted");
  }

  @Test
  void aFileUriIsLocalAndOtherSchemesAreLeftAlone(@TempDir Path base) throws Exception {
    Files.createDirectories(base.resolve("run-1"));
    String run = SparkCheckpoints.newRun(base.toUri().toString(), 2);
    assertTrue(run.endsWith("/run-2"), run);
    assertFalse(Files.exists(base.resolve("run-1")));

    assertEquals(base, SparkCheckpoints.localPath(base.toUri().toString()));
    assertNull(SparkCheckpoints.localPath("hdfs:///campaign-notifier/checkpoint"));
    assertEquals("hdfs://nn:8020/cp/run-3", SparkCheckpoints.newRun("hdfs://nn:8020/cp", 3));
  }

  @Test
  void aMissingBaseIsFine(@TempDir Path base) {
    assertEquals(
        base + "/absent/run-5", SparkCheckpoints.newRun(base.resolve("absent").toString(), 5));
  }
}
