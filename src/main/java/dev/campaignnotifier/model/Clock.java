package dev.campaignnotifier.model;

import java.io.Serializable;

/**
 * The wall clock the time rules read. Production uses {@link #system()}; tests inject their own, so
 * "is this campaign active now" is tested without waiting for real time to pass.
 */
@FunctionalInterface
public interface Clock extends Serializable {
  long nowMillis();

  default long nowEpochSecond() {
    return Math.floorDiv(nowMillis(), 1000L);
  }

  static Clock system() {
    return System::currentTimeMillis;
  }
}
