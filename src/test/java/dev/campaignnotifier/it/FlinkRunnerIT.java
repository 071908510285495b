package dev.campaignnotifier.it;

/** The runner contract on Flink's embedded local cluster (a MiniCluster in this JVM). */
class FlinkRunnerIT extends RunnerContract {
  @Override
  String[] runnerArgs() {
    return new String[] {
      "--runner=FlinkRunner",
      "--flinkMaster=[local]",
      "--parallelism=2",
      "--attachedMode=false",
      "--checkpointingInterval=2000"
    };
  }
}
