package dev.campaignnotifier.runner;

import org.apache.beam.sdk.transforms.DoFn;

/**
 * A stateful DoFn whose timers know when they are fired after their bundle has finished. Beam
 * 2.70's Spark runner fires the timers that fell due while a key's bundle was ending once more,
 * after it has collected the bundle's output, and drops whatever they output ({@code
 * ParDoStateUpdateFn}: {@code triggerExpiredTimers} after the output list is built). A timer that
 * {@link #firedAfterBundle()} should only set itself again, for the next micro-batch. No other
 * runner fires a timer outside a bundle.
 */
public abstract class SparkSafeTimersFn<InputT, OutputT> extends DoFn<InputT, OutputT> {
  private transient boolean bundleFinished;

  @StartBundle
  public void startBundle() {
    bundleFinished = false;
  }

  @FinishBundle
  public void finishBundle() {
    bundleFinished = true;
  }

  /** True when a timer is being fired after the bundle finished: its output would be lost. */
  protected boolean firedAfterBundle() {
    return bundleFinished;
  }
}
