/**
 * The benchmark: how fast a campaign reaches all its subscribers, measured against the physical
 * floor of the same machine (COPY into PostgreSQL and a bare producer into Kafka, at once). Run it
 * with {@code runners/benchmark.sh}; it starts its own embedded servers.
 */
package dev.campaignnotifier.bench;
