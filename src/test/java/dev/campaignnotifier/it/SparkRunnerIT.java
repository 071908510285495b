package dev.campaignnotifier.it;

import dev.campaignnotifier.subscribers.SubscriberMode;

/**
 * The runner contract on Spark's local master (micro-batches in this JVM), subscribers looked up
 * per campaign, as the Spark launchers do by default.
 */
class SparkRunnerIT extends RunnerContract {
  @Override
  SubscriberMode mode() {
    return SubscriberMode.lookup;
  }

  @Override
  String[] runnerArgs() {
    return new String[] {
      "--runner=SparkRunner",
      "--sparkMaster=local[2]",
      "--batchIntervalMillis=500",
      "--checkpointDir=" + LocalServers.tempDir("spark-checkpoint").toUri()
    };
  }
}
