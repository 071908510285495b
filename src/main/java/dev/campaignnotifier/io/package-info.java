/**
 * Plain clients every stage uses: Kafka clients with the user's properties file laid over the
 * service's own settings ({@link dev.campaignnotifier.io.KafkaClients}), the pooled PostgreSQL data
 * source ({@link dev.campaignnotifier.io.PostgresDataSource}) and the waiting out of an outage
 * ({@link dev.campaignnotifier.io.Retry}). Connection settings that hold secrets are resolved on
 * the worker when a client is opened, never captured in the pipeline graph.
 */
package dev.campaignnotifier.io;
