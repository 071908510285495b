/**
 * Everything that talks to Kafka or PostgreSQL: the campaign source, the delivery of notifications
 * to both sinks, the dead-letter sink, the feedback table, retries, and how clients are configured
 * (a Kafka properties file, a JDBC password from the environment or a file). Connection settings
 * that hold secrets are resolved on the worker when a client is opened, never captured in the
 * pipeline graph.
 */
package dev.campaignnotifier.io;
