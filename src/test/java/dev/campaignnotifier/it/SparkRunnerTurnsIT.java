package dev.campaignnotifier.it;

/**
 * The runner contract on Spark with the fan-out in turns on a timer: slices of 2 and one slice per
 * turn, so the sample's 9 subscribers take 5 turns, one per micro-batch, through the stateful
 * step's timer (the step Beam 2.70's Spark runner can drop a timer's output from; docs/runners.md).
 */
class SparkRunnerTurnsIT extends SparkRunnerIT {
  @Override
  String[] runnerArgs() {
    return sparkArgs("--fanOutSlicesPerTurn=1", "--deliverySliceSize=2");
  }

  /** The same late-subscriber step as without turns: SparkRunnerIT. */
  @Override
  boolean coversLateSubscribers() {
    return false;
  }

  /** Campaign updates on this runner: its contract class in its default mode. */
  @Override
  boolean coversUpdates() {
    return false;
  }
}
