/**
 * The embedded local stack: a real Kafka broker (KRaft, in this JVM) and a real PostgreSQL (from
 * the zonky binaries on Maven Central, as a child process), started when no servers are given, so
 * the service runs on a laptop with nothing but a JDK and Maven, and the brief's sample campaign
 * the quick start prints. The integration tests use the same classes (and add, in the tests, a
 * secured and a restartable broker), so what the quick start runs is what the tests prove.
 */
package dev.campaignnotifier.local;
