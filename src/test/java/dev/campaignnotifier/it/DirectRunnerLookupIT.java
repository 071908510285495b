package dev.campaignnotifier.it;

import dev.campaignnotifier.subscribers.SubscriberMode;

/** The runner contract on the DirectRunner, subscribers looked up per campaign. */
class DirectRunnerLookupIT extends DirectRunnerIT {
  @Override
  SubscriberMode mode() {
    return SubscriberMode.lookup;
  }

  /** Lookup mode's late subscribers: SparkRunnerIT and FlinkRunnerLookupIT. */
  @Override
  boolean coversLateSubscribers() {
    return false;
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
