package dev.campaignnotifier.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.campaignnotifier.local.EmbeddedPostgresServer;
import dev.campaignnotifier.local.Ports;
import dev.campaignnotifier.options.CampaignNotifierOptions;
import dev.campaignnotifier.startup.Preflight;
import dev.campaignnotifier.startup.ServiceConfig;
import dev.campaignnotifier.startup.ServiceSchema;
import dev.campaignnotifier.startup.StartupException;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/** Each way the service cannot start gives one readable line naming what to fix. */
class StartupErrorsIT {
  private static String failure(String... args) {
    CampaignNotifierOptions options = ServiceClient.options(true, args);
    return assertThrows(
            StartupException.class, () -> Preflight.check(ServiceConfig.resolve(options)))
        .getMessage();
  }

  private static int closedPort() {
    return Ports.free();
  }

  private static void assertMentions(String message, String... parts) {
    for (String part : parts) {
      assertTrue(message.contains(part), () -> "'" + part + "' not in: " + message);
    }
    assertTrue(!message.contains("\n"), () -> "more than one line: " + message);
  }

  @Test
  void unreachableBrokerNamesBootstrapServers() throws IOException {
    String message = failure("--bootstrapServers=127.0.0.1:" + closedPort());
    assertMentions(message, "Cannot reach Kafka at 127.0.0.1:", "--bootstrapServers");
  }

  @Test
  void missingInputTopicNamesTheOption() {
    assertMentions(
        failure("--inputTopic=no-such-topic"),
        "Kafka topic 'no-such-topic' does not exist",
        "--inputTopic");
  }

  @Test
  void missingDeadLetterTopicNamesTheOption() {
    assertMentions(failure("--deadLetterTopic=no-such-dlq"), "--deadLetterTopic");
  }

  @Test
  void unreachableDatabaseNamesJdbcUrl() throws IOException {
    String url = "jdbc:postgresql://127.0.0.1:" + closedPort() + "/de";
    assertMentions(
        failure("--jdbcUrl=" + url), "Cannot connect to PostgreSQL at " + url, "--jdbcUrl");
  }

  @Test
  void missingDatabaseNamesJdbcUrl() {
    String url = LocalServers.postgres().jdbcUrl("no_such_database");
    assertMentions(
        failure("--jdbcUrl=" + url), "database \"no_such_database\" does not exist", "--jdbcUrl");
  }

  @Test
  void unreadablePasswordFileNamesTheOption() {
    assertMentions(
        failure("--jdbcPasswordFile=/no/such/password"), "/no/such/password", "--jdbcPasswordFile");
  }

  @Test
  void missingTableNamesTheSchemaFile() {
    String database = LocalServers.unique("empty");
    LocalServers.postgres()
        .executeAs(
            "postgres",
            "postgres",
            "CREATE DATABASE " + database + " OWNER " + EmbeddedPostgresServer.USER);
    assertMentions(
        failure("--jdbcUrl=" + LocalServers.postgres().jdbcUrl(database)),
        "Table public.subscribers_restaurants does not exist",
        "sql/001_tables.sql");
  }

  @Test
  void missingDeliveryLedgerNamesItsSchemaFile() {
    CampaignNotifierOptions options = ServiceClient.options(true, "--initSchema=false");
    execute(options, "DROP TABLE public.campaign_slices");
    assertMentions(
        assertThrows(StartupException.class, () -> Preflight.check(ServiceConfig.resolve(options)))
            .getMessage(),
        "Table public.campaign_slices (the delivery ledger) does not exist",
        "sql/service/V1__campaign_slices.sql",
        "--initSchema=false");
  }

  @Test
  void missingVersionsTableNamesItsSchemaFile() {
    CampaignNotifierOptions options = ServiceClient.options(true, "--initSchema=false");
    execute(options, "DROP TABLE public.campaign_versions");
    assertMentions(
        assertThrows(StartupException.class, () -> Preflight.check(ServiceConfig.resolve(options)))
            .getMessage(),
        "Table public.campaign_versions",
        "sql/service/V3__campaign_versions.sql",
        "--initSchema=false");
  }

