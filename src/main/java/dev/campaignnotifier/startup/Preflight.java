package dev.campaignnotifier.startup;

import dev.campaignnotifier.options.CampaignNotifierOptions;
import dev.campaignnotifier.subscribers.SubscriberMode;
import dev.campaignnotifier.subscribers.SubscriberTable;
import java.io.UncheckedIOException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Checks, before the pipeline is built, everything that would otherwise fail later and obscurely:
 * option values, that Kafka answers and has the topics, that PostgreSQL accepts the login and has
 * the tables. A missing unique index only warns: the service still works, but replays can then
 * duplicate rows.
 */
public final class Preflight {
  private static final Logger LOG = LoggerFactory.getLogger(Preflight.class);
  private static final int TIMEOUT_SECONDS = 15;

  private Preflight() {}

  /** Reaches every server once: the topics exist, the tables exist, the password works. */
  public static void check(ServiceConfig config) {
    checkKafka(config);
    checkPostgres(config);
  }

  static void checkKafka(ServiceConfig config) {
    CampaignNotifierOptions options = config.options();
    String servers = options.getBootstrapServers();
    Set<String> topics;
    try (Admin admin = config.kafka().admin(servers, TIMEOUT_SECONDS * 1000)) {
      topics = admin.listTopics().names().get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
    } catch (ExecutionException | TimeoutException | RuntimeException e) {
      throw new StartupException(
          "Cannot reach Kafka at "
              + servers
              + " within "
              + TIMEOUT_SECONDS
              + " s (check --bootstrapServers and --kafkaPropertiesFile): "
              + rootMessage(e));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new StartupException("Interrupted while connecting to Kafka");
    }
    List<Map.Entry<String, String>> needed =
        new ArrayList<>(
            List.of(
                Map.entry("inputTopic", options.getInputTopic()),
                Map.entry("outputTopic", options.getOutputTopic()),
                Map.entry("deadLetterTopic", options.getDeadLetterTopic())));
    if (!options.getCampaignUpdatesTopic().isEmpty()) {
      needed.add(Map.entry("campaignUpdatesTopic", options.getCampaignUpdatesTopic()));
    }
    for (Map.Entry<String, String> topic : needed) {
      if (!topics.contains(topic.getValue())) {
        throw new StartupException(
            "Kafka topic '"
                + topic.getValue()
                + "' does not exist on "
                + servers
                + ": create it or set --"
                + topic.getKey());
      }
    }
  }

  static void checkPostgres(ServiceConfig config) {
    CampaignNotifierOptions options = config.options();
    try (Connection c = config.postgres().connect(TIMEOUT_SECONDS, "campaign-notifier start-up")) {
      for (String table : List.of("subscribers_restaurants", "subscribers_feedback")) {
        if (!exists(c, "SELECT to_regclass(?) IS NOT NULL", "public." + table)) {
          throw new StartupException(
              "Table public."
                  + table
                  + " does not exist in "
                  + options.getJdbcUrl()
                  + ": apply sql/001_tables.sql or point --jdbcUrl at the right database");
        }
      }
      if (options.getInitSchema()) {
        ServiceSchema.migrate(config.postgres());
      }
      if (!exists(c, "SELECT to_regclass(?) IS NOT NULL", "public.campaign_slices")) {
        throw new StartupException(
            "Table public.campaign_slices (the delivery ledger) does not exist in "
                + options.getJdbcUrl()
                + ": apply sql/service/V1__campaign_slices.sql, or start without"
                + " --initSchema=false to let the service create it");
      }
      if (!exists(c, "SELECT to_regclass(?) IS NOT NULL", "public.campaign_versions")) {
        throw new StartupException(
            "Table public.campaign_versions (campaigns published again: updates, cancellations)"
                + " does not exist in "
                + options.getJdbcUrl()
                + ": apply sql/service/V3__campaign_versions.sql, or start without"
                + " --initSchema=false to let the service create it");
      }
      if (!exists(
          c,
          "SELECT EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass(?)"
              + " AND attname = 'recorded_xid' AND NOT attisdropped"
              + " AND atttypid = 'xid8'::regtype AND attnotnull)",
          "public.campaign_versions")) {
        throw new StartupException(
            "Table public.campaign_versions in "
                + options.getJdbcUrl()
                + " is read by transaction since this version and has no column recorded_xid of"
                + " type xid8 NOT NULL: apply sql/service/V5__campaign_versions_by_transaction.sql"
                + " (a column of that name but another type or nullable: ALTER it to xid8 NOT"
                + " NULL DEFAULT pg_current_xact_id()), or start without --initSchema=false to let"
                + " the service migrate it");
      }
      if (config.notifyLateSubscribers()
          && config.runner().lateInDriver()
          && !exists(c, "SELECT to_regclass(?) IS NOT NULL", "public.campaign_active")) {
        throw new StartupException(
            "Table public.campaign_active (the campaigns active now, where "
                + config.runner().runnerName()
                + " finds what a late subscriber is late for) does not exist in "
                + options.getJdbcUrl()
                + ": apply sql/service/V4__campaign_active.sql, or start without"
                + " --initSchema=false to let the service create it");
      }
      checkSubscriberMode(options, c);
      if (!exists(c, UNIQUE_INDEX_QUERY, "public.subscribers_feedback")) {
        LOG.warn(
            "public.subscribers_feedback has no unique index on (adv_campaign_id, client_id):"
                + " a replay after a failure can duplicate feedback rows. Create it with"
                + " sql/001_tables.sql.");
      }
      if (options.getNotifyLateSubscribers()
          && !exists(c, "SELECT to_regclass(?) IS NOT NULL", "public.campaign_notifier_watch")) {
        LOG.warn(
            "public.campaign_notifier_watch does not exist: a favourite added while the service is"
                + " stopped will reach an active campaign only through its replay. Create it with"
                + " sql/service/V2__watch_mark.sql, or start without --initSchema=false.");
      }
    } catch (SQLException e) {
      throw new StartupException(
          "Cannot connect to PostgreSQL at "
              + options.getJdbcUrl()
              + " as "
              + options.getJdbcUser()
              + " (check --jdbcUrl, --jdbcUser and the password in $"
              + options.getJdbcPasswordEnv()
              + " or --jdbcPasswordFile): "
              + e.getMessage());
    } catch (UncheckedIOException e) {
      throw new StartupException(e.getMessage()); // the password file cannot be read
    }
  }

