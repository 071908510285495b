package dev.campaignnotifier.it;

/** The runner contract on Spark's local master (micro-batches in this JVM). */
class SparkRunnerIT extends RunnerContract {
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
