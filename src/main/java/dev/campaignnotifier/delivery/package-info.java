/**
 * Every slice to both sinks ({@link dev.campaignnotifier.delivery.DeliverNotifications}): slices
 * gathered into parcels, each parcel written to the feedback table, published to the output topic
 * and committed in one transaction ({@link dev.campaignnotifier.delivery.SliceDelivery}), with a
 * ledger row per slice that makes a crash whole ({@link
 * dev.campaignnotifier.delivery.DeliveryLedger}, {@link
 * dev.campaignnotifier.delivery.FeedbackTable}); who removed the restaurant from favourites left
 * out ({@link dev.campaignnotifier.delivery.Favourites}); what a sink refuses for good decided in
 * one place ({@link dev.campaignnotifier.delivery.SinkErrors}); on Spark a big campaign's slices
 * delivered beside the micro-batches ({@link dev.campaignnotifier.delivery.BesideBundles}). A
 * parcel, the delivery's unit of work, is in the code a word of this package only.
 */
package dev.campaignnotifier.delivery;
