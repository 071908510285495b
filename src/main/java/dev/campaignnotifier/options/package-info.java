/**
 * The service's launch options, as small Beam {@link org.apache.beam.sdk.options.PipelineOptions}
 * interfaces (Kafka, JDBC, subscribers, dead letters) composed into {@link
 * dev.campaignnotifier.options.CampaignNotifierOptions}. No option ever holds a secret: passwords
 * are named by an environment variable or a file and resolved on the worker that needs them, so
 * they never show in {@code ps}, in Beam's printed options or in the serialized pipeline.
 */
package dev.campaignnotifier.options;
