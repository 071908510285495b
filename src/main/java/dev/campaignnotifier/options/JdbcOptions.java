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
}