  /** A database of an earlier version, its tables applied by hand up to V4. */
  @Test
  void versionsTableOfAnEarlierVersionNamesItsMigration() {
    CampaignNotifierOptions options = ServiceClient.options(true, "--initSchema=false");
    execute(options, "ALTER TABLE public.campaign_versions DROP COLUMN recorded_xid");
    assertMentions(
        assertThrows(StartupException.class, () -> Preflight.check(ServiceConfig.resolve(options)))
            .getMessage(),
        "recorded_xid",
        "sql/service/V5__campaign_versions_by_transaction.sql",
        "--initSchema=false");
  }

  @Test
  void lookupModeWithoutItsIndexNamesTheStatementToRun() {
    CampaignNotifierOptions options = ServiceClient.options(true, "--subscribers=lookup");
    execute(options, "DROP INDEX public.subscribers_restaurants_restaurant_client_idx");
    assertMentions(
        assertThrows(StartupException.class, () -> Preflight.check(ServiceConfig.resolve(options)))
            .getMessage(),
        "--subscribers=lookup needs an index on public.subscribers_restaurants",
        "sql/003_subscriber_lookup_index.sql",
        "CREATE INDEX CONCURRENTLY IF NOT EXISTS");
  }

  @Test
  void snapshotModeFacingATableTooBigForTheHeapWarnsAndRecommendsLookup() {
    CampaignNotifierOptions options = ServiceClient.options(true);
    // The planner's estimate is what the check reads: a billion rows, without writing them.
    execute(
        options,
        "UPDATE pg_class SET reltuples = 1e9 WHERE oid = 'public.subscribers_restaurants'::regclass");
    List<String> warnings = preflightWarnings(options);
    assertEquals(1, warnings.size(), warnings.toString());
    assertMentions(
        warnings.get(0),
        "has about 1000000000 rows",
        "Consider --subscribers=lookup",
        "sql/003_subscriber_lookup_index.sql");
  }

  private static void execute(CampaignNotifierOptions options, String sql) {
    LocalServers.postgres()
        .executeAs(
            EmbeddedPostgresServer.USER,
            options.getJdbcUrl().substring(options.getJdbcUrl().lastIndexOf('/') + 1),
            sql);
  }

  private static List<String> preflightWarnings(CampaignNotifierOptions options) {
    return logOf(Preflight.class, options);
  }

  /**
   * A database with the brief's two tables only gets the service's own on the first start, logged
   * once; the second start applies nothing. With {@code --initSchema=false} the ledger's absence is
   * the start-up error above.
   */
  @Test
  void theServiceCreatesItsOwnTablesInADatabaseWithTheBriefsTablesOnly() {
    CampaignNotifierOptions options = ServiceClient.options(true);
    options.setJdbcUrl(LocalServers.postgres().createBriefDatabase(LocalServers.unique("brief")));

    List<String> first = logOf(ServiceSchema.class, options);
    assertEquals(1, first.size(), first.toString());
    assertMentions(
        first.get(0),
        "Applied 1 campaign slices, 2 watch mark, 3 campaign versions, 4 campaign active, 5"
            + " campaign versions by transaction",
        "schema version 5",
        "campaign_notifier_schema_history");
    try (ServiceClient client = new ServiceClient(options)) {
      assertEquals(
          4,
          client.count(
              "SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tablename IN"
                  + " ('campaign_slices', 'campaign_notifier_watch', 'campaign_versions',"
                  + " 'campaign_active')"));
    }
    List<String> second = logOf(ServiceSchema.class, options);
    assertEquals(1, second.size(), second.toString());
    assertMentions(second.get(0), "up to date", "schema version 5");
  }

  /** What {@code source} logs during the start-up checks. */
  private static List<String> logOf(Class<?> source, CampaignNotifierOptions options) {
    Logger logger = (Logger) LoggerFactory.getLogger(source);
    ListAppender<ILoggingEvent> log = new ListAppender<>();
    log.start();
    logger.addAppender(log);
    try {
      Preflight.check(ServiceConfig.resolve(options));
    } finally {
      logger.detachAppender(log);
    }
    return log.list.stream().map(ILoggingEvent::getFormattedMessage).collect(Collectors.toList());
  }

