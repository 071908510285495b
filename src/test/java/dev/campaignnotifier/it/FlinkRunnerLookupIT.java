package dev.campaignnotifier.it;

import dev.campaignnotifier.subscribers.SubscriberMode;

/** The runner contract on Flink's embedded local cluster, subscribers looked up per campaign. */
class FlinkRunnerLookupIT extends FlinkRunnerIT {
  @Override
  SubscriberMode mode() {
    return SubscriberMode.lookup;
  }

  @Override
  boolean coversLateSubscribers() {
    return true;
  }

  /**
   * Campaign updates on this runner: in lookup mode, where a 200,000-subscriber snapshot reloaded
   * every second by the test's refresh does not slow the reading of the update.
   */
  @Override
  boolean coversUpdates() {
    return true;
  }
}
