package dev.campaignnotifier.runner;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Spark checkpoint directory of one start: {@code <checkpointDir>/run-<millis>}, so that no
 * start restores an earlier one's streaming graph (why in {@link RunnerProfile#beforeRun}).
 */
final class SparkCheckpoints {
  private static final Logger LOG = LoggerFactory.getLogger(SparkCheckpoints.class);
  static final String RUN_PREFIX = "run-";

  private SparkCheckpoints() {}

  /**
   * This start's directory under {@code base}. Earlier starts' directories are deleted when {@code
   * base} is a local path ({@code /x}, {@code file:/x}); under any other scheme (HDFS, S3) they are
   * left, and logged, for the cluster's own cleanup.
   */
  static String newRun(String base, long nowMillis) {
    String trimmed = base.endsWith("/") ? base.substring(0, base.length() - 1) : base;
    Path local = localPath(trimmed);
    if (local == null) {
      LOG.info(
          "Earlier runs' {}* directories under {} are not used again; remove them when you like",
          RUN_PREFIX,
          trimmed);
    } else {
      deleteEarlierRuns(local);
    }
    return trimmed + "/" + RUN_PREFIX + nowMillis;
  }

  /** The local path of a directory given as a path or a {@code file:} URI; null for others. */
  static Path localPath(String dir) {
    if (dir.startsWith("file:")) {
      return Paths.get(URI.create(dir));
    }
    return dir.matches("^[A-Za-z][A-Za-z0-9+.-]*:.*") ? null : Paths.get(dir);
  }

  private static void deleteEarlierRuns(Path base) {
    if (!Files.isDirectory(base)) {
      return;
    }
    try (Stream<Path> runs = Files.list(base)) {
      for (Path run : runs.filter(SparkCheckpoints::isRun).toList()) {
        deleteTree(run);
        LOG.info("Deleted an earlier run's Spark checkpoints, {}", run);
      }
    } catch (IOException | UncheckedIOException e) {
      LOG.warn("Could not delete earlier runs' Spark checkpoints under {}: {}", base, e.toString());
    }
  }

  private static boolean isRun(Path path) {
    return Files.isDirectory(path) && path.getFileName().toString().startsWith(RUN_PREFIX);
  }

  private static void deleteTree(Path root) throws IOException {
    try (Stream<Path> tree = Files.walk(root)) {
      List<Path> deepestFirst = tree.sorted(Comparator.reverseOrder()).toList();
      for (Path path : deepestFirst) {
        Files.deleteIfExists(path);
      }
    }
  }
}
