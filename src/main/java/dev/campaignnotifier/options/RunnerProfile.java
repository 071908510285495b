package dev.campaignnotifier.options;

import dev.campaignnotifier.subscribers.SubscriberMode;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.beam.sdk.PipelineResult;
import org.apache.beam.sdk.options.DefaultValueFactory;
import org.apache.beam.sdk.options.PipelineOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Everything the service does differently per runner, decided here and nowhere else, from the
 * runner class of {@code --runner}. Each difference says why in docs/runners.md; the launchers in
 * {@code runners/} carry only JVM and cluster flags.
 *
 * <ul>
 *   <li>{@link #shards}: the keys of the stateful steps (held campaigns, turns, late subscribers).
 *   <li>{@link #spreadsSlices}: whether the fan-out's slices are reshuffled over the workers.
 *   <li>{@link #turnsOnTimer}: whether a fan-out in turns is driven by a timer (lookup mode only)
 *       instead of a splittable DoFn's resume.
 *   <li>{@link #defaultSubscribers} and {@link #defaultSlicesPerTurn}: the defaults of {@code
 *       --subscribers} and {@code --fanOutSlicesPerTurn}.
 *   <li>{@link #withLaunchDefaults}: the runner's own options the service sets unless given.
 *   <li>{@link #beforeRun}, {@link #onShutdown} and {@link #isDetached}: what starting, stopping
 *       and handing over the job needs.
 * </ul>
 */
public enum RunnerProfile {
  /**
   * One process: no reshuffle (its delivery step already keeps slices in flight, and there a
   * reshuffle is a real group-by-key), few shards (every key is a bundle of its own), more threads
   * than cores (a delivery bundle holds its thread while it waits for the sinks), and {@code run()}
   * asked to return so that the service keeps the handle its metrics and Ctrl-C need.
   */
  DIRECT(
      16,
      false,
      false,
      SubscriberMode.snapshot,
      0,
      List.of(
          "--blockOnRun=false",
          "--targetParallelism=16",
          "--enforceImmutability=false",
          "--enforceEncodability=false")),
  /**
   * Micro-batches: a fan-out's turns on a timer (a splittable DoFn's resume is not offered), the
   * subscribers looked up per campaign (a side input is broadcast again for every refresh), Spark's
   * own metrics servlet off (the service serves /metrics), micro-batches of one second (with Beam's
   * default of 500 ms a small machine's driver cannot keep up: {@code SparkMicroBatches}), and a
   * clean watermark store before the job is built ({@link #beforeRun}).
   */
  SPARK(
      256,
      true,
      true,
      SubscriberMode.lookup,
      0,
      List.of("--enableSparkMetricSinks=false", "--batchIntervalMillis=1000")),
  /**
   * A fan-out in turns of 4 slices (a small campaign is not stuck behind a big one's delivery),
   * subscribers looked up per campaign (a side input is held in every task's state), checkpoints
   * every 10 s, and records handed between chained operators without a copy.
   */
  FLINK(
      256,
      true,
      false,
      SubscriberMode.lookup,
      4,
      List.of("--checkpointingInterval=10000", "--fasterCopy=true")),
  /** Any other runner: Beam's portable behaviour, nothing assumed. */
  OTHER(256, true, false, SubscriberMode.snapshot, 0, List.of());

  private static final Logger LOG = LoggerFactory.getLogger(RunnerProfile.class);

  private final int shards;
  private final boolean spreadsSlices;
  private final boolean turnsOnTimer;
  private final SubscriberMode defaultSubscribers;
  private final int defaultSlicesPerTurn;
  private final List<String> launchDefaults;

  RunnerProfile(
      int shards,
      boolean spreadsSlices,
      boolean turnsOnTimer,
      SubscriberMode defaultSubscribers,
      int defaultSlicesPerTurn,
      List<String> launchDefaults) {
    this.shards = shards;
    this.spreadsSlices = spreadsSlices;
    this.turnsOnTimer = turnsOnTimer;
    this.defaultSubscribers = defaultSubscribers;
    this.defaultSlicesPerTurn = defaultSlicesPerTurn;
    this.launchDefaults = launchDefaults;
  }

  /** The profile of the options' {@code --runner}. */
  public static RunnerProfile of(PipelineOptions options) {
    return named(options.getRunner().getSimpleName());
  }

  /** The profile of a runner class's simple name; Beam's test runners count as their runner. */
  static RunnerProfile named(String runner) {
    return switch (runner) {
      case "DirectRunner", "TestDirectRunner" -> DIRECT;
      case "SparkRunner", "TestSparkRunner", "SparkRunnerDebugger" -> SPARK;
      case "FlinkRunner", "TestFlinkRunner" -> FLINK;
      default -> OTHER;
    };
  }

  /** Keys of a stateful step; a campaign or restaurant goes to one by its hash. */
  public int shards() {
    return shards;
  }

  /** Whether a fan-out's slices are dealt out over the workers ({@code SpreadSlices}). */
  public boolean spreadsSlices() {
    return spreadsSlices;
  }

  /** Whether a fan-out's turns after the first are taken on a processing-time timer. */
  public boolean turnsOnTimer() {
    return turnsOnTimer;
  }

  /**
   * Whether campaigns ended early are also read from the input beside the pipeline ({@code
   * EndsReadAhead}): where micro-batches run one after another, a fan-out in one go is delivered
   * inside its micro-batch, and the pipeline reads a "sold out" only after it.
   */
  public boolean readsEndsAhead() {
    return turnsOnTimer;
  }

  /**
   * Whether a bundle is a batch of input that ends when its input is done (the DirectRunner's
   * reads, a partition of a Spark micro-batch), rather than a stretch of a stream that ends on a
   * timer (Flink: {@code --maxBundleTimeMills}, 1 s by default). Where it is, the fan-out asks what
   * was delivered before once for a bundle of campaigns, holding them until it ends ({@code
   * AskDelivered}), and the delivery gathers a bundle's small slices into parcels until it ends.
   * Where it is not, a campaign asked about as the bundle ended waited for that timer (last row p50
   * 957 ms, against 717 ms asked alone), what a bundle output as it ended during a checkpoint
   * waited for the next input (a campaign stuck on a quiet topic), and bundles of 50 ms made the
   * rush slower than asking alone (10,000 x 10: 16.9 s against 15.6 s); so each campaign is asked
   * about alone, and a parcel goes at once while no other is in delivery.
   */
  public boolean bundlesEndWithInput() {
    return this == DIRECT || this == SPARK;
  }

  /** The runner's name on the command line ({@code --runner=}). */
  String runnerName() {
    return switch (this) {
      case DIRECT -> "DirectRunner";
      case SPARK -> "SparkRunner";
      case FLINK -> "FlinkRunner";
      case OTHER -> "other runners";
    };
  }

  /** The default this profile gives the option of {@code getter} ({@code --help}). */
  Object defaultOf(String getter) {
    return switch (getter) {
      case "getSubscribers" -> defaultSubscribers;
      case "getFanOutSlicesPerTurn" -> defaultSlicesPerTurn;
      default -> throw new IllegalArgumentException("no runner default for " + getter);
    };
  }

  /** {@code --subscribers} when not given. */
  public SubscriberMode defaultSubscribers() {
    return defaultSubscribers;
  }

  /** {@code --fanOutSlicesPerTurn} when not given. */
  public int defaultSlicesPerTurn() {
    return defaultSlicesPerTurn;
  }

  /** The command line with this runner's own options added where it does not give them. */
  public String[] withLaunchDefaults(String[] args) {
    List<String> all = new ArrayList<>(Arrays.asList(args));
    for (String flag : launchDefaults) {
      String name = flag.substring(0, flag.indexOf('=') + 1);
      String bare = name.substring(0, name.length() - 1);
      if (Arrays.stream(args).noneMatch(a -> a.startsWith(name) || a.equals(bare))) {
        all.add(flag);
      }
    }
    return all.toArray(String[]::new);
  }

  /**
   * Before the pipeline is built and run. On Spark, three things.
   *
   * <p>Beam 2.70's runner keeps the sources' watermarks in static state ({@code
   * GlobalWatermarkHolder}) that only its test runner clears, and a stateful step reads that state
   * once, when it is built; a second pipeline in the same JVM would take the first one's watermarks
   * and fail a step fed by two sources ("Synchronized time is expected to keep synchronized across
   * sources"). A fresh driver starts clean; clearing makes any driver start clean.
   *
   * <p>Each start checkpoints to a directory of its own, {@code <checkpointDir>/run-<millis>}: a
   * streaming context restored from an earlier run's checkpoint runs the earlier run's graph, with
   * the replay plan and the resume point of that run, and so ignores what this start found (a
   * campaign active before the stop got no late subscribers; after a {@code kill -9} nothing was
   * delivered for minutes). Every restart is made whole by the replay plan and the ledger, as on
   * the other runners. Earlier runs' directories are deleted when they are local files.
   *
   * <p>And {@code SparkMicroBatches} watches the micro-batches from the driver: a lag behind their
   * batch time, which Spark's own delays do not show, is a gauge and a warning.
   *
   * <p>Reflection, because the Spark runner is not on every build's classpath.
   */
  public void beforeRun(PipelineOptions options) {
    if (this != SPARK) {
      return;
    }
    try {
      Class.forName("org.apache.beam.runners.spark.util.GlobalWatermarkHolder")
          .getMethod("clear")
          .invoke(null);
      Class<? extends PipelineOptions> spark =
          Class.forName("org.apache.beam.runners.spark.SparkPipelineOptions")
              .asSubclass(PipelineOptions.class);
      Object sparkOptions = options.as(spark);
      String base = (String) spark.getMethod("getCheckpointDir").invoke(sparkOptions);
      String run = SparkCheckpoints.newRun(base, System.currentTimeMillis());
      spark.getMethod("setCheckpointDir", String.class).invoke(sparkOptions, run);
      LOG.info("Spark checkpoints of this run go to {}", run);
      long interval = (Long) spark.getMethod("getBatchIntervalMillis").invoke(sparkOptions);
      Class<? extends PipelineOptions> context =
          Class.forName("org.apache.beam.runners.spark.SparkContextOptions")
              .asSubclass(PipelineOptions.class);
      Object contextOptions = options.as(context);
      List<Object> listeners =
          new ArrayList<>((List<?>) context.getMethod("getListeners").invoke(contextOptions));
      listeners.add(
          Class.forName("dev.campaignnotifier.ops.SparkMicroBatches")
              .getConstructor(long.class)
              .newInstance(interval));
      context.getMethod("setListeners", List.class).invoke(contextOptions, listeners);
    } catch (ReflectiveOperationException | LinkageError e) {
      LOG.warn("Could not prepare the Spark runner's start: {}", e.toString());
    }
  }

  /**
   * Runs {@code stop} when the JVM shuts down (SIGTERM, Ctrl-C, {@code System.exit}). On Spark it
   * must run before Spark's own shutdown hooks: the first of those stops a local master's executor,
   * and a micro-batch being generated then waits forever for a task that no executor runs (Beam's
   * timer step collects the keys it has seen while the batch is generated), holding the lock that
   * stopping the streaming context needs; the JVM never exited. Spark's hooks run from Hadoop's
   * shutdown hook manager at priority 40, so there {@code stop} is added to it at a higher one, and
   * runs first. Reflection, because Hadoop is on the classpath only with Spark.
   */
  public void onShutdown(Runnable stop) {
    if (this == SPARK) {
      try {
        Class<?> hooks = Class.forName("org.apache.hadoop.util.ShutdownHookManager");
        Object manager = hooks.getMethod("get").invoke(null);
        hooks
            .getMethod("addShutdownHook", Runnable.class, int.class)
            .invoke(manager, stop, BEFORE_SPARK_HOOKS);
        return;
      } catch (ReflectiveOperationException | LinkageError e) {
        LOG.warn("Could not order the service's stop before Spark's: {}", e.toString());
      }
    }
    Runtime.getRuntime().addShutdownHook(new Thread(stop, "shutdown"));
  }

  /** Above Spark's shutdown hooks in Hadoop's manager ({@code SparkShutdownHookManager}: 40). */
  static final int BEFORE_SPARK_HOOKS = 100;

  /** Whether the run handed the job to a cluster ({@code flink run -d}): not this process's now. */
  public boolean isDetached(PipelineResult result) {
    return this == FLINK && result.getClass().getSimpleName().equals("FlinkDetachedRunnerResult");
  }

  /** {@code --subscribers} by the runner's profile. */
  public static final class SubscribersDefault implements DefaultValueFactory<SubscriberMode> {
    @Override
    public SubscriberMode create(PipelineOptions options) {
      return of(options).defaultSubscribers();
    }
  }

  /** {@code --fanOutSlicesPerTurn} by the runner's profile. */
  public static final class SlicesPerTurnDefault implements DefaultValueFactory<Integer> {
    @Override
    public Integer create(PipelineOptions options) {
      return of(options).defaultSlicesPerTurn();
    }
  }
}
