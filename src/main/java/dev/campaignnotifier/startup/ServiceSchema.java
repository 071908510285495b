package dev.campaignnotifier.startup;

import dev.campaignnotifier.io.PostgresDataSource;
import java.util.stream.Collectors;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.FlywayException;
import org.flywaydb.core.api.output.MigrateResult;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The service's own tables, the delivery ledger and the watcher's mark, created or migrated on
 * start by Flyway from {@code sql/service} (on the classpath), the one copy of their DDL: the
 * service's bookkeeping, like a Kafka Streams application's internal topics, is not the user's to
 * apply. The brief's two tables and the lookup index are never touched (they are the user's data,
 * and an index on a big table is a DBA's decision).
 *
 * <p>Flyway keeps what it applied in {@value #HISTORY}. A database where the tables were applied by
 * hand from an earlier version has no such table yet: it is baselined at version 0 and the
 * migrations (each {@code CREATE ... IF NOT EXISTS}) are recorded without changing anything. Two
 * copies starting at once are serialized by Flyway's own lock.
 */
public final class ServiceSchema {
  static final String LOCATION = "classpath:sql/service";
  static final String HISTORY = "campaign_notifier_schema_history";
  private static final Logger LOG = LoggerFactory.getLogger(ServiceSchema.class);

  private ServiceSchema() {}

  /** Applies what is missing, and logs once what was done. */
  static void migrate(PostgresDataSource db) {
    Flyway flyway =
        Flyway.configure(ServiceSchema.class.getClassLoader())
            .dataSource(db.url(), db.user(), db.password())
            .locations(LOCATION)
            .table(HISTORY)
            .baselineOnMigrate(true)
            .baselineVersion("0")
            .load();
    MigrateResult result;
    try {
      result = flyway.migrate();
    } catch (FlywayException e) {
      throw new StartupException(
          "Cannot create the service's tables in "
              + db.url()
              + " (--initSchema): "
              + e.getMessage()
              + ". Apply sql/service/*.sql by hand and start with --initSchema=false, or grant the"
              + " user CREATE on schema public");
    }
    if (result.migrationsExecuted == 0) {
      LOG.info(
          "The service's tables are up to date in {} (schema version {}, {})",
          db.url(),
          flyway.info().current() == null ? "none" : flyway.info().current().getVersion(),
          HISTORY);
      return;
    }
    LOG.info(
        "Applied {} to {} (schema version {}, recorded in {})",
        result.migrations.stream()
            .map(m -> m.version + " " + m.description)
            .collect(Collectors.joining(", ")),
        db.url(),
        result.targetSchemaVersion,
        HISTORY);
  }
}
