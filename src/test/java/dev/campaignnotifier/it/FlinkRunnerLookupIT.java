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
}
