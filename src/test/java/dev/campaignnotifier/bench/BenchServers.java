package dev.campaignnotifier.bench;

import dev.campaignnotifier.delivery.DeliverNotifications;
import dev.campaignnotifier.io.KafkaClients;
import dev.campaignnotifier.io.PostgresDataSource;
import dev.campaignnotifier.local.EmbeddedKafka;
import dev.campaignnotifier.local.EmbeddedPostgresServer;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import javax.sql.DataSource;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.StringSerializer;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * The servers a benchmark measures against: by default a Kafka broker in a JVM of its own ({@link
 * BrokerProcess}) and a PostgreSQL with stock durability ({@link
 * EmbeddedPostgresServer#startDurable}); or any running broker and database given with the
 * service's own options ({@code --bootstrapServers}, {@code --jdbcUrl}, {@code --jdbcUser}, the
 * password in {@code $JDBC_PASSWORD} or {@code --jdbcPasswordFile}, {@code --kafkaPropertiesFile}).
 * A given database must have {@code sql/}'s tables, empty: the benchmark truncates them between
 * measurements and never touches rows it did not write.
 */
final class BenchServers implements AutoCloseable {
  private final Process broker;
  private final EmbeddedPostgresServer postgres;

  /** The started PostgreSQL's log directory (kept after the run); null on given servers. */
  private final Path postgresLog;

  private final Path workDir;

  /**
   * Whether closing this stops the servers: false for a run on servers started for several ({@link
   * #onServersOf}).
   */
  private final boolean ownsServers;

  private final AtomicInteger databases = new AtomicInteger();
  final String bootstrapServers;
  final String jdbcUrl;
  final String jdbcUser;
  final KafkaClients kafkaClients;
  final DataSource db;

  /** Service options that point the service at these servers. */
  final List<String> serviceArgs = new ArrayList<>();

  /** The service's feedback table. */
  static final String FEEDBACK = "public.subscribers_feedback";

  /** The peer job's feedback table ({@link #createPeerTable}). */
  static final String PEER_FEEDBACK = "peer.subscribers_feedback";

  private BenchServers(
      Process broker,
      EmbeddedPostgresServer postgres,
      Path postgresLog,
      Path workDir,
      String bootstrapServers,
      PostgresDataSource postgresSource,
      String kafkaPropertiesFile,
      boolean ownsServers) {
    this.broker = broker;
    this.ownsServers = ownsServers;
    this.postgres = postgres;
    this.postgresLog = postgresLog;
    this.workDir = workDir;
    this.bootstrapServers = bootstrapServers;
    this.jdbcUrl = postgresSource.url();
    this.jdbcUser = postgresSource.user();
    this.kafkaClients = new KafkaClients(kafkaPropertiesFile);
    // Plain connections in autocommit: the service's pool is for the service.
    PGSimpleDataSource plain = new PGSimpleDataSource();
    plain.setUrl(jdbcUrl);
    plain.setUser(jdbcUser);
    plain.setPassword(postgresSource.password());
    this.db = plain;
    serviceArgs.add("--bootstrapServers=" + bootstrapServers);
    serviceArgs.add("--jdbcUrl=" + jdbcUrl);
    serviceArgs.add("--jdbcUser=" + jdbcUser);
    if (postgresSource.passwordFile() != null) {
      serviceArgs.add("--jdbcPasswordFile=" + postgresSource.passwordFile());
    }
    if (kafkaPropertiesFile != null) {
      serviceArgs.add("--kafkaPropertiesFile=" + kafkaPropertiesFile);
    }
  }

  /** Starts or attaches to the servers; {@code given} holds the connection options, if any. */
  static BenchServers start(Map<String, String> given) throws IOException, InterruptedException {
    Path workDir = Files.createTempDirectory(Path.of(System.getProperty("user.dir")), ".bench-");
    Process broker = null;
    EmbeddedPostgresServer postgres = null;
    Path postgresLog = null;
    String bootstrap = given.get("bootstrapServers");
    if (bootstrap == null) {
      broker = startBroker(workDir.resolve("kafka"));
      bootstrap = awaitBroker(broker);
    }
    PostgresDataSource source;
    if (given.get("jdbcUrl") == null) {
      postgresLog = Files.createTempDirectory("bench-postgres-log-");
      postgres = EmbeddedPostgresServer.startDurable(workDir.resolve("postgres"), postgresLog);
      System.out.println("benchmark: PostgreSQL's log: " + postgresLog.resolve("postgresql.log"));
      source =
          new PostgresDataSource(
              postgres.createDatabase("bench", false),
              EmbeddedPostgresServer.USER,
              "JDBC_PASSWORD",
              null);
    } else {
      source =
          new PostgresDataSource(
              given.get("jdbcUrl"),
              given.getOrDefault("jdbcUser", "jovyan"),
              given.getOrDefault("jdbcPasswordEnv", "JDBC_PASSWORD"),
              given.get("jdbcPasswordFile"));
    }
    BenchServers servers =
        new BenchServers(
            broker,
            postgres,
            postgresLog,
            workDir,
            bootstrap,
            source,
            given.get("kafkaPropertiesFile"),
            true);
    servers.requireEmptyTables();
    return servers;
  }

  /**
   * A run on servers {@code started} for several (the benchmark's own test, {@link
   * Benchmark.Servers}): the same broker and PostgreSQL, a database of its own with {@code sql/}'s
   * tables, so nothing of an earlier run is counted; closing it leaves the servers running.
   */
  static BenchServers onServersOf(BenchServers started) {
    if (started.postgres == null) {
      throw new IllegalStateException("only servers the benchmark started are shared");
    }
    String url =
        started.postgres.createDatabase("bench_" + started.databases.incrementAndGet(), false);
    return new BenchServers(
        started.broker,
        started.postgres,
        started.postgresLog,
        started.workDir,
        started.bootstrapServers,
        new PostgresDataSource(url, EmbeddedPostgresServer.USER, "JDBC_PASSWORD", null),
        null,
        false);
  }

  /** The broker in a JVM of its own, with Kafka's own default heap (kafka-server-start.sh). */
  private static Process startBroker(Path dir) throws IOException {
    List<String> command =
        List.of(
            Path.of(System.getProperty("java.home"), "bin", "java").toString(),
            "-Xmx1g",
            "-Xms1g",
            "-cp",
            System.getProperty("java.class.path"),
            BrokerProcess.class.getName(),
            dir.toString());
    return new ProcessBuilder(command)
        .redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.PIPE)
        .start();
  }

  private static String awaitBroker(Process broker) throws IOException {
    BufferedReader out =
        new BufferedReader(new InputStreamReader(broker.getInputStream(), StandardCharsets.UTF_8));
    List<String> seen = new ArrayList<>();
    for (String line = out.readLine(); line != null; line = out.readLine()) {
      if (line.startsWith(BrokerProcess.READY)) {
        // From here on its output is not read; keep the pipe from filling up.
        Thread drain =
            new Thread(
                () -> {
                  try {
                    while (out.readLine() != null) {
                      // discarded: the broker's log
                    }
                  } catch (IOException e) {
                    // the broker is gone; close() reports nothing more
                  }
                },
                "broker-log");
        drain.setDaemon(true);
        drain.start();
        return line.substring(BrokerProcess.READY.length()).trim();
      }
      seen.add(line);
    }
    throw new IllegalStateException("the broker exited before it was ready:\n" + seen);
  }

  private void requireEmptyTables() {
    for (String table : List.of("subscribers_restaurants", "subscribers_feedback")) {
      long rows = query("SELECT count(*) FROM (SELECT 1 FROM public." + table + " LIMIT 1) t");
      if (rows > 0) {
        throw new IllegalStateException(
            "public."
                + table
                + " in "
                + jdbcUrl
                + " is not empty: point the benchmark at a database of its own");
      }
    }
  }

  /** What the database says of its durability, printed with every result. */
  Map<String, Object> durability() {
    Map<String, Object> settings = new HashMap<>();
    for (String name : List.of("fsync", "synchronous_commit", "full_page_writes")) {
      try (Connection c = db.getConnection();
          Statement s = c.createStatement();
          ResultSet r = s.executeQuery("SHOW " + name)) {
        r.next();
        settings.put("postgres_" + name, r.getString(1));
      } catch (SQLException e) {
        throw new IllegalStateException("SHOW " + name + " failed", e);
      }
    }
    settings.put("broker", broker == null ? "given" : "own JVM");
    return settings;
  }

  void createTopics(String... names) {
    Map<String, Object> config =
        kafkaClients.configure(
            Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers));
    try (Admin admin = Admin.create(config)) {
      EmbeddedKafka.createTopics(admin, 1, names);
    }
  }

  /** A producer with the service's own settings: the same acks, idempotence and batching. */
  KafkaProducer<String, String> producer() {
    Map<String, Object> config = new HashMap<>(DeliverNotifications.producerConfig());
    config.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
    return new KafkaProducer<>(
        kafkaClients.configure(config), new StringSerializer(), new StringSerializer());
  }

  /** {@code count} subscribers of one restaurant: clients {@code client-1..count}. */
  void subscribers(String restaurant, int count) {
    update(
        "INSERT INTO public.subscribers_restaurants (client_id, restaurant_id)"
            + " SELECT 'client-' || g, ? FROM generate_series(1, ?) g",
        restaurant,
        count);
  }

  /**
   * Empties the feedback table and, where the role may, writes a checkpoint: every measurement
   * starts from the same table and a clean WAL, so a checkpoint falls into none of them.
   */
  void truncateFeedback() {
    update("TRUNCATE public.subscribers_feedback, public.campaign_slices");
    if (query("SELECT count(*) FROM pg_tables WHERE schemaname = 'peer'") > 0) {
      update("TRUNCATE " + PEER_FEEDBACK);
    }
    try {
      update("CHECKPOINT");
    } catch (IllegalStateException e) {
      if (!checkpointRefused) {
        System.out.println(
            "benchmark: CHECKPOINT refused (" + e.getCause() + "); measuring without");
        checkpointRefused = true;
      }
    }
  }

  private boolean checkpointRefused;

  void update(String sql, Object... params) {
    try (Connection c = db.getConnection();
        PreparedStatement s = c.prepareStatement(sql)) {
      for (int i = 0; i < params.length; i++) {
        s.setObject(i + 1, params[i]);
      }
      s.execute();
    } catch (SQLException e) {
      throw new IllegalStateException(sql + " failed", e);
    }
  }

  long query(String sql, Object... params) {
    try (Connection c = db.getConnection();
        PreparedStatement s = c.prepareStatement(sql)) {
      for (int i = 0; i < params.length; i++) {
        s.setObject(i + 1, params[i]);
      }
      try (ResultSet r = s.executeQuery()) {
        r.next();
        return r.getLong(1);
      }
    } catch (SQLException e) {
      throw new IllegalStateException(sql + " failed", e);
    }
  }

  /**
   * Feedback ids drawn so far, from the id sequence: O(1), where a count(*) of a million rows every
   * few milliseconds would take a core from the pipeline it measures. An upper bound of the rows;
   * {@link #rows} confirms.
   */
  long idsDrawn() {
    return query(
        "SELECT CASE WHEN is_called THEN last_value ELSE 0 END"
            + " FROM public.subscribers_feedback_id_seq");
  }

  /**
   * Waits until no other connection to this database is open, so that the table statistics hold
   * every read of the connections before: a backend publishes its statistics when it exits, and
   * otherwise only once it has been idle for PostgreSQL's 10 s. So: stop the service first. Where
   * other clients stay connected (a given database), it waits those 10 s instead.
   */
  void awaitStatisticsOfClosedConnections() throws InterruptedException {
    long deadline = System.nanoTime() + 15_000_000_000L;
    while (query(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                + " AND backend_type = 'client backend' AND pid <> pg_backend_pid()")
        > 0) {
      if (System.nanoTime() > deadline) {
        System.out.println(
            "benchmark: other connections to the database stay open; waiting 12 s for their"
                + " statistics");
        Thread.sleep(12_000);
        return;
      }
      Thread.sleep(50);
    }
  }

  long rows(String campaign) {
    return rows(FEEDBACK, campaign);
  }

  /** Rows of {@code campaign} in {@code table}, the service's feedback table or the peer's. */
  long rows(String table, String campaign) {
    return query("SELECT count(*) FROM " + table + " WHERE adv_campaign_id = ?", campaign);
  }

  /**
   * The peer job's feedback table ({@link #PEER_FEEDBACK}): the brief's table with its primary key
   * but without the unique index the service's guarantee needs (a plain job does not need it), its
   * ids drawn from the same sequence, so that {@link #idsDrawn} counts its rows too.
   */
  void createPeerTable() {
    update("CREATE SCHEMA IF NOT EXISTS peer");
    if (query("SELECT count(*) FROM pg_tables WHERE schemaname = 'peer'") == 0) {
      update(
          "CREATE TABLE "
              + PEER_FEEDBACK
              + " (LIKE public.subscribers_feedback INCLUDING DEFAULTS, PRIMARY KEY (id))");
    }
  }

  /**
   * The checkpoints the started PostgreSQL logged so far, as {start, end} in epoch ms (end {@link
   * Long#MAX_VALUE} while one is running); empty on given servers, whose log is not ours to read.
   */
  List<long[]> checkpoints() throws IOException {
    Path file = postgresLog == null ? null : postgresLog.resolve("postgresql.log");
    return file == null || !Files.exists(file)
        ? List.of()
        : checkpoints(Files.readAllLines(file, StandardCharsets.UTF_8));
  }

  /** The checkpoints in a log written with {@code log_line_prefix = '%n|'}. */
  static List<long[]> checkpoints(List<String> log) {
    List<long[]> result = new ArrayList<>();
    for (String line : log) {
      int bar = line.indexOf('|');
      if (bar < 0) {
        continue;
      }
      if (line.contains("LOG:  checkpoint starting:")) {
        result.add(new long[] {epochMillis(line.substring(0, bar)), Long.MAX_VALUE});
      } else if (line.contains("LOG:  checkpoint complete:") && !result.isEmpty()) {
        result.get(result.size() - 1)[1] = epochMillis(line.substring(0, bar));
      }
    }
    return result;
  }

  private static long epochMillis(String seconds) {
    return new BigDecimal(seconds).movePointRight(3).longValue();
  }

  @Override
  public void close() throws IOException, InterruptedException {
    if (!ownsServers) {
      return;
    }
    if (broker != null) {
      broker.destroy();
      if (!broker.waitFor(30, TimeUnit.SECONDS)) {
        broker.destroyForcibly();
      }
    }
    if (postgres != null) {
      postgres.close();
    }
    try (var files = Files.walk(workDir)) {
      files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
  }
}
