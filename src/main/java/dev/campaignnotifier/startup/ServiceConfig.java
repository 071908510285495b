package dev.campaignnotifier.startup;

import dev.campaignnotifier.io.KafkaClients;
import dev.campaignnotifier.io.PostgresDataSource;
import dev.campaignnotifier.options.CampaignNotifierOptions;
import dev.campaignnotifier.options.Durations;
import dev.campaignnotifier.runner.RunnerProfile;
import dev.campaignnotifier.subscribers.SubscriberMode;
import org.joda.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The options resolved once, at start: the Kafka clients' settings, the PostgreSQL data source, the
 * durations, the slice and turn sizes, each read and checked here and nowhere else, and what the
 * runner leaves of them ({@link RunnerProfile}: on Spark a fan-out's turns are taken on a timer, in
 * lookup mode only). What starts or watches the pipeline (the start-up checks, the group lock, the
 * replay plan, health, the pipeline itself) takes this one value; plain values (topic names,
 * limits) are read from {@link #options()}.
 */
public record ServiceConfig(
    CampaignNotifierOptions options,
    KafkaClients kafka,
    PostgresDataSource postgres,
    Duration subscribersRefresh,
    Duration replayWindow,
    Duration deliveryStuckAfter,
    int deliverySliceSize,
    int fanOutSlicesPerTurn,
    boolean notifyLateSubscribers,
    RunnerProfile runner) {
  private static final Logger LOG = LoggerFactory.getLogger(ServiceConfig.class);

  /**
   * Resolves the options before any server is reached.
   *
   * @throws StartupException naming the option, when one is not valid
   */
  public static ServiceConfig resolve(CampaignNotifierOptions options) {
    Duration refresh;
    Duration replayWindow;
    Duration stuckAfter;
    try {
      refresh = Durations.parse("subscribersRefresh", options.getSubscribersRefresh());
      replayWindow = Durations.parse("replayWindow", options.getReplayWindow());
      stuckAfter = Durations.parse("deliveryStuckAfter", options.getDeliveryStuckAfter());
    } catch (IllegalArgumentException e) {
      throw new StartupException(e.getMessage());
    }
    positive("maxMessageBytes", options.getMaxMessageBytes());
    positive("maxFieldChars", options.getMaxFieldChars());
    int sliceSize = deliverySliceSize(options);
    positive("deliveryBesideClients", options.getDeliveryBesideClients());
    int perTurn = options.getFanOutSlicesPerTurn();
    if (perTurn < 0) {
      throw new StartupException(
          "--fanOutSlicesPerTurn=" + perTurn + " must be 0 (all at once) or a positive number");
    }
    RunnerProfile runner = RunnerProfile.of(options).forMaster(options);
    if (perTurn > 0 && runner.turnsOnTimer() && options.getSubscribers() != SubscriberMode.lookup) {
      // The turns are taken on a timer there, and a timer cannot read the snapshot side input.
      LOG.warn(
          "--fanOutSlicesPerTurn needs --subscribers=lookup on the {}; fanning out in one go",
          options.getRunner().getSimpleName());
      perTurn = 0;
    }
    if (options.getMetricsPort() < 0 || options.getMetricsPort() > 65535) {
      throw new StartupException(
          "--metricsPort=" + options.getMetricsPort() + " must be a port (1-65535), or 0 for none");
    }
    if (options.getJdbcUrl() != null && !options.getJdbcUrl().startsWith("jdbc:postgresql:")) {
      throw new StartupException(
          "--jdbcUrl="
              + options.getJdbcUrl()
              + " is not a PostgreSQL JDBC URL (jdbc:postgresql://host:port/db)");
    }
    return new ServiceConfig(
        options,
        new KafkaClients(options.getKafkaPropertiesFile()),
        PostgresDataSource.from(options),
        refresh,
        replayWindow,
        stuckAfter,
        sliceSize,
        perTurn,
        options.getNotifyLateSubscribers(),
        runner);
  }

  /** {@code --deliverySliceSize}, or its deprecated old name {@code --jdbcBatchSize} if given. */
  @SuppressWarnings("deprecation")
  private static int deliverySliceSize(CampaignNotifierOptions options) {
    Integer old = options.getJdbcBatchSize();
    if (old == null) {
      positive("deliverySliceSize", options.getDeliverySliceSize());
      return options.getDeliverySliceSize();
    }
    positive("jdbcBatchSize", old);
    LOG.warn("--jdbcBatchSize is deprecated and goes in the next release: use --deliverySliceSize");
    return old;
  }

  private static void positive(String option, int value) {
    if (value <= 0) {
      throw new StartupException("--" + option + "=" + value + " must be a positive number");
    }
  }
}
