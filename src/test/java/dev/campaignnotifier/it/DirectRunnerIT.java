package dev.campaignnotifier.it;

/** The runner contract on the DirectRunner, the local default, with the snapshot side input. */
class DirectRunnerIT extends RunnerContract {
  @Override
  String[] runnerArgs() {
    return new String[] {"--runner=DirectRunner"};
  }

  /** In the service's own JVM instead: {@code TakenBackIT}. */
  @Override
  boolean coversTakenBackInThisJvm() {
    return false;
  }

  /** Campaign updates on this runner: {@code lookup} mode's class. */
  @Override
  boolean coversUpdates() {
    return false;
  }
}
