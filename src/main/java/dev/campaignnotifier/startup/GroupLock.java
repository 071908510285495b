package dev.campaignnotifier.startup;

import dev.campaignnotifier.io.PostgresDataSource;
import dev.campaignnotifier.io.Retry;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One copy of the service per consumer group. KafkaIO assigns partitions itself instead of joining
 * the group, so Kafka would let two copies read the same campaigns and both fan them out; this lock
 * stops that. It is a PostgreSQL session-level advisory lock keyed by the group, taken on a
 * connection of its own before the replay moves the group's offsets, and held for the life of the
 * process. A second copy waits as a standby, checking every few seconds, and takes over once the
 * first is gone (its session ends: a stop, a crash, or for a vanished host after the TCP
 * keep-alives set on the session give up, about 25 s); its replay then completes whatever the first
 * left, as after any restart.
 *
 * <p>If the holder's own session is lost (PostgreSQL restarted or unreachable), the holder takes
 * the lock again as soon as it can; if another copy got it first, the holder stops ({@code
 * onLost}), so the two never fan out together for longer than the holder takes to notice (one check
 * period).
 */
public final class GroupLock implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(GroupLock.class);
  private static final String LOCK =
      "SELECT pg_try_advisory_lock(hashtext('campaign-notifier'), hashtext(?))";
  private static final String HOLDER =
      "SELECT a.application_name, coalesce(a.client_addr::text, 'local socket'), a.backend_start"
          + " FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
          + " WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2"
          + " AND l.classid::bigint = (hashtext('campaign-notifier')::bigint & 4294967295)"
          + " AND l.objid::bigint = (hashtext(?)::bigint & 4294967295)";

  private final String group;
  private final PostgresDataSource postgres;
  private final Duration period;
  private final Runnable onLost;
  private volatile Connection session;
  private volatile boolean closed;
  private Thread keeper;

  private GroupLock(String group, PostgresDataSource postgres, Duration period, Runnable onLost) {
    this.group = group;
    this.postgres = postgres;
    this.period = period;
    this.onLost = onLost;
  }

  /**
   * Returns once this process holds the consumer group, waiting as a standby while another copy
   * does and waiting out PostgreSQL while it is unreachable.
   *
   * @param onLost run if the lock is lost to another copy (the service stops)
   */
  public static GroupLock acquire(ServiceConfig config, Duration period, Runnable onLost)
      throws InterruptedException {
    GroupLock lock =
        new GroupLock(config.options().getConsumerGroup(), config.postgres(), period, onLost);
    lock.waitForLock();
    lock.keeper = new Thread(lock::keep, "group-lock");
    lock.keeper.setDaemon(true);
    lock.keeper.start();
    return lock;
  }

  private void waitForLock() throws InterruptedException {
    boolean waited = false;
    while (true) {
      try {
        if (session == null || !session.isValid(5)) {
          session = connect();
        }
        if (tryLock(session)) {
          if (waited) {
            LOG.info("Took over consumer group {}: the copy that held it is gone", group);
          }
          return;
        }
        if (!waited) {
          LOG.warn(
              "Consumer group {} is held by another copy of the service ({}); waiting as a"
                  + " standby, checking every {} s",
              group,
              Objects.requireNonNullElse(holder(session), "it has just gone"),
              period.toSeconds());
          waited = true;
        }
      } catch (SQLException e) {
        if (!Retry.isTransient(e)) {
          throw new StartupException(
              "cannot take the lock of consumer group " + group + ": " + e.getMessage());
        }
        LOG.warn(
            "PostgreSQL unavailable to take the lock of consumer group {}: {}",
            group,
            e.getMessage());
        closeQuietly();
      }
      Thread.sleep(period.toMillis());
    }
  }

  /** Checks the session every period; a lost one is taken again, or the service stops. */
  private void keep() {
    try {
      while (!closed) {
        Thread.sleep(period.toMillis());
        if (closed || isAlive()) {
          continue;
        }
        LOG.warn(
            "Lost the PostgreSQL session holding consumer group {}; taking the lock again", group);
        closeQuietly();
        if (!retake()) {
          LOG.error(
              "Another copy took consumer group {} while this one was cut off from PostgreSQL;"
                  + " stopping this copy so that only one fans out",
              group);
          onLost.run();
          return;
        }
        LOG.info("Holding consumer group {} again", group);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private boolean isAlive() {
    try (Statement s = session.createStatement()) {
      s.execute("SELECT 1");
      return true;
    } catch (SQLException e) {
      return false;
    }
  }

  /**
   * True once the lock is ours again, false if another copy holds it; waits out PostgreSQL, and
   * this copy's own previous session if the server has not yet noticed it is gone (a connection cut
   * by the network, not closed: until the keep-alives end it, it still holds the lock).
   */
  private boolean retake() throws InterruptedException {
    boolean waitedForOldSession = false;
    while (!closed) {
      try {
        session = connect();
        if (tryLock(session)) {
          return true;
        }
        String holder = holder(session);
        if (holder != null && !holder.startsWith(applicationName() + " from ")) {
          LOG.error("Consumer group {} is now held by {}", group, holder);
          return false;
        }
        if (holder != null && !waitedForOldSession) {
          LOG.warn(
              "Consumer group {} is still held by this copy's previous session; waiting for"
                  + " PostgreSQL to end it",
              group);
          waitedForOldSession = true;
        }
        closeQuietly();
        Thread.sleep(period.toMillis());
      } catch (SQLException e) {
        LOG.warn(
            "PostgreSQL unavailable to take the lock of consumer group {} again: {}",
            group,
            e.getMessage());
        closeQuietly();
        Thread.sleep(period.toMillis());
      }
    }
    return true;
  }

  private boolean tryLock(Connection c) throws SQLException {
    try (PreparedStatement s = c.prepareStatement(LOCK)) {
      s.setString(1, group);
      try (ResultSet r = s.executeQuery()) {
        r.next();
        return r.getBoolean(1);
      }
    }
  }

  /** Who holds the group's lock (application name, address, since when), or null if nobody. */
  private String holder(Connection c) throws SQLException {
    try (PreparedStatement s = c.prepareStatement(HOLDER)) {
      s.setString(1, group);
      try (ResultSet r = s.executeQuery()) {
        return r.next()
            ? r.getString(1) + " from " + r.getString(2) + " since " + r.getTimestamp(3)
            : null;
      }
    }
  }

  /**
   * A connection of its own, named after this process, whose TCP keep-alives let the server end the
   * session (and free the lock) within about 25 s of this host vanishing.
   */
  private Connection connect() throws SQLException {
    Connection c = postgres.connect(15, applicationName());
    try (Statement s = c.createStatement()) {
      s.execute("SET tcp_keepalives_idle = 10");
      s.execute("SET tcp_keepalives_interval = 5");
      s.execute("SET tcp_keepalives_count = 3");
    }
    return c;
  }

  private static String applicationName() {
    String host;
    try {
      host = InetAddress.getLocalHost().getHostName();
    } catch (UnknownHostException e) {
      host = "unknown host";
    }
    return "campaign-notifier on " + host + " pid " + ProcessHandle.current().pid();
  }

  private void closeQuietly() {
    Connection c = session;
    session = null;
    if (c != null) {
      try {
        c.close();
      } catch (SQLException ignored) {
        // already gone
      }
    }
  }

  /** Ends the session, which frees the lock for a standby. */
  @Override
  public void close() {
    closed = true;
    if (keeper != null) {
      keeper.interrupt();
    }
    closeQuietly();
  }
}
