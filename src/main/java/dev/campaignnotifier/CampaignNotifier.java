package dev.campaignnotifier;

import dev.campaignnotifier.campaigns.CampaignVersions;
import dev.campaignnotifier.campaigns.ParseCampaigns;
import dev.campaignnotifier.campaigns.PublishCampaignUpdates;
import dev.campaignnotifier.campaigns.ReadCampaigns;
import dev.campaignnotifier.campaigns.ScheduleCampaigns;
import dev.campaignnotifier.campaigns.WriteDeadLetters;
import dev.campaignnotifier.delivery.DeliverNotifications;
import dev.campaignnotifier.delivery.Delivered;
import dev.campaignnotifier.fanout.FanOutToSubscribers;
import dev.campaignnotifier.fanout.SpreadSlices;
import dev.campaignnotifier.io.KafkaClients;
import dev.campaignnotifier.io.PostgresDataSource;
import dev.campaignnotifier.late.ActiveBeforeStart;
import dev.campaignnotifier.late.ActiveCampaigns;
import dev.campaignnotifier.late.LateInDriver;
import dev.campaignnotifier.late.NotifyLateSubscribers;
import dev.campaignnotifier.late.WatchSubscriptions;
import dev.campaignnotifier.local.LocalStack;
import dev.campaignnotifier.model.Campaign;
import dev.campaignnotifier.model.Clock;
import dev.campaignnotifier.model.Slice;
import dev.campaignnotifier.ops.Health;
import dev.campaignnotifier.ops.OpsServer;
import dev.campaignnotifier.options.CampaignNotifierOptions;
import dev.campaignnotifier.options.Help;
import dev.campaignnotifier.runner.EndsReadAhead;
import dev.campaignnotifier.runner.RunnerProfile;
import dev.campaignnotifier.startup.GroupLock;
import dev.campaignnotifier.startup.Preflight;
import dev.campaignnotifier.startup.ReplayPlan;
import dev.campaignnotifier.startup.ServiceConfig;
import dev.campaignnotifier.startup.StartupException;
import dev.campaignnotifier.subscribers.SubscriberMode;
import dev.campaignnotifier.subscribers.SubscriberSource;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.PipelineResult;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.apache.beam.sdk.transforms.Flatten;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionList;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Starts the service: parses the options, starts embedded servers for whatever is not given, checks
 * every connection once, then runs the pipeline until it is stopped. The runner is chosen with
 * {@code --runner}; what differs per runner is its {@link RunnerProfile}.
 */
public final class CampaignNotifier {
  private static final Logger LOG = LoggerFactory.getLogger(CampaignNotifier.class);

  /** How often new rows of subscribers_restaurants are looked for (late subscribers): one query. */
  private static final org.joda.time.Duration WATCH_SUBSCRIPTIONS_EVERY =
      org.joda.time.Duration.standardSeconds(1);

  /**
   * How long a new subscription is kept for a campaign not yet active: longer than the subscriber
   * data a fan-out reads can be old (a snapshot, up to one refresh period plus its load).
   */
  static org.joda.time.Duration lateSubscriptionsKept(
      CampaignNotifierOptions options, org.joda.time.Duration refresh) {
    org.joda.time.Duration floor = org.joda.time.Duration.standardMinutes(2);
    if (options.getSubscribers() != SubscriberMode.snapshot) {
      return floor;
    }
    org.joda.time.Duration twice =
        refresh.multipliedBy(2).plus(org.joda.time.Duration.standardSeconds(30));
    return twice.isLongerThan(floor) ? twice : floor;
  }

  /** How often a standby checks whether the group is free, and the holder its session. */
  private static final Duration GROUP_LOCK_PERIOD = Duration.ofSeconds(5);

  private CampaignNotifier() {}

