/**
 * A released campaign made into slices of notifications, one per subscriber of its restaurant
 * ({@link dev.campaignnotifier.fanout.FanOutToSubscribers}): in one go, or a few slices per turn
 * ({@link dev.campaignnotifier.fanout.PacedFanOutFn}, or {@link
 * dev.campaignnotifier.fanout.TurnsOnTimerFn} where the runner offers no splittable resume), both
 * cutting slices with {@link dev.campaignnotifier.fanout.FanOutTurns}, which leaves out whoever an
 * earlier run delivered to (asked first for a bundle of campaigns: {@link
 * dev.campaignnotifier.fanout.AskDelivered}); the slices are spread over the workers ({@link
 * dev.campaignnotifier.fanout.SpreadSlices}).
 */
package dev.campaignnotifier.fanout;
