package dev.campaignnotifier.it;

import dev.campaignnotifier.io.PostgresDataSource;
import dev.campaignnotifier.local.EmbeddedKafka;
import dev.campaignnotifier.local.EmbeddedPostgresServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.atomic.AtomicInteger;
import javax.sql.DataSource;

/**
 * One real Kafka broker and one real PostgreSQL for the whole integration-test JVM, started on
 * first use. Tests share the servers but never data: each takes its own topics and database.
 */
public final class LocalServers {
  private static final AtomicInteger SEQUENCE = new AtomicInteger();
  private static EmbeddedKafka kafka;
  private static EmbeddedPostgresServer postgres;

  private LocalServers() {}

  public static synchronized EmbeddedKafka kafka() {
    if (kafka == null) {
      kafka = EmbeddedKafka.start(tempDir("it-kafka"), 0);
      Runtime.getRuntime().addShutdownHook(new Thread(kafka::close));
    }
    return kafka;
  }

  public static synchronized EmbeddedPostgresServer postgres() {
    if (postgres == null) {
      postgres = EmbeddedPostgresServer.start(0);
      Runtime.getRuntime().addShutdownHook(new Thread(postgres::close));
    }
    return postgres;
  }

  /** A name no other test in this JVM has, for topics, groups and databases. */
  public static String unique(String prefix) {
    return prefix + "_" + SEQUENCE.incrementAndGet();
  }

  /**
   * The service's pooled data source of a fresh database with the service's tables, created with
   * {@code createOptions} ({@code ENCODING 'LATIN1' ...}, or "").
   */
  public static DataSource database(String prefix, String createOptions) {
    String url = postgres().createDatabase(unique(prefix), false, createOptions);
    return new PostgresDataSource(url, EmbeddedPostgresServer.USER, null, null).apply(null);
  }

  /** The one number {@code sql} answers. */
  public static long count(DataSource db, String sql) throws SQLException {
    try (Connection c = db.getConnection();
        Statement s = c.createStatement();
        ResultSet r = s.executeQuery(sql)) {
      r.next();
      return r.getLong(1);
    }
  }

  static Path tempDir(String prefix) {
    try {
      return Files.createTempDirectory(prefix);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