  public static void main(String[] args) {
    if (Help.asked(args)) {
      System.out.print(Help.text());
      return;
    }
    PipelineOptionsFactory.register(CampaignNotifierOptions.class);
    AtomicReference<PipelineResult> running = new AtomicReference<>();
    AtomicReference<LocalStack> local = new AtomicReference<>();
    AtomicReference<GroupLock> lock = new AtomicReference<>();
    AtomicReference<OpsServer> ops = new AtomicReference<>();
    // On Ctrl-C, stop the pipeline first (where the runner has returned a handle to it), then the
    // embedded servers, so that nothing is left retrying against a broker that is gone.
    Runnable stop =
        () -> {
          if (running.get() != null) {
            cancel(running.get());
          }
          finishDeliveriesBeside();
          if (lock.get() != null) {
            lock.get().close();
          }
          if (ops.get() != null) {
            ops.get().close();
          }
          if (local.get() != null) {
            local.get().close();
          }
        };
    try {
      CampaignNotifierOptions options = withLaunchDefaults(args);
      RunnerProfile.of(options).onShutdown(stop);
      if (LocalStack.isNeeded(options)) {
        local.set(LocalStack.startFor(options));
        System.out.println(local.get().quickStartText(options, Instant.now()));
      }
      ServiceConfig config = ServiceConfig.resolve(options);
      Health health = Health.of(config);
      if (options.getMetricsPort() > 0) {
        ops.set(OpsServer.start(options.getMetricsPort(), health, running::get));
      }
      Preflight.check(config);
      health.phase(
          "waiting for consumer group "
              + options.getConsumerGroup()
              + " (a standby while another copy holds it)");
      lock.set(
          GroupLock.acquire(
              config,
              GROUP_LOCK_PERIOD,
              () -> {
                System.err.println(
                    "campaign-notifier: another copy took consumer group "
                        + options.getConsumerGroup()
                        + "; this one stops");
                System.exit(3);
              }));
      // Flink's attached run() returns only when the job ends: from here the pipeline runs.
      health.running(running::get);
      PipelineResult result = start(config);
      if (RunnerProfile.isDetached(result)) {
        // `flink run -d`: the job belongs to the cluster now; this client neither waits for it nor
        // cancels it on exit.
        LOG.info("Submitted detached: {}", result);
        return;
      }
      running.set(result);
      result.waitUntilFinish();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (StartupException | IllegalArgumentException e) {
      System.err.println("campaign-notifier: " + e.getMessage());
      System.exit(2);
    } catch (Pipeline.PipelineExecutionException e) {
      Throwable cause = e.getCause() == null ? e : e.getCause();
      LOG.error("The pipeline failed", cause);
      System.err.println("campaign-notifier: the pipeline failed: " + cause);
      System.exit(1);
    }
  }

  /**
   * How long a stop waits for a big campaign's slices delivered beside the micro-batches: within
   * the 30 s Hadoop's shutdown hook manager gives the stop on Spark ({@code
   * RunnerProfile#onShutdown}).
   */
  private static final Duration FINISH_BESIDE = Duration.ofSeconds(20);

  /**
   * Before the group is let go: the slices of big campaigns handed over beside the micro-batches
   * (Spark) are delivered, so a stop cuts no delivery short; what is not done in {@link
   * #FINISH_BESIDE} is left to the next start's replay.
   */
  private static void finishDeliveriesBeside() {
    try {
      if (!DeliverNotifications.finishDeliveriesBeside(FINISH_BESIDE)) {
        LOG.warn(
            "Stopped before every slice of a big campaign was delivered (waited {} s); the next"
                + " start delivers the rest",
            FINISH_BESIDE.toSeconds());
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static void cancel(PipelineResult result) {
    try {
      if (!result.getState().isTerminal()) {
        result.cancel();
      }
    } catch (IOException | RuntimeException e) {
      LOG.warn("Could not cancel the pipeline cleanly: {}", e.toString());
    }
  }

  /**
   * The command line parsed, with the runner's own options its profile sets unless given ({@link
   * RunnerProfile#withLaunchDefaults}): the runner is known only once the line is parsed, so a line
   * that lacks some of them is parsed again with them.
   */
  static CampaignNotifierOptions withLaunchDefaults(String[] args) {
    CampaignNotifierOptions options = parseOptions(args);
    String[] full = RunnerProfile.of(options).withLaunchDefaults(args);
    return full.length == args.length ? options : parseOptions(full);
  }

  /**
   * Parses the command line. Beam reports a bad value without saying which option held it, so on
   * failure each argument is tried alone to name the culprit.
   */
  static CampaignNotifierOptions parseOptions(String[] args) {
    try {
      return PipelineOptionsFactory.fromArgs(args)
          .withValidation()
          .as(CampaignNotifierOptions.class);
    } catch (IllegalArgumentException e) {
      for (String arg : args) {
        try {
          PipelineOptionsFactory.fromArgs(arg).as(CampaignNotifierOptions.class);
        } catch (IllegalArgumentException single) {
          throw new StartupException(arg + " is not valid: " + firstLine(single.getMessage()));
        }
      }
      throw new StartupException(firstLine(e.getMessage()));
    }
  }

  private static String firstLine(String message) {
    return message == null ? "invalid options" : message.lines().findFirst().orElse(message);
  }

  /** Resolves the options, checks the connections, then builds and starts the pipeline. */
  public static PipelineResult run(CampaignNotifierOptions options) {
    ServiceConfig config = ServiceConfig.resolve(options);
    Preflight.check(config);
    return start(config);
  }

  /** Moves the consumer group back for the replay, then builds and starts the pipeline. */
  private static PipelineResult start(ServiceConfig config) {
    CampaignNotifierOptions options = config.options();
    ReplayPlan.Resume resume = ReplayPlan.prepare(config, System.currentTimeMillis());
    options.setStreaming(true);
    Pipeline pipeline = Pipeline.create(options);
    config.runner().beforeRun(options);
    buildPipeline(pipeline, config, Clock.system(), resume);
    LOG.info(
        "Reading campaigns from {} on {}; notifications to {} and {}",
        options.getInputTopic(),
        options.getBootstrapServers(),
        options.getOutputTopic(),
        options.getJdbcUrl());
    PipelineResult result = pipeline.run();
    if (config.runner().readsEndsAhead()) {
      EndsReadAhead.start(config, () -> !result.getState().isTerminal());
    }
    if (config.notifyLateSubscribers() && config.runner().lateInDriver()) {
      PostgresDataSource postgres = config.postgres();
      LateInDriver.start(
          postgres,
          options.getConsumerGroup(),
          Delivered.inPostgres(postgres, resume.deliveredInFull()),
          deliver(config, CampaignVersions.inPostgres(postgres)),
          Clock.system(),
          lateSubscriptionsKept(options, config.subscribersRefresh()).getMillis(),
          config.deliverySliceSize(),
          resume.activeDeliveredInFull(),
          () -> !result.getState().isTerminal());
    }
    return result;
  }

  /** The delivery of slices to both sinks, as the config says. */
  private static DeliverNotifications deliver(ServiceConfig config, CampaignVersions versions) {
    CampaignNotifierOptions options = config.options();
    return new DeliverNotifications(
        options.getBootstrapServers(),
        options.getOutputTopic(),
        options.getDeadLetterTopic(),
        options.getInputTopic(),
        config.kafka(),
        config.postgres(),
        config.deliverySliceSize(),
        options.getDeliveryBesideClients(),
        versions,
        config.runner());
  }

  /**
   * The service as one chain: find who follows which restaurant (a snapshot kept fresh, or a lookup
   * per campaign); read campaigns and parse them, sending the bad ones to the dead-letter topic;
   * let each campaign through once, when it is active; fan it out to the restaurant's subscribers
   * in slices, spread over the workers; deliver each slice: its rows written in an open PostgreSQL
   * transaction, its messages published to Kafka, the transaction committed once they are
   * acknowledged.
   */
  public static void buildPipeline(
      Pipeline pipeline, CampaignNotifierOptions options, Clock clock) {
    buildPipeline(pipeline, ServiceConfig.resolve(options), clock, ReplayPlan.Resume.NONE);
  }

  /**
   * @param resume what an earlier run read and delivered ({@link ReplayPlan})
   */
  public static void buildPipeline(
      Pipeline pipeline, ServiceConfig config, Clock clock, ReplayPlan.Resume resume) {
    CampaignNotifierOptions options = config.options();
    KafkaClients kafka = config.kafka();
    PostgresDataSource postgres = config.postgres();

    // Snapshot mode adds the LoadSubscribers side input here; lookup mode adds nothing.
    org.joda.time.Duration refresh = config.subscribersRefresh();
    SubscriberSource subscribers =
        SubscriberSource.of(pipeline, options.getSubscribers(), postgres, refresh);

    PCollectionTuple parsed =
        pipeline
            .apply("ReadCampaigns", ReadCampaigns.from(options, kafka))
            .apply(
                "ParseCampaigns",
                new ParseCampaigns(
                    options.getMaxMessageBytes(),
                    options.getMaxFieldChars(),
                    resume.readBefore(),
                    resume.deliveredInFull()));

    Delivered delivered = Delivered.inPostgres(postgres, resume.deliveredInFull());
    // A campaign published again (an update, "sold out", a cancellation) is recorded here, and the
    // fan-out and the delivery ask for it before each turn and each slice.
    CampaignVersions versions = CampaignVersions.inPostgres(postgres);
    DeliverNotifications delivery = deliver(config, versions);
    PCollectionTuple scheduled =
        parsed
            .get(ParseCampaigns.CAMPAIGNS)
            .apply(
                "ScheduleCampaigns",
                new ScheduleCampaigns(clock, versions, config.runner().shards()));
    PCollection<Campaign> released = scheduled.get(ScheduleCampaigns.RELEASED);
    PCollection<Slice> fannedOut =
        released.apply(
            "FanOutToSubscribers",
            new FanOutToSubscribers(
                subscribers,
                delivered,
                versions,
                clock,
                config.deliverySliceSize(),
                config.fanOutSlicesPerTurn(),
                config.runner(),
                delivery.beside()));
    PCollection<Slice> notifications = fannedOut;
    if (config.notifyLateSubscribers() && config.runner().lateInDriver()) {
      // Found beside the pipeline (LateInDriver, started with it) from the campaigns active here.
      PCollectionList.of(released)
          .and(scheduled.get(ScheduleCampaigns.CHANGED))
          .and(parsed.get(ParseCampaigns.DELIVERED_BEFORE))
          .apply("ActiveCampaigns", Flatten.pCollections())
          .apply("RecordActive", ActiveCampaigns.record(postgres));
    } else if (config.notifyLateSubscribers()) {
      // Subscriptions made while a campaign is active; see NotifyLateSubscribers.
      PCollection<KV<String, Long>> ticks =
          pipeline.apply(
              "LateSubscribersTick", WatchSubscriptions.ticks(WATCH_SUBSCRIPTIONS_EVERY));
      PCollection<KV<String, List<String>>> subscribed =
          ticks.apply(
              "WatchSubscriptions", new WatchSubscriptions(postgres, options.getConsumerGroup()));
      // Active campaigns an earlier run delivered in full: handed over by the replay plan, or read
      // again before its offset; both are active here without a fan-out.
      PCollection<Campaign> active =
          PCollectionList.of(released)
              .and(scheduled.get(ScheduleCampaigns.CHANGED))
              .and(parsed.get(ParseCampaigns.DELIVERED_BEFORE))
              .and(
                  ticks.apply(
                      "ActiveBeforeStart", new ActiveBeforeStart(resume.activeDeliveredInFull())))
              .apply("ActiveCampaigns", Flatten.pCollections());
      PCollection<Slice> late =
          active.apply(
              "NotifyLateSubscribers",
              new NotifyLateSubscribers(
                  subscribed,
                  delivered,
                  clock,
                  lateSubscriptionsKept(options, refresh),
                  config.deliverySliceSize(),
                  config.runner().shards()));
      notifications =
          PCollectionList.of(fannedOut).and(late).apply("FanOutAndLate", Flatten.pCollections());
    }
    notifications = notifications.apply("SpreadSlices", new SpreadSlices(config.runner()));

    notifications.apply("DeliverNotifications", delivery);
    if (!options.getCampaignUpdatesTopic().isEmpty()) {
      scheduled
          .get(ScheduleCampaigns.CHANGED)
          .apply(
              "PublishCampaignUpdates",
              new PublishCampaignUpdates(
                  options.getBootstrapServers(), options.getCampaignUpdatesTopic(), kafka));
    }
    PCollectionList.of(parsed.get(ParseCampaigns.DEAD_LETTERS))
        .and(scheduled.get(ScheduleCampaigns.DEAD_LETTERS))
        .apply("BadCampaigns", Flatten.pCollections())
        .apply(
            "WriteDeadLetters",
            new WriteDeadLetters(
                options.getBootstrapServers(), options.getDeadLetterTopic(), kafka));
  }
}
