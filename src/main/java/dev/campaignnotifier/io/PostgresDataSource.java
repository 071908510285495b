package dev.campaignnotifier.io;

import dev.campaignnotifier.options.JdbcOptions;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import javax.sql.DataSource;
import org.apache.beam.sdk.io.jdbc.JdbcIO;
import org.apache.beam.sdk.transforms.SerializableFunction;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * A pooled PostgreSQL {@link DataSource}, made by JdbcIO's own pooling provider, one per JVM and
 * configuration. The password is looked up here, on the worker, from an environment variable or a
 * file: the pipeline only ever carries their names, so no secret is serialized or printed.
 */
public record PostgresDataSource(String url, String user, String passwordEnv, String passwordFile)
    implements SerializableFunction<Void, DataSource> {
  private static final long serialVersionUID = 1L;
  private static final Map<PostgresDataSource, DataSource> POOLS = new ConcurrentHashMap<>();

  /** The database the options name: the one place they are turned into a data source. */
  public static PostgresDataSource from(JdbcOptions options) {
    return new PostgresDataSource(
        options.getJdbcUrl(),
        options.getJdbcUser(),
        options.getJdbcPasswordEnv(),
        options.getJdbcPasswordFile());
  }

  @Override
  public DataSource apply(Void unused) {
    return POOLS.computeIfAbsent(this, PostgresDataSource::open);
  }

  private DataSource open() {
    JdbcIO.DataSourceConfiguration config =
        JdbcIO.DataSourceConfiguration.create("org.postgresql.Driver", url).withUsername(user);
    String password = password();
    if (password != null) {
      config = config.withPassword(password);
    }
    return JdbcIO.PoolableDataSourceProvider.of(config).apply(null);
  }

  /**
   * One connection of its own, outside the pool, for the checks that run before and beside the
   * pipeline (start-up checks, the group lock, health): {@code timeoutSeconds} to connect and log
   * in, twice that for any one answer; TCP keep-alives on.
   */
  public Connection connect(int timeoutSeconds, String applicationName) throws SQLException {
    PGSimpleDataSource ds = new PGSimpleDataSource();
    ds.setUrl(url);
    ds.setUser(user);
    String password = password();
    if (password != null) {
      ds.setPassword(password);
    }
    ds.setConnectTimeout(timeoutSeconds);
    ds.setLoginTimeout(timeoutSeconds);
    ds.setSocketTimeout(2 * timeoutSeconds);
    ds.setApplicationName(applicationName);
    ds.setTcpKeepAlive(true);
    return ds.getConnection();
  }

  /** The password from the file, else from the environment variable, else none. */
  public String password() {
    if (passwordFile != null && !passwordFile.isBlank()) {
      try {
        return Files.readAllLines(Path.of(passwordFile), StandardCharsets.UTF_8).stream()
            .findFirst()
            .orElse("");
      } catch (IOException e) {
        throw new UncheckedIOException(
            "cannot read the password file " + passwordFile + " (--jdbcPasswordFile)", e);
      }
    }
    String fromEnv = passwordEnv == null ? null : System.getenv(passwordEnv);
    return fromEnv == null || fromEnv.isEmpty() ? null : fromEnv;
  }

  @Override
  public String toString() {
    return "PostgresDataSource{" + url + " as " + user + "}";
  }
}
