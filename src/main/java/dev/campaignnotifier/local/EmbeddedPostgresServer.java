package dev.campaignnotifier.local;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;

/**
 * A real PostgreSQL 15 server from the zonky binaries, with the brief's role and database: user
 * {@code jovyan} and database {@code de}, holding {@code sql/}'s tables. It listens on loopback
 * only and trusts local connections, so it needs no password at all.
 */
public final class EmbeddedPostgresServer implements AutoCloseable {
  public static final String DATABASE = "de";
  public static final String USER = "jovyan";

  /** The files of {@code sql/}, in order, copied onto the classpath by the build. */
  public static final List<String> SCHEMA =
      List.of(
          "sql/001_tables.sql",
          "sql/003_subscriber_lookup_index.sql",
          "sql/service/V1__campaign_slices.sql",
          "sql/service/V2__watch_mark.sql",
          "sql/service/V3__campaign_versions.sql",
          "sql/service/V4__campaign_active.sql",
          "sql/service/V5__campaign_versions_by_transaction.sql");

  public static final String SAMPLE_SUBSCRIBERS = "sql/002_sample_subscribers.sql";

  private final EmbeddedPostgres postgres;

  private EmbeddedPostgresServer(EmbeddedPostgres postgres) {
    this.postgres = postgres;
  }

  /**
   * Starts PostgreSQL on {@code port} (0: any free port). Its data lives in a temporary directory
   * that the server itself removes when it stops.
   */
  public static EmbeddedPostgresServer start(int port) {
    return start(EmbeddedPostgres.builder().setPort(port == 0 ? Ports.free() : port));
  }

  /**
   * Starts PostgreSQL with a stock server's durability, for measurements: zonky starts its servers
   * with {@code -F} (no fsync) and {@code synchronous_commit=off}, which write twice as fast as a
   * real server; here {@code fsync}, {@code synchronous_commit} and {@code full_page_writes} are
   * on, and the data lives in {@code dataDir} (on a disk, not a tmpfs). The server's log goes to
   * {@code logDir/postgresql.log}, each line starting with its epoch time in seconds to the
   * millisecond and a {@code |}, and says when each checkpoint started and ended.
   */
  public static EmbeddedPostgresServer startDurable(Path dataDir, Path logDir) {
    return start(
        EmbeddedPostgres.builder()
            .setPort(Ports.free())
            .setDataDirectory(dataDir)
            .setCleanDataDirectory(true)
            .setServerConfig("fsync", "on")
            .setServerConfig("synchronous_commit", "on")
            .setServerConfig("full_page_writes", "on")
            .setServerConfig("logging_collector", "on")
            .setServerConfig("log_directory", logDir.toAbsolutePath().toString())
            .setServerConfig("log_filename", "postgresql.log")
            .setServerConfig("log_line_prefix", "%n|")
            .setServerConfig("log_checkpoints", "on"));
  }

  private static EmbeddedPostgresServer start(EmbeddedPostgres.Builder builder) {
    try {
      EmbeddedPostgres postgres = builder.setServerConfig("max_connections", "200").start();
      EmbeddedPostgresServer server = new EmbeddedPostgresServer(postgres);
      server.executeAs("postgres", "postgres", "CREATE ROLE " + USER + " LOGIN SUPERUSER");
      return server;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start the embedded PostgreSQL", e);
    }
  }

  /** Creates a database owned by {@code jovyan} with the service's tables. */
  public String createDatabase(String name, boolean withSampleSubscribers) {
    return createDatabase(name, withSampleSubscribers, "");
  }

  /**
   * As {@link #createDatabase(String, boolean)}, with more of {@code CREATE DATABASE} ({@code
   * ENCODING 'LATIN1' TEMPLATE template0}, say).
   */
  public String createDatabase(String name, boolean withSampleSubscribers, String options) {
    executeAs("postgres", "postgres", "CREATE DATABASE " + name + " OWNER " + USER + " " + options);
    for (String file : SCHEMA) {
      executeAs(USER, name, resource(file));
    }
    if (withSampleSubscribers) {
      executeAs(USER, name, resource(SAMPLE_SUBSCRIBERS));
    }
    return jdbcUrl(name);
  }

  /**
   * A database with the brief's two tables and sample subscribers only, as a user's would be before
   * the service's first start.
   */
  public String createBriefDatabase(String name) {
    executeAs("postgres", "postgres", "CREATE DATABASE " + name + " OWNER " + USER);
    executeAs(USER, name, resource(SCHEMA.get(0)));
    executeAs(USER, name, resource(SAMPLE_SUBSCRIBERS));
    return jdbcUrl(name);
  }

  public String jdbcUrl(String database) {
    return "jdbc:postgresql://localhost:" + port() + "/" + database;
  }

  public int port() {
    return postgres.getPort();
  }

  public Connection connect(String database) throws SQLException {
    return DriverManager.getConnection(jdbcUrl(database), USER, null);
  }

  public void executeAs(String user, String database, String sql) {
    try (Connection c = DriverManager.getConnection(jdbcUrl(database), user, null);
        Statement s = c.createStatement()) {
      s.execute(sql);
    } catch (SQLException e) {
      throw new IllegalStateException("cannot run SQL in the embedded PostgreSQL: " + e, e);
    }
  }

  static String resource(String path) {
    try (InputStream in = EmbeddedPostgresServer.class.getClassLoader().getResourceAsStream(path)) {
      if (in == null) {
        throw new IllegalStateException(path + " is not on the classpath");
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + path, e);
    }
  }

  @Override
  public void close() {
    try {
      postgres.close();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot stop the embedded PostgreSQL", e);
    }
  }
}
