/**
 * The campaign notifier: reads restaurant promotions from Kafka and, while each is active, sends
 * one notification per subscriber of the restaurant to a Kafka topic and a PostgreSQL table. {@link
 * dev.campaignnotifier.CampaignNotifier} is the entry point and the one place the pipeline's shape
 * is written down; the stages live in {@code transforms}, the connectors in {@code io}.
 */
package dev.campaignnotifier;
