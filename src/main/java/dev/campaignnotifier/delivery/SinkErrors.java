package dev.campaignnotifier.delivery;

import dev.campaignnotifier.io.Retry;
import java.sql.SQLException;
import org.apache.kafka.common.InvalidRecordException;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.errors.InvalidTimestampException;
import org.apache.kafka.common.errors.InvalidTopicException;
import org.apache.kafka.common.errors.RecordBatchTooLargeException;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.errors.RetriableException;
import org.apache.kafka.common.errors.SerializationException;

/**
 * What an error of a sink means for the data that met it, decided in one place:
 *
 * <ul>
 *   <li>{@link Kind#TRANSIENT}: the server is down, restarting or busy; time fixes it, so the
 *       delivery waits it out ({@link Retry}).
 *   <li>{@link Kind#REFUSED}: this data will never be accepted, however often it is sent (a value
 *       PostgreSQL cannot store, a row too large for an index, a constraint, a record too large for
 *       the topic, no right to write to it). The data is dead-lettered and the service goes on.
 *   <li>{@link Kind#FAILED}: neither; most likely the service's own setup (a missing table, a
 *       permission on the database, a broken producer). It fails the bundle as before.
 * </ul>
 */
public final class SinkErrors {
  /** See the class comment. */
  public enum Kind {
    TRANSIENT,
    REFUSED,
    FAILED
  }

  private static final String UNIQUE_VIOLATION = "23505";

  private SinkErrors() {}

  /**
   * PostgreSQL: transient as {@link Retry#isTransient}; refused for a data exception (class 22,
   * such as 22021 "invalid byte sequence", 22001 "value too long"), a program limit (class 54, such
   * as 54000 "index row size exceeds maximum") and an integrity violation (class 23: not null,
   * foreign key, check, exclusion, a unique index of the DBA's) other than 23505 on the feedback
   * table's own unique index, which the insert handles itself ({@code ON CONFLICT DO NOTHING}).
   */
  public static Kind of(SQLException e) {
    if (Retry.isTransient(e)) {
      return Kind.TRANSIENT;
    }
    String state = e.getSQLState();
    if (state != null
        && (state.startsWith("22")
            || state.startsWith("54")
            || (state.startsWith("23") && !state.equals(UNIQUE_VIOLATION)))) {
      return Kind.REFUSED;
    }
    return Kind.FAILED;
  }

  /**
   * Kafka: transient for its {@link RetriableException}s (a leader moving, a broker down, a
   * timeout); refused for a record or batch too large (the producer's {@code max.request.size} or
   * the topic's {@code max.message.bytes}), an authorization error (on the topic or the cluster),
   * an invalid record, timestamp or topic, and a value that cannot be serialized.
   */
  public static Kind of(Throwable kafka) {
    if (kafka instanceof RetriableException) {
      return Kind.TRANSIENT;
    }
    if (kafka instanceof RecordTooLargeException
        || kafka instanceof RecordBatchTooLargeException
        || kafka instanceof AuthorizationException
        || kafka instanceof InvalidRecordException
        || kafka instanceof InvalidTimestampException
        || kafka instanceof InvalidTopicException
        || kafka instanceof SerializationException) {
      return Kind.REFUSED;
    }
    return Kind.FAILED;
  }
}