  /**
   * Lookup mode without its index would scan the whole table for every campaign: refused, naming
   * the statement. Snapshot mode facing a table too big for the heap: one warning.
   */
  static void checkSubscriberMode(CampaignNotifierOptions options, Connection c)
      throws SQLException {
    if (options.getSubscribers() == SubscriberMode.lookup) {
      if (!SubscriberTable.hasLookupIndex(c)) {
        throw new StartupException(
            "--subscribers=lookup needs an index on public.subscribers_restaurants (restaurant_id,"
                + " client_id) in "
                + options.getJdbcUrl()
                + ": run sql/003_subscriber_lookup_index.sql ("
                + SubscriberTable.LOOKUP_INDEX
                + ")");
      }
      return;
    }
    long rows = SubscriberTable.estimatedRows(c);
    long heap = Runtime.getRuntime().maxMemory();
    // Two snapshots are alive during a refresh: the one serving and the one being read.
    long needed = 2 * rows * SubscriberTable.SNAPSHOT_BYTES_PER_ROW;
    if (needed > heap / 2) {
      LOG.warn(
          "public.subscribers_restaurants has about {} rows: --subscribers=snapshot holds about {}"
              + " MiB of them on every worker (two snapshots during a refresh), more than half of"
              + " this JVM's {} MiB heap. Consider --subscribers=lookup (one query per campaign;"
              + " run sql/003_subscriber_lookup_index.sql first) or a bigger heap.",
          rows,
          needed >> 20,
          heap >> 20);
    }
  }

  /** A unique index whose key columns are exactly adv_campaign_id and client_id, in any order. */
  private static final String UNIQUE_INDEX_QUERY =
      "SELECT EXISTS (SELECT 1 FROM pg_index i"
          + " WHERE i.indrelid = to_regclass(?) AND i.indisunique AND i.indnatts = 2"
          + " AND (SELECT array_agg(a.attname::text ORDER BY a.attname) FROM pg_attribute a"
          + "      WHERE a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey))"
          + "     = ARRAY['adv_campaign_id', 'client_id'])";

  private static boolean exists(Connection c, String sql, String arg) throws SQLException {
    try (PreparedStatement s = c.prepareStatement(sql)) {
      s.setString(1, arg);
      try (ResultSet r = s.executeQuery()) {
        return r.next() && r.getBoolean(1);
      }
    }
  }

  private static String rootMessage(Throwable e) {
    Throwable t = e;
    while (t.getCause() != null && t.getCause() != t) {
      t = t.getCause();
    }
    return t.getClass().getSimpleName() + (t.getMessage() == null ? "" : ": " + t.getMessage());
  }
}
