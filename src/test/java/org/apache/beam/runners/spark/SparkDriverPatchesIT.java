package org.apache.beam.runners.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedList;
import java.util.List;
import java.util.Queue;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.apache.beam.runners.spark.metrics.MetricsAccumulator;
import org.apache.beam.runners.spark.translation.streaming.UnboundedDataset;
import org.apache.beam.runners.spark.util.TimerUtils;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.io.GenerateSequence;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.apache.beam.sdk.transforms.MapElements;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.TypeDescriptors;
import org.apache.beam.sdk.values.WindowedValue;
import org.apache.beam.sdk.values.WindowedValues;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerJobStart;
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
 * UnboundedDataset}, {@code TimerUtils}): each test fails with the runner's own class. A local
 * master, micro-batches of 100-300 ms; each test waits for batches to complete, never for a time.
 */
class SparkDriverPatchesIT {
  /** What JobScheduler sets on every job a micro-batch's output runs, and on no other job. */
  private static final String OUTPUT_OP_ID = "spark.streaming.internal.outputOpId";

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
  void noStartsCheckpointIsWrittenWhileTheStreamRuns(@TempDir Path checkpoints) throws Exception {
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
    options.setCheckpointDir(checkpoints.toString());
    options.setListeners(List.of(batches));
    options.setEnableSparkMetricSinks(false);
    Pipeline pipeline = Pipeline.create(options);
    pipeline
        .apply(GenerateSequence.from(0).withRate(20, Duration.standardSeconds(1)))
        .apply(MapElements.into(TypeDescriptors.longs()).via((Long n) -> n + 1));
    SparkPipelineResult result = (SparkPipelineResult) pipeline.run();
    try {
      batches.awaitMore(5);
    } finally {
      result.stop();
    }

    List<String> written = files(checkpoints);
    // Spark writes the streaming graph as checkpoint-<batch time> files; Beam its metrics as
    // beam-checkpoint/metrics. The source's state is checkpointed as RDDs (rdd-<id>), and stays.
    assertEquals(
        List.of(),
        written.stream().filter(f -> f.contains("checkpoint-1") || f.endsWith("/metrics")).toList(),
        "metadata or metrics checkpoints written");
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
    List<String> closures =
        new ArrayList<>(
            cleaned.list.stream()
                .map(ILoggingEvent::getFormattedMessage)
                .filter(m -> m.startsWith("Cleaning indylambda closure"))
                .toList());
    assertEquals(List.of(), closures, "closures cleaned in 5 micro-batches of one leaf");
  }

  @Test
  void timersOfEveryKeySeenWithoutAJobWhileABatchIsBuilt(@TempDir Path checkpoints)
      throws Exception {
    JavaStreamingContext context = localStreaming(checkpoints, 100);
    JavaRDD<WindowedValue<KV<String, String>>> firstBatch =
        context
            .sparkContext()
            .parallelize(List.of("k1", "k2"), 2)
            .map(k -> WindowedValues.valueInGlobalWindow(KV.of(k, "v")));
    Queue<JavaRDD<WindowedValue<KV<String, String>>>> batchesOfInput = new LinkedList<>();
    batchesOfInput.add(firstBatch);
    JavaDStream<WindowedValue<KV<String, String>>> input =
        context.queueStream(batchesOfInput, true, context.sparkContext().emptyRDD());
    Set<String> markedLastBatch = ConcurrentHashMap.newKeySet();
    TimerUtils.toPeriodicDStream(input)
        .foreachRDD(
            rdd -> {
              List<String> marked =
                  rdd.filter(
                          wv ->
                              ((Object) wv.getValue().getValue()) instanceof TimerUtils.TimerMarker)
                      .map(wv -> wv.getValue().getKey())
                      .collect();
              markedLastBatch.clear();
              markedLastBatch.addAll(marked);
            });
    AtomicInteger jobsNotOfAnOutput = new AtomicInteger();
    AtomicInteger jobs = new AtomicInteger();
    context
        .sparkContext()
        .sc()
        .addSparkListener(
            new SparkListener() {
              @Override
              public void onJobStart(SparkListenerJobStart job) {
                jobs.incrementAndGet();
                if (job.properties() == null
                    || job.properties().getProperty(OUTPUT_OP_ID) == null) {
                  jobsNotOfAnOutput.incrementAndGet();
                }
              }
            });
    Batches batches = new Batches();
    context.addStreamingListener(new JavaStreamingListenerWrapper(batches));
    context.start();
    batches.awaitMore(2);
    int before = jobsNotOfAnOutput.get();
    batches.awaitMore(5);

    assertEquals(
        Set.of("k1", "k2"),
        new TreeSet<>(markedLastBatch),
        "the markers of every key seen, batches after it was");
    assertEquals(
        0,
        jobsNotOfAnOutput.get() - before,
        "jobs run while micro-batches were built (of " + jobs.get() + " jobs)");
  }

  private static List<String> files(Path root) throws IOException {
    try (Stream<Path> tree = Files.walk(root)) {
      return tree.filter(Files::isRegularFile).map(p -> root.relativize(p).toString()).toList();
    }
  }
}
