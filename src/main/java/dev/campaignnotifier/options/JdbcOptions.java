package dev.campaignnotifier.options;

import org.apache.beam.sdk.options.Default;
import org.apache.beam.sdk.options.Description;
import org.apache.beam.sdk.options.PipelineOptions;

/** The PostgreSQL database that holds subscribers and receives feedback rows. */
public interface JdbcOptions extends PipelineOptions {
  @Description(
      "JDBC URL of PostgreSQL, e.g. jdbc:postgresql://localhost:5432/de. Leave unset to start an"
          + " embedded local PostgreSQL (the quick start).")
  String getJdbcUrl();

  void setJdbcUrl(String value);

  @Description("PostgreSQL user.")
  @Default.String("jovyan")
  String getJdbcUser();

  void setJdbcUser(String value);

  @Description(
      "Name of the environment variable that holds the PostgreSQL password (the password itself is"
          + " never an option). Unset or empty variable: connect without a password.")
  @Default.String("JDBC_PASSWORD")
  String getJdbcPasswordEnv();

  void setJdbcPasswordEnv(String value);

  @Description(
      "Path of a file whose first line is the PostgreSQL password; wins over --jdbcPasswordEnv.")
  String getJdbcPasswordFile();

  void setJdbcPasswordFile(String value);

  @Description(
      "Create or migrate the service's own tables (the delivery ledger, the watcher's mark) on"
          + " start, from sql/service. false: a DBA applies them, and a missing one is a start-up"
          + " error. Never touches the brief's tables or the lookup index.")
  @Default.Boolean(true)
  boolean getInitSchema();

  void setInitSchema(boolean value);
}
