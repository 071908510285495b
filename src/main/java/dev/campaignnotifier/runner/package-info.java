/**
 * Everything that differs per runner, in one place: {@link
 * dev.campaignnotifier.runner.RunnerProfile} names each difference and is read once into the
 * service's config; the rest are the workarounds it switches on. For the SparkRunner: timers that
 * know their bundle has ended ({@link dev.campaignnotifier.runner.SparkSafeTimersFn}), maps that
 * take entries again ({@link dev.campaignnotifier.runner.SparkSafeMaps}), a checkpoint directory
 * per start ({@link dev.campaignnotifier.runner.SparkCheckpoints}), the micro-batches watched from
 * the driver ({@link dev.campaignnotifier.runner.SparkMicroBatches}) and campaigns ended early read
 * ahead of them ({@link dev.campaignnotifier.runner.EndsReadAhead}). The runners' patched classes
 * live in {@code src/direct} and {@code src/spark}.
 */
package dev.campaignnotifier.runner;
