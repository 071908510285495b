package dev.campaignnotifier.io;

import java.sql.SQLException;
import org.slf4j.Logger;

/**
 * Waits out a database that is down or restarting: capped exponential backoff, a log line per
 * attempt saying what waits and why. Errors that time will not fix are thrown at once.
 */
public final class Retry {
  private static final long FIRST_BACKOFF_MILLIS = 200;
  private static final long MAX_BACKOFF_MILLIS = 10_000;

  /** A database call. */
  @FunctionalInterface
  public interface SqlCall<T> {
    T call() throws SQLException;
  }

  private Retry() {}

  /**
   * @param onRetry called before each wait (a metric: Beam counts only on the bundle's thread, so
   *     callers on other threads tally and report later)
   */
  public static <T> T sql(String what, Logger log, Runnable onRetry, SqlCall<T> call)
      throws InterruptedException {
    long backoff = FIRST_BACKOFF_MILLIS;
    for (int attempt = 1; ; attempt++) {
      try {
        return call.call();
      } catch (SQLException e) {
        if (!FeedbackTable.isTransient(e)) {
          throw new IllegalStateException("Cannot " + what + ": " + e.getMessage(), e);
        }
        onRetry.run();
        log.warn(
            "PostgreSQL unavailable to {} (attempt {}, SQLState {}): {}; retrying in {} ms",
            what,
            attempt,
            e.getSQLState(),
            e.getMessage(),
            backoff);
        Thread.sleep(backoff);
        backoff = Math.min(backoff * 2, MAX_BACKOFF_MILLIS);
      }
    }
  }
}
