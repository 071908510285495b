package dev.campaignnotifier.it;

/** The runner contract on the DirectRunner, the local default, with the snapshot side input. */
class DirectRunnerIT extends RunnerContract {
  @Override
  String[] runnerArgs() {
    return new String[] {"--runner=DirectRunner"};
  }

  /** Campaign updates on this runner: {@code lookup} mode's class. */
  @Override
  boolean coversUpdates() {
    return false;
  }
}
