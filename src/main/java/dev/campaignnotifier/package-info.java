/**
 * The campaign notifier: reads restaurant promotions from Kafka and, while each is active, sends
 * one notification per subscriber of the restaurant to a Kafka topic and a PostgreSQL table. {@link
 * dev.campaignnotifier.CampaignNotifier} is the entry point and the one place the pipeline's shape
 * is written down. Each stage is a package: {@code campaigns} (read, parse, schedule, versions,
 * dead letters), {@code subscribers}, {@code fanout}, {@code late}, {@code delivery}; beside them
 * {@code runner} (what differs per runner), {@code startup} (what main does before the pipeline
 * runs), {@code model} (the data and its coders), {@code io} (plain clients), {@code ops}, {@code
 * options} and {@code local} (docs/architecture.md, Code layout).
 */
package dev.campaignnotifier;
