/**
 * Who follows which restaurant, in one of two modes chosen by {@code --subscribers} ({@link
 * dev.campaignnotifier.subscribers.SubscriberSource#of}): {@code snapshot}, the whole {@code
 * subscribers_restaurants} table as a side input re-read on a {@code GenerateSequence} tick ({@link
 * dev.campaignnotifier.subscribers.LoadSubscribers}, {@link
 * dev.campaignnotifier.subscribers.SubscriberSnapshot}); or {@code lookup}, one paged query per
 * campaign through an index ({@link dev.campaignnotifier.subscribers.SubscriberLookup}). The
 * fan-out sees either as a {@link dev.campaignnotifier.subscribers.SubscriberReader}. Failed reads
 * are retried with {@link dev.campaignnotifier.io.Retry} (a lookup) or wait for the next refresh (a
 * snapshot, the last good one serving meanwhile).
 */
package dev.campaignnotifier.subscribers;
