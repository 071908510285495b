package dev.campaignnotifier.it;

import dev.campaignnotifier.subscribers.SubscriberMode;

/** The runner contract on Spark's local master with the subscriber snapshot side input. */
class SparkRunnerSnapshotIT extends SparkRunnerIT {
  @Override
  SubscriberMode mode() {
    return SubscriberMode.snapshot;
  }

  /** Campaign updates on this runner: its contract class in its default mode. */
  @Override
  boolean coversUpdates() {
    return false;
  }
}
