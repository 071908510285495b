package org.apache.beam.runners.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.LinkedList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;
import java.util.stream.Stream;
import org.apache.beam.runners.spark.metrics.MetricsAccumulator;
import org.apache.beam.runners.spark.translation.streaming.UnboundedDataset;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.io.GenerateSequence;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.apache.beam.sdk.transforms.MapElements;
import org.apache.beam.sdk.values.TypeDescriptors;
import org.apache.beam.sdk.values.WindowedValue;
import org.apache.beam.sdk.values.WindowedValues;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.streaming.Durations;
import org.apache.spark.streaming.api.java.JavaDStream;
import org.apache.spark.streaming.api.java.JavaStreamingContext;
import org.apache.spark.streaming.api.java.JavaStreamingListener;
import org.apache.spark.streaming.api.java.JavaStreamingListenerBatchCompleted;
import org.apache.spark.streaming.api.java.JavaStreamingListenerWrapper;
import org.joda.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * The project's patches of what Beam 2.70's Spark runner makes the driver do for every micro-batch
 * (src/spark: {@code SparkRunnerStreamingContextFactory}, {@code MetricsAccumulator}, {@code
 * UnboundedDataset}): each test fails with the runner's own classes. A local master, micro-batches
 * of 100-300 ms; each test waits for batches to complete, never for a time.
 */
class SparkDriverPatchesIT {
  private JavaStreamingContext streaming;

  @AfterEach
  void stop() {
    if (streaming != null) {
      streaming.stop(true, false);
    }
  }

  /** Counts completed micro-batches and lets a test wait for some. */
  static final class Batches extends JavaStreamingListener {
    private final AtomicInteger completed = new AtomicInteger();
    private final ConcurrentHashMap<Integer, CountDownLatch> waits = new ConcurrentHashMap<>();

    @Override
    public void onBatchCompleted(JavaStreamingListenerBatchCompleted batch) {
      int n = completed.incrementAndGet();
      waits.forEach(
          (at, latch) -> {
            if (n >= at) {
              latch.countDown();
            }
          });
    }

    int completed() {
      return completed.get();
    }

    /** Waits until {@code more} batches after the ones completed so far have completed. */
    void awaitMore(int more) throws InterruptedException {
      int at = completed() + more;
      CountDownLatch latch = waits.computeIfAbsent(at, n -> new CountDownLatch(1));
      if (completed() < at) {
        assertTrue(latch.await(60, TimeUnit.SECONDS), "micro-batches completed in 60 s");
      }
    }
  }

  private JavaStreamingContext localStreaming(Path checkpoints, long batchMillis) {
    SparkConf conf =
        new SparkConf()
            .setMaster("local[2]")
            .setAppName("driver-patches")
            .set("spark.ui.enabled", "false");
    JavaSparkContext spark = new JavaSparkContext(conf);
    spark.setCheckpointDir(checkpoints.toString());
    streaming = new JavaStreamingContext(spark, Durations.milliseconds(batchMillis));
    return streaming;
  }

