package dev.campaignnotifier.runner;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.campaignnotifier.options.CampaignNotifierOptions;
import dev.campaignnotifier.subscribers.SubscriberMode;
import java.nio.file.Path;
import java.util.List;
import org.apache.beam.runners.spark.SparkContextOptions;
import org.apache.beam.runners.spark.SparkRunner;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RunnerProfileTest {
  private static CampaignNotifierOptions parse(String... args) {
    return PipelineOptionsFactory.fromArgs(args).as(CampaignNotifierOptions.class);
  }

  @Test
  void eachRunnerAndItsTestRunnerHaveOneProfile() {
    assertEquals(RunnerProfile.DIRECT, RunnerProfile.of(parse()));
    assertEquals(RunnerProfile.DIRECT, RunnerProfile.of(parse("--runner=DirectRunner")));
    assertEquals(RunnerProfile.SPARK, RunnerProfile.of(parse("--runner=SparkRunner")));
    assertEquals(RunnerProfile.SPARK, RunnerProfile.of(parse("--runner=TestSparkRunner")));
    assertEquals(RunnerProfile.FLINK, RunnerProfile.of(parse("--runner=FlinkRunner")));
    assertEquals(RunnerProfile.DIRECT, RunnerProfile.named("TestDirectRunner"));
    assertEquals(RunnerProfile.OTHER, RunnerProfile.named("DataflowRunner"));
  }

  @Test
  void subscriberModeAndTurnsDefaultByRunnerAndTheCommandLineWins() {
    CampaignNotifierOptions direct = parse("--runner=DirectRunner");
    assertEquals(SubscriberMode.snapshot, direct.getSubscribers());
    assertEquals(0, direct.getFanOutSlicesPerTurn());
    CampaignNotifierOptions spark = parse("--runner=SparkRunner");
    assertEquals(SubscriberMode.lookup, spark.getSubscribers());
    assertEquals(0, spark.getFanOutSlicesPerTurn());
    CampaignNotifierOptions flink = parse("--runner=FlinkRunner");
    assertEquals(SubscriberMode.lookup, flink.getSubscribers());
    assertEquals(4, flink.getFanOutSlicesPerTurn());
    CampaignNotifierOptions given =
        parse("--runner=FlinkRunner", "--subscribers=snapshot", "--fanOutSlicesPerTurn=0");
    assertEquals(SubscriberMode.snapshot, given.getSubscribers());
    assertEquals(0, given.getFanOutSlicesPerTurn());
  }

  /** Big campaigns beside the micro-batches on a local master only: an executor can be lost. */
  @Test
  void bigCampaignsGoBesideTheMicroBatchesOnALocalSparkMasterOnly() {
    assertTrue(
        RunnerProfile.SPARK
            .forMaster(parse("--runner=SparkRunner", "--sparkMaster=local[2]"))
            .deliversBigBeside());
    assertFalse(
        RunnerProfile.SPARK
            .forMaster(parse("--runner=SparkRunner", "--sparkMaster=spark://master:7077"))
            .deliversBigBeside());
    assertEquals(
        RunnerProfile.DIRECT, RunnerProfile.DIRECT.forMaster(parse("--runner=DirectRunner")));
    assertTrue(RunnerProfile.isLocalMaster("local[*]"));
    assertTrue(RunnerProfile.isLocalMaster("local"));
    assertFalse(RunnerProfile.isLocalMaster("local-cluster[2,1,1024]"));
  }

  @Test
  void launchDefaultsAreAddedOnlyWhereTheCommandLineIsSilent() {
    assertEquals(
        List.of(
            "--runner=DirectRunner",
            "--blockOnRun=false",
            "--targetParallelism=16",
            "--enforceImmutability=false",
            "--enforceEncodability=false"),
        List.of(RunnerProfile.DIRECT.withLaunchDefaults(new String[] {"--runner=DirectRunner"})));
    assertEquals(
        List.of(
            "--targetParallelism=4",
            "--blockOnRun",
            "--enforceImmutability=true",
            "--enforceEncodability=false"),
        List.of(
            RunnerProfile.DIRECT.withLaunchDefaults(
                new String[] {
                  "--targetParallelism=4", "--blockOnRun", "--enforceImmutability=true"
                })));
    assertEquals(
        List.of(
            "--runner=SparkRunner", "--enableSparkMetricSinks=false", "--batchIntervalMillis=1000"),
        List.of(RunnerProfile.SPARK.withLaunchDefaults(new String[] {"--runner=SparkRunner"})));
    assertEquals(
        List.of("--batchIntervalMillis=500", "--enableSparkMetricSinks=false"),
        List.of(
            RunnerProfile.SPARK.withLaunchDefaults(new String[] {"--batchIntervalMillis=500"})));
    assertEquals(
        List.of("--checkpointingInterval=60000", "--fasterCopy=true"),
        List.of(
            RunnerProfile.FLINK.withLaunchDefaults(
                new String[] {"--checkpointingInterval=60000"})));
  }

  /** On Spark the driver's micro-batches are watched: a listener Beam's runner registers. */
  @Test
  void beforeRunOnSparkRegistersTheMicroBatchListener(@TempDir Path checkpoints) {
    SparkContextOptions options = PipelineOptionsFactory.as(SparkContextOptions.class);
    options.setRunner(SparkRunner.class);
    options.setCheckpointDir(checkpoints.toString());
    options.setBatchIntervalMillis(1000L);

    RunnerProfile.SPARK.beforeRun(options);

    assertEquals(1, options.getListeners().size(), "listeners: " + options.getListeners());
    assertTrue(options.getListeners().get(0) instanceof SparkMicroBatches);
    assertTrue(options.getCheckpointDir().startsWith(checkpoints + "/run-"));
  }

  /**
   * A local master of all cores is named by its number, which Beam's runner takes for local: with
   * {@code local[*]} it staged the whole class path, some 300 jars carried by every task.
   */
  @Test
  void beforeRunOnSparkNamesALocalMastersCores(@TempDir Path checkpoints) {
    SparkContextOptions options = PipelineOptionsFactory.as(SparkContextOptions.class);
    options.setRunner(SparkRunner.class);
    options.setCheckpointDir(checkpoints.toString());
    options.setSparkMaster("local[*]");

    RunnerProfile.SPARK.beforeRun(options);

    assertEquals(
        "local[" + Runtime.getRuntime().availableProcessors() + "]", options.getSparkMaster());
    assertTrue(options.getSparkMaster().matches("local\\[?\\d*]?"), "Beam's pattern of local");
    options.setSparkMaster("spark://master:7077");
    RunnerProfile.SPARK.beforeRun(options);
    assertEquals("spark://master:7077", options.getSparkMaster(), "a cluster's master as given");
  }

  @Test
  void onlyDirectKeepsSlicesWhereTheyAreMadeAndOnlySparkTakesTurnsOnATimer() {
    assertFalse(RunnerProfile.DIRECT.spreadsSlices());
    assertTrue(RunnerProfile.SPARK.spreadsSlices());
    assertTrue(RunnerProfile.FLINK.spreadsSlices());
    assertTrue(RunnerProfile.SPARK.turnsOnTimer());
    assertFalse(RunnerProfile.FLINK.turnsOnTimer());
    assertEquals(16, RunnerProfile.DIRECT.shards());
    assertEquals(256, RunnerProfile.SPARK.shards());
  }
}
