package dev.campaignnotifier.runner;

import dev.campaignnotifier.subscribers.SubscriberMode;
import java.io.Serializable;
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
 * runner class of {@code --runner}, and read once into the service's config ({@code
 * ServiceConfig#runner}). Each difference is one named property and says why in docs/runners.md;
 * the launchers in {@code runners/} carry only JVM and cluster flags.
 *
 * @param runnerName the runner's name on the command line ({@code --runner=})
 * @param shards keys of a stateful step (held campaigns, turns, late subscribers); a campaign or
 *     restaurant goes to one by its hash ({@code CampaignShards})
 * @param spreadsSlices whether a fan-out's slices are dealt out over the workers ({@code
 *     SpreadSlices})
 * @param turnsOnTimer whether a fan-out's turns after the first are taken on a processing-time
 *     timer ({@code TurnsOnTimerFn}, lookup mode only) instead of a splittable DoFn's resume
 * @param readsEndsAhead whether campaigns ended early are also read from the input beside the
 *     pipeline ({@link EndsReadAhead}): where micro-batches run one after another, a fan-out in one
 *     go is delivered inside its micro-batch, and the pipeline reads a "sold out" only after it
 * @param bundlesEndWithInput whether a bundle ends when the input at hand is done (the
 *     DirectRunner's reads, a partition of a Spark micro-batch), rather than a stretch of a stream
 *     that ends on a timer (Flink: {@code --maxBundleTimeMills}). Where it is, the fan-out asks
 *     what was delivered before once for a bundle of campaigns ({@code AskDelivered}) and the
 *     delivery gathers a bundle's small slices until it ends; where it is not, each campaign is
 *     asked about alone and the delivery sends what it has at once while nothing else is in flight
 *     (measured in docs/performance.md, "One question per bundle")
 * @param lateInDriver whether late subscribers are found beside the pipeline, in the service's own
 *     JVM ({@code LateInDriver}), from the campaigns the pipeline records as active, instead of by
 *     a source and stateful steps in it ({@code NotifyLateSubscribers}): where the runner's state
 *     starts afresh with each run anyway, and its timers cost every micro-batch a visit to every
 *     key (Spark)
 * @param deliversBigBeside whether a big campaign is fanned out and delivered beside the bundles,
 *     in the worker's JVM ({@code BesideBundles}), so that a bundle ends once it is handed over:
 *     where a bundle is a micro-batch's partition and the next micro-batch, with the small
 *     campaigns published meanwhile, would wait for the big campaign's whole delivery (Spark, on a
 *     local master only: {@link #forMaster})
 * @param drivesSparkContext whether this process is a Spark streaming driver: prepared before the
 *     run ({@link #beforeRun}) and stopped before Spark's own shutdown hooks ({@link #onShutdown})
 * @param defaultSubscribers {@code --subscribers} when not given
 * @param defaultSlicesPerTurn {@code --fanOutSlicesPerTurn} when not given
 * @param launchDefaults the runner's own options the service sets unless given ({@link
 *     #withLaunchDefaults})
 */
public record RunnerProfile(
    String runnerName,
    int shards,
    boolean spreadsSlices,
    boolean turnsOnTimer,
    boolean readsEndsAhead,
    boolean bundlesEndWithInput,
    boolean lateInDriver,
    boolean deliversBigBeside,
    boolean drivesSparkContext,
    SubscriberMode defaultSubscribers,
    int defaultSlicesPerTurn,
    List<String> launchDefaults)
    implements Serializable {
  private static final long serialVersionUID = 1L;

  /** Any other runner: Beam's portable behaviour, nothing assumed. */
  public static final RunnerProfile OTHER = new Builder("other runners").build();

  /**
   * One process: no reshuffle (its delivery step already keeps slices in flight, and there a
   * reshuffle is a real group-by-key), few shards (every key is a bundle of its own), more threads
   * than cores (a delivery bundle holds its thread while it waits for the sinks), and {@code run()}
   * asked to return so that the service keeps the handle its metrics and Ctrl-C need.
   */
  public static final RunnerProfile DIRECT =
      new Builder("DirectRunner")
          .shards(16)
          .spreadsSlices(false)
          .bundlesEndWithInput(true)
          .launchDefaults(
              "--blockOnRun=false",
              "--targetParallelism=16",
              "--enforceImmutability=false",
              "--enforceEncodability=false")
          .build();

  /**
   * Micro-batches: a fan-out's turns on a timer (a splittable DoFn's resume is not offered), ends
   * read ahead of the micro-batches, late subscribers found and big campaigns delivered beside
   * them, the subscribers looked up per campaign (a side input is broadcast again for every
   * refresh), Spark's own metrics servlet off (the service serves /metrics), micro-batches of one
   * second (with Beam's default of 500 ms a small machine's driver cannot keep up: {@link
   * SparkMicroBatches}), and the driver prepared before the job is built.
   */
  public static final RunnerProfile SPARK =
      new Builder("SparkRunner")
          .turnsOnTimer(true)
          .readsEndsAhead(true)
          .bundlesEndWithInput(true)
          .lateInDriver(true)
          .deliversBigBeside(true)
          .drivesSparkContext(true)
          .defaultSubscribers(SubscriberMode.lookup)
          .launchDefaults("--enableSparkMetricSinks=false", "--batchIntervalMillis=1000")
          .build();

  /**
   * A fan-out in turns of 4 slices (a small campaign is not stuck behind a big one's delivery),
   * subscribers looked up per campaign (a side input is held in every task's state), checkpoints
   * every 10 s, and records handed between chained operators without a copy.
   */
  public static final RunnerProfile FLINK =
      new Builder("FlinkRunner")
          .defaultSubscribers(SubscriberMode.lookup)
          .defaultSlicesPerTurn(4)
          .launchDefaults("--checkpointingInterval=10000", "--fasterCopy=true")
          .build();

  private static final Logger LOG = LoggerFactory.getLogger(RunnerProfile.class);

  /** The profiles of the runners the service knows, for {@code --help}. */
  public static final List<RunnerProfile> KNOWN = List.of(DIRECT, SPARK, FLINK);

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

  /**
   * This profile for the options' master. On a Spark master other than a local one a big campaign's
   * slices are delivered inside their micro-batch ({@link #deliversBigBeside} off): an executor
   * lost while it delivered them beside the micro-batches would leave the rest to the service's
   * next start, where inside them Spark runs the lost tasks again.
   */
  public RunnerProfile forMaster(PipelineOptions options) {
    if (!deliversBigBeside || isLocalMaster(sparkMaster(options))) {
      return this;
    }
    return new RunnerProfile(
        runnerName,
        shards,
        spreadsSlices,
        turnsOnTimer,
        readsEndsAhead,
        bundlesEndWithInput,
        lateInDriver,
        false,
        drivesSparkContext,
        defaultSubscribers,
        defaultSlicesPerTurn,
        launchDefaults);
  }

  /**
   * Whether the master runs the executors in this JVM: {@code local}, {@code local[N]}, {@code
   * local[*]} and {@code local[N,F]}, not {@code local-cluster[...]}.
   */
  static boolean isLocalMaster(String master) {
    return master.matches("local(\\[[^]]*])?");
  }

  /**
   * The Spark master the runner uses: {@code spark.master} where {@code spark-submit --master} set
   * it (it wins over the option, as in the runner's {@code SparkContextFactory}), else {@code
   * --sparkMaster}, by reflection (the Spark runner is not on every classpath); "" if none.
   */
  private static String sparkMaster(PipelineOptions options) {
    String submitted = System.getProperty("spark.master");
    if (submitted != null && !submitted.isBlank()) {
      return submitted;
    }
    try {
      Class<? extends PipelineOptions> spark =
          Class.forName("org.apache.beam.runners.spark.SparkPipelineOptions")
              .asSubclass(PipelineOptions.class);
      Object master = spark.getMethod("getSparkMaster").invoke(options.as(spark));
      return master == null ? "" : (String) master;
    } catch (ReflectiveOperationException | LinkageError e) {
      return "";
    }
  }

  /** The default this profile gives the option of {@code getter} ({@code --help}). */
  public Object defaultOf(String getter) {
    return switch (getter) {
      case "getSubscribers" -> defaultSubscribers;
      case "getFanOutSlicesPerTurn" -> defaultSlicesPerTurn;
      default -> throw new IllegalArgumentException("no runner default for " + getter);
    };
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
   * Before the pipeline is built and run. On Spark, four things.
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
   * <p>{@code SparkMicroBatches} watches the micro-batches from the driver: a lag behind their
   * batch time, which Spark's own delays do not show, is a gauge and a warning.
   *
   * <p>And a local master of all cores, {@code local[*]}, is named by its number of cores: Beam
   * 2.70 stages the whole class path for any master its pattern ({@code local\[?\d*]?}) does not
   * take for local, so every task of every micro-batch carried, and checked on its executor, the
   * list of some 300 jars, though a local executor shares the driver's class path.
   *
   * <p>Reflection, because the Spark runner is not on every build's classpath.
   */
  public void beforeRun(PipelineOptions options) {
    if (!drivesSparkContext) {
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
      String master = (String) spark.getMethod("getSparkMaster").invoke(sparkOptions);
      if (master.matches("local\\[\\*(,\\d+)?]")) {
        spark
            .getMethod("setSparkMaster", String.class)
            .invoke(
                sparkOptions,
                master.replace("*", Integer.toString(Runtime.getRuntime().availableProcessors())));
      }
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
          Class.forName("dev.campaignnotifier.runner.SparkMicroBatches")
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
    if (drivesSparkContext) {
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
  public static boolean isDetached(PipelineResult result) {
    return result.getClass().getSimpleName().equals("FlinkDetachedRunnerResult");
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

  /** A profile built property by property, from the defaults of {@link #OTHER}. */
  static final class Builder {
    private final String runnerName;
    private int shards = 256;
    private boolean spreadsSlices = true;
    private boolean turnsOnTimer;
    private boolean readsEndsAhead;
    private boolean bundlesEndWithInput;
    private boolean lateInDriver;
    private boolean deliversBigBeside;
    private boolean drivesSparkContext;
    private SubscriberMode defaultSubscribers = SubscriberMode.snapshot;
    private int defaultSlicesPerTurn;
    private List<String> launchDefaults = List.of();

    Builder(String runnerName) {
      this.runnerName = runnerName;
    }

    Builder shards(int value) {
      shards = value;
      return this;
    }

    Builder spreadsSlices(boolean value) {
      spreadsSlices = value;
      return this;
    }

    Builder turnsOnTimer(boolean value) {
      turnsOnTimer = value;
      return this;
    }

    Builder readsEndsAhead(boolean value) {
      readsEndsAhead = value;
      return this;
    }

    Builder bundlesEndWithInput(boolean value) {
      bundlesEndWithInput = value;
      return this;
    }

    Builder lateInDriver(boolean value) {
      lateInDriver = value;
      return this;
    }

    Builder deliversBigBeside(boolean value) {
      deliversBigBeside = value;
      return this;
    }

    Builder drivesSparkContext(boolean value) {
      drivesSparkContext = value;
      return this;
    }

    Builder defaultSubscribers(SubscriberMode value) {
      defaultSubscribers = value;
      return this;
    }

    Builder defaultSlicesPerTurn(int value) {
      defaultSlicesPerTurn = value;
      return this;
    }

    Builder launchDefaults(String... flags) {
      launchDefaults = List.of(flags);
      return this;
    }

    RunnerProfile build() {
      return new RunnerProfile(
          runnerName,
          shards,
          spreadsSlices,
          turnsOnTimer,
          readsEndsAhead,
          bundlesEndWithInput,
          lateInDriver,
          deliversBigBeside,
          drivesSparkContext,
          defaultSubscribers,
          defaultSlicesPerTurn,
          launchDefaults);
    }
  }
}
