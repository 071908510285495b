/**
 * Late subscribers: a client who adds a restaurant to favourites while one of its campaigns is
 * active is notified once. {@link dev.campaignnotifier.late.WatchSubscriptions} finds new
 * subscriptions every second; {@link dev.campaignnotifier.late.NotifyLateSubscribers} joins them
 * with the active campaigns (released, changed, or active and delivered before a restart: {@link
 * dev.campaignnotifier.late.ActiveBeforeStart}) and makes their slices for the delivery.
 */
package dev.campaignnotifier.late;
