package dev.campaignnotifier.it;

import dev.campaignnotifier.subscribers.SubscriberMode;

/**
 * The runner contract on Spark with the fan-out in turns on a timer: slices of 2 and one slice per
 * turn, so the sample's 9 subscribers take 5 turns, one per micro-batch, through the stateful
 * step's timer (the step Beam 2.70's Spark runner can drop a timer's output from; README, Runners).
 */
class SparkRunnerTurnsIT extends RunnerContract {
  @Override
  SubscriberMode mode() {
    return SubscriberMode.lookup;
  }

  /** Beam 2.70's Spark runner cannot run it (apache/beam#39822; README, Runners). */
  @Override
  boolean notifiesLateSubscribers() {
    return false;
  }

  @Override
  String[] runnerArgs() {
    return SparkRunnerIT.sparkArgs("--fanOutSlicesPerTurn=1", "--deliverySliceSize=2");
  }
}