  @Test
  void onlyTheStatesCheckpointsAreWrittenAndOldOnesDeleted(@TempDir Path checkpoints)
      throws Exception {
    // The accumulator is one per JVM: cleared, this run's start makes it (and, unpatched, points it
    // at this run's directory).
    MetricsAccumulator.clear();
    Batches batches = new Batches();
    SparkContextOptions options = PipelineOptionsFactory.as(SparkContextOptions.class);
    options.setRunner(SparkRunner.class);
    options.setStreaming(true);
    options.setSparkMaster("local[2]");
    options.setBatchIntervalMillis(300L);
    options.setMinReadTimeMillis(100L);
    // The source's state checkpointed every batch, not every tenth.
    options.setCheckpointDurationMillis(300L);
    options.setCheckpointDir(checkpoints.toString());
    options.setListeners(List.of(batches));
    options.setEnableSparkMetricSinks(false);
    Pipeline pipeline = Pipeline.create(options);
    pipeline
        .apply(GenerateSequence.from(0).withRate(20, Duration.standardSeconds(1)))
        .apply(MapElements.into(TypeDescriptors.longs()).via((Long n) -> n + 1));
    SparkPipelineResult result = (SparkPipelineResult) pipeline.run();
    List<String> written;
    Path oldestState;
    try {
      batches.awaitMore(8);
      written = files(checkpoints);
      List<Path> states = stateCheckpoints(checkpoints);
      assertTrue(states.size() >= 3, "the source's state checkpointed as RDDs: " + written);
      // Old ones are deleted once the driver has collected their RDDs (what the streaming context
      // did after each metadata checkpoint).
      oldestState = states.get(0);
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (Files.exists(oldestState) && System.nanoTime() < deadline) {
        System.gc();
        batches.awaitMore(1);
      }
    } finally {
      result.stop();
    }

    // Spark writes the streaming graph as checkpoint-<batch time> files; Beam its metrics as
    // beam-checkpoint/metrics.
    assertEquals(
        List.of(),
        written.stream()
            .filter(f -> f.matches("(.*/)?\\.?checkpoint-\\d+.*") || f.endsWith("/metrics"))
            .toList(),
        "metadata or metrics checkpoints written");
    assertFalse(Files.exists(oldestState), "an old state checkpoint deleted: " + oldestState);
  }

  /** The state's RDD checkpoints, rdd-<id>, oldest first. */
  private static List<Path> stateCheckpoints(Path root) throws IOException {
    return walk(root, p -> Files.isDirectory(p) && p.getFileName().toString().matches("rdd-\\d+"))
        .stream()
        .sorted(
            Comparator.comparingInt(
                (Path p) -> Integer.parseInt(p.getFileName().toString().substring(4))))
        .toList();
  }

  @Test
  void aLeafsJobCleansNoClosurePerMicroBatch(@TempDir Path checkpoints) throws Exception {
    JavaStreamingContext context = localStreaming(checkpoints, 100);
    JavaRDD<WindowedValue<String>> twoElements =
        context
            .sparkContext()
            .parallelize(List.of("a", "b"), 2)
            .map(WindowedValues::valueInGlobalWindow);
    Queue<JavaRDD<WindowedValue<String>>> none = new LinkedList<>();
    JavaDStream<WindowedValue<String>> stream = context.queueStream(none, true, twoElements);
    new UnboundedDataset<>(stream, List.of(0)).action();
    Batches batches = new Batches();
    context.addStreamingListener(new JavaStreamingListenerWrapper(batches));
    context.start();
    batches.awaitMore(2);

    Logger cleaner = (Logger) LoggerFactory.getLogger("org.apache.spark.util.ClosureCleaner");
    Level level = cleaner.getLevel();
    ListAppender<ILoggingEvent> cleaned = new ListAppender<>();
    cleaned.start();
    cleaner.addAppender(cleaned);
    cleaner.setLevel(Level.DEBUG);
    try {
      batches.awaitMore(5);
    } finally {
      cleaner.setLevel(level);
      cleaner.detachAppender(cleaned);
    }
    List<String> messages = cleaned.list.stream().map(ILoggingEvent::getFormattedMessage).toList();
    // The leaf's function reached the cleaner (logged), which left it at once.
    assertFalse(messages.isEmpty(), "the closure cleaner's debug log captured");
    List<String> closures =
        messages.stream().filter(m -> m.startsWith("Cleaning indylambda closure")).toList();
    assertEquals(List.of(), closures, "closures cleaned in 5 micro-batches of one leaf");
  }

  private static List<String> files(Path root) throws IOException {
    return walk(root, Files::isRegularFile).stream()
        .map(p -> root.relativize(p).toString())
        .toList();
  }

  /**
   * The paths under {@code root} that {@code keep} takes, walked again if Spark deleted a directory
   * during the walk.
   */
  private static List<Path> walk(Path root, Predicate<Path> keep) throws IOException {
    for (int attempt = 1; ; attempt++) {
      try (Stream<Path> tree = Files.walk(root)) {
        return tree.filter(keep).toList();
      } catch (UncheckedIOException | NoSuchFileException e) {
        if (attempt == 5) {
          throw e;
        }
      }
    }
  }
}
