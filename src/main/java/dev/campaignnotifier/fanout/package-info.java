/**
 * A released campaign made into slices of notifications, one per subscriber of its restaurant
 * ({@link dev.campaignnotifier.fanout.FanOutToSubscribers}): in one go, or a few slices per turn
 * ({@link dev.campaignnotifier.fanout.PacedFanOutFn}, or {@link
 * dev.campaignnotifier.fanout.TurnsOnTimerFn} where the runner offers no splittable resume), the
 * slices an earlier run delivered left out ({@link dev.campaignnotifier.fanout.AskDelivered}), and
 * spread over the workers ({@link dev.campaignnotifier.fanout.SpreadSlices}).
 */
package dev.campaignnotifier.fanout;
