package dev.campaignnotifier.delivery;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.campaignnotifier.delivery.SinkErrors.Kind;
import java.io.IOException;
import java.sql.SQLException;
import org.apache.kafka.common.InvalidRecordException;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.errors.ClusterAuthorizationException;
import org.apache.kafka.common.errors.InvalidTopicException;
import org.apache.kafka.common.errors.NotLeaderOrFollowerException;
import org.apache.kafka.common.errors.OutOfOrderSequenceException;
import org.apache.kafka.common.errors.RecordBatchTooLargeException;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.errors.TopicAuthorizationException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class SinkErrorsTest {
  @ParameterizedTest(name = "SQLState {0} -> {1}")
  @CsvSource({
    // what time fixes: the connection, the server shutting down or starting, a conflict
    "08006, TRANSIENT",
    "08001, TRANSIENT",
    "57P01, TRANSIENT",
    "57P03, TRANSIENT",
    "40001, TRANSIENT",
    "40P01, TRANSIENT",
    // what this data will never pass: class 22, class 54, class 23 but the unique index
    "22021, REFUSED", // invalid byte sequence for encoding "UTF8": 0x00
    "22P05, REFUSED", // character has no equivalent in the server's encoding
    "22001, REFUSED", // value too long for a column a DBA made varchar(n)
    "22003, REFUSED", // numeric value out of range
    "54000, REFUSED", // index row size exceeds btree maximum
    "23502, REFUSED", // not null
    "23503, REFUSED", // foreign key
    "23514, REFUSED", // check constraint
    "23P01, REFUSED", // exclusion constraint
    // the service's own setup: not the data's fault
    "23505, FAILED", // the unique index: the insert falls back to ON CONFLICT itself
    "42P01, FAILED", // undefined table
    "42501, FAILED", // insufficient privilege
    "53100, FAILED", // disk full
    "XX000, FAILED"
  })
  void postgresErrors(String state, Kind expected) {
    assertEquals(expected, SinkErrors.of(new SQLException("error", state)));
  }

  @Test
  void aPostgresErrorWithoutStateIsTransientOnlyForAnIoFailure() {
    assertEquals(
        Kind.TRANSIENT, SinkErrors.of(new SQLException("broken", null, new IOException("reset"))));
    assertEquals(Kind.FAILED, SinkErrors.of(new SQLException("unknown")));
  }

  @Test
  void kafkaErrors() {
    assertEquals(Kind.TRANSIENT, SinkErrors.of(new TimeoutException("expired")));
    assertEquals(Kind.TRANSIENT, SinkErrors.of(new NotLeaderOrFollowerException("moved")));
    assertEquals(Kind.REFUSED, SinkErrors.of(new RecordTooLargeException("too large")));
    assertEquals(Kind.REFUSED, SinkErrors.of(new RecordBatchTooLargeException("too large")));
    assertEquals(Kind.REFUSED, SinkErrors.of(new TopicAuthorizationException("denied")));
    assertEquals(Kind.REFUSED, SinkErrors.of(new ClusterAuthorizationException("denied")));
    assertEquals(Kind.REFUSED, SinkErrors.of(new InvalidRecordException("no key")));
    assertEquals(Kind.REFUSED, SinkErrors.of(new InvalidTopicException("bad name")));
    assertEquals(Kind.FAILED, SinkErrors.of(new OutOfOrderSequenceException("lost")));
    assertEquals(Kind.FAILED, SinkErrors.of(new KafkaException("closed")));
    assertEquals(Kind.FAILED, SinkErrors.of(new IllegalStateException("closed")));
  }
}
