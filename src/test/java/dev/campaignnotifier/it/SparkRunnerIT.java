package dev.campaignnotifier.it;

import dev.campaignnotifier.subscribers.SubscriberMode;
import java.util.ArrayList;
import java.util.List;

/**
 * The runner contract on Spark's local master (micro-batches in this JVM), subscribers looked up
 * per campaign, as the Spark launchers do by default. The service in a JVM of its own, as the
 * launcher starts it: {@link SparkLauncherIT}.
 */
class SparkRunnerIT extends RunnerContract {
  @Override
  SubscriberMode mode() {
    return SubscriberMode.lookup;
  }

  @Override
  String[] runnerArgs() {
    return sparkArgs();
  }

  /** In the launcher's JVM instead: {@code SparkLauncherIT}. */
  @Override
  boolean coversTakenBackInThisJvm() {
    return false;
  }

  /** Spark's local master with two cores and 500 ms micro-batches, and {@code more}. */
  static String[] sparkArgs(String... more) {
    List<String> args =
        new ArrayList<>(
            List.of(
                "--runner=SparkRunner",
                "--sparkMaster=local[2]",
                "--batchIntervalMillis=500",
                "--checkpointDir=" + LocalServers.tempDir("spark-checkpoint").toUri()));
    args.addAll(List.of(more));
    return args.toArray(String[]::new);
  }
}