  @Test
  void missingWatcherMarkTableIsAWarningNotAFailure() {
    CampaignNotifierOptions options = ServiceClient.options(true, "--initSchema=false");
    execute(options, "DROP TABLE public.campaign_notifier_watch");
    List<String> warnings = preflightWarnings(options);
    assertEquals(1, warnings.size(), warnings.toString());
    assertMentions(
        warnings.get(0),
        "campaign_notifier_watch does not exist",
        "sql/service/V2__watch_mark.sql");
  }

  @Test
  void missingUniqueIndexIsAWarningNotAFailure() {
    CampaignNotifierOptions options = ServiceClient.options(true);
    execute(options, "DROP INDEX public.subscribers_feedback_campaign_client_uq");
    List<String> warnings = preflightWarnings(options);
    assertEquals(1, warnings.size(), warnings.toString());
    assertMentions(warnings.get(0), "has no unique index on (adv_campaign_id, client_id)");
  }

  @Test
  void invalidOptionValuesNameTheOption() {
    assertMentions(failure("--subscribersRefresh=soon"), "--subscribersRefresh=soon");
    assertMentions(failure("--jdbcBatchSize=0"), "--jdbcBatchSize=0 must be a positive number");
    assertMentions(
        failure("--deliverySliceSize=0"), "--deliverySliceSize=0 must be a positive number");
    assertMentions(
        failure("--jdbcUrl=jdbc:mysql://db/de"),
        "--jdbcUrl=jdbc:mysql://db/de is not a PostgreSQL");
  }

  /** The real entry point, in its own JVM: one line on stderr and exit code 2. */
  @Test
  void mainPrintsOneLineAndExitsWithTwo() throws Exception {
    CampaignNotifierOptions options = ServiceClient.options(true);
    assertOneLineExit2(
        "campaign-notifier: --subscribersRefresh=soon is not a positive duration",
        "--bootstrapServers=" + options.getBootstrapServers(),
        "--jdbcUrl=" + options.getJdbcUrl(),
        "--subscribersRefresh=soon");
    assertOneLineExit2(
        "campaign-notifier: --maxMessageBytes=lots is not valid: ",
        "--bootstrapServers=" + options.getBootstrapServers(),
        "--jdbcUrl=" + options.getJdbcUrl(),
        "--maxMessageBytes=lots");
    assertOneLineExit2(
        "campaign-notifier: Kafka topic 'campaigns' does not exist",
        "--bootstrapServers=" + options.getBootstrapServers(),
        "--jdbcUrl=" + options.getJdbcUrl());
    try (ServerSocket taken = new ServerSocket(0)) {
      assertOneLineExit2(
          "campaign-notifier: --metricsPort=" + taken.getLocalPort() + " is in use",
          "--bootstrapServers=" + options.getBootstrapServers(),
          "--jdbcUrl=" + options.getJdbcUrl(),
          "--metricsPort=" + taken.getLocalPort());
    }
  }

  private static void assertOneLineExit2(String expectedStart, String... args) throws Exception {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.add("-cp");
    command.add(System.getProperty("java.class.path"));
    command.add("-Dlogback.configurationFile=logback.xml");
    command.add("dev.campaignnotifier.CampaignNotifier");
    command.addAll(List.of(args));
    if (Arrays.stream(args).noneMatch(a -> a.startsWith("--metricsPort="))) {
      // Not the default port: whatever else runs on this machine may hold it.
      command.add("--metricsPort=0");
    }
    Process process = new ProcessBuilder(command).start();
    String stderr = new String(process.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(process.waitFor(60, TimeUnit.SECONDS), "the service did not exit");
    assertEquals(2, process.exitValue(), stderr);
    List<String> lines =
        stderr.lines().filter(l -> !l.matches("^\\d\\d:\\d\\d:\\d\\d\\.\\d{3} .*")).toList();
    assertEquals(1, lines.size(), () -> "expected one line, got:\n" + stderr);
    assertTrue(lines.get(0).startsWith(expectedStart), lines.get(0));
  }
}
