package dev.campaignnotifier.delivery;

import dev.campaignnotifier.campaigns.CampaignVersions;
import dev.campaignnotifier.io.KafkaClients;
import dev.campaignnotifier.io.Retry;
import dev.campaignnotifier.model.Campaign;
import dev.campaignnotifier.model.DeadLetterReason;
import dev.campaignnotifier.model.Slice;
import dev.campaignnotifier.ops.LiveState;
import dev.campaignnotifier.runner.RunnerProfile;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import javax.sql.DataSource;
import org.apache.beam.sdk.metrics.Counter;
import org.apache.beam.sdk.metrics.Metrics;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.SerializableFunction;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PDone;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.serialization.StringSerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes each notification to both sinks, in an order that makes PostgreSQL the record of what was
 * delivered: a slice's rows are written in an open transaction, its messages are published and
 * acknowledged by the broker ({@code acks=all}, idempotent producer), and only then is the
 * transaction committed ({@link SliceDelivery}, which also dead-letters what a sink refuses for
 * good instead of failing the bundle). So a committed row implies its message, and after a crash
 * the fan-out can skip exactly the clients that have a row ({@link FeedbackTable#deliveredAmong})
 * while re-sending the rest: no notification is lost, and the only duplicate messages are those of
 * the slices on their way when the process died, or those a broker outage longer than {@code
 * delivery.timeout.ms} made the producer give up on after they were written ({@link Retry#kafka}
 * sends those again until they are acknowledged).
 *
 * <p>Why not KafkaIO.write and JdbcIO.write side by side: two independent sinks cannot give that
 * order (a row could exist for a message that was never sent), KafkaIO.write says nothing about
 * when a message is acknowledged, and JdbcIO.write on an unbounded input funnels every row through
 * one key with {@code GroupIntoBatches}, which the Spark runner refuses. This step uses Kafka's
 * producer and JdbcIO's pooled data source, writes each slice before its bundle commits, needs no
 * state or timers, and so runs the same on every runner.
 */
public final class DeliverNotifications extends PTransform<PCollection<Slice>, PDone> {
  static final Map<String, Object> PRODUCER_CONFIG =
      Map.of(
          ProducerConfig.ACKS_CONFIG,
          "all",
          ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG,
          true,
          ProducerConfig.LINGER_MS_CONFIG,
          5,
          ProducerConfig.BATCH_SIZE_CONFIG,
          256 * 1024,
          ProducerConfig.COMPRESSION_TYPE_CONFIG,
          "lz4");

  private final String bootstrapServers;
  private final String topic;
  private final String deadLetterTopic;
  private final String inputTopic;
  private final KafkaClients kafka;
  private final SerializableFunction<Void, DataSource> postgres;
  private final int parcelSize;
  private final boolean eager;
  private final boolean bigBeside;
  private final int besideClients;
  private final CampaignVersions versions;

  /** Slices one delivery step's instance has in delivery at once (the benchmark's floor too). */
  public static int slicesInDelivery() {
    return DeliverFn.PARALLELISM;
  }

  /**
   * Waits up to {@code timeout} for the big campaigns' slices this JVM delivers beside the bundles
   * ({@link BesideBundles}), then closes those deliveries: for the service's stop. Returns whether
   * every slice handed over was delivered.
   */
  public static boolean finishDeliveriesBeside(java.time.Duration timeout)
      throws InterruptedException {
    return BesideBundles.finishAll(timeout);
  }

  /** The producer settings the service publishes with (the benchmark's floor uses them too). */
  public static Map<String, Object> producerConfig() {
    return PRODUCER_CONFIG;
  }

  /**
   * @param deadLetterTopic where notifications a sink refuses for good go ({@link SliceDelivery})
   * @param inputTopic the campaigns' topic, named in those dead letters
   * @param parcelSize notifications delivered together at most (one transaction, one wait for
   *     Kafka's acknowledgements): the small slices of a bundle go together up to this size ({@code
   *     --deliverySliceSize})
   * @param besideClients where big campaigns are delivered beside the bundles ({@link
   *     RunnerProfile#deliversBigBeside}): clients handed over and not yet delivered, at most, per
   *     JVM ({@link BesideBundles})
   * @param versions asked before each parcel is published: a slice of a campaign that ended early
   *     (or whose start moved later) is withdrawn, one whose text changed carries the new text
   * @param runner whether a bundle ends with its input ({@link RunnerProfile#bundlesEndWithInput}):
   *     where it does not, a parcel goes at once while no other is in delivery
   */
  public DeliverNotifications(
      String bootstrapServers,
      String topic,
      String deadLetterTopic,
      String inputTopic,
      KafkaClients kafka,
      SerializableFunction<Void, DataSource> postgres,
      int parcelSize,
      int besideClients,
      CampaignVersions versions,
      RunnerProfile runner) {
    this.versions = versions;
    this.eager = !runner.bundlesEndWithInput();
    this.bigBeside = runner.deliversBigBeside();
    this.besideClients = besideClients;
    this.parcelSize = parcelSize;
    this.bootstrapServers = bootstrapServers;
    this.topic = topic;
    this.deadLetterTopic = deadLetterTopic;
    this.inputTopic = inputTopic;
    this.kafka = kafka;
    this.postgres = postgres;
  }

  @Override
  public PDone expand(PCollection<Slice> slices) {
    slices.apply("PublishThenRecord", ParDo.of(new DeliverFn(this, eager, bigBeside)));
    return PDone.in(slices.getPipeline());
  }

  /**
   * Where the fan-out hands a big campaign over whole, to be fanned out and delivered beside the
   * bundles ({@link BesideBundles}), on a runner that delivers big campaigns there ({@link
   * RunnerProfile#deliversBigBeside}); null on the others.
   */
  public Beside beside() {
    if (!bigBeside) {
      return null;
    }
    DeliverFn fn = new DeliverFn(this, false, true);
    return (campaignId, fanOut) ->
        BesideBundles.fanOut(fn.besideKey(), () -> new DeliverFn(fn), campaignId, fanOut);
  }

  /**
   * A big campaign's fan-out, run beside the bundles: it reads the subscribers and hands each slice
   * it cuts to {@code out}, which delivers it.
   */
  @FunctionalInterface
  public interface FanOut {
    void run(Consumer<Slice> out) throws InterruptedException;
  }

  /** See {@link #beside}: serializable, so a fan-out step carries it to the workers. */
  @FunctionalInterface
  public interface Beside extends Serializable {
    /**
     * Hands {@code fanOut} (of campaign {@code campaignId}) to the JVM's fan-outs beside the
     * bundles and returns at once; throws a failure of an earlier fan-out or delivery there.
     */
    void fanOut(String campaignId, FanOut fanOut);
  }

  /**
   * This delivery outside the pipeline, in the calling thread, for slices made beside it (the late
   * subscribers the Spark driver finds: {@code LateInDriver}): the same sinks, checks and ledger,
   * parcels of at most {@code parcelSize} notifications; counted in the late step's log lines, not
   * in Beam's metrics (a driver has none to count on).
   */
  public InDriver inDriver() {
    DeliverFn fn = new DeliverFn(this, false, false);
    fn.setup();
    return new InDriver(fn, parcelSize);
  }

  /** See {@link #inDriver}. */
  public static final class InDriver implements AutoCloseable {
    private final DeliverFn fn;
    private final int parcelSize;

    private InDriver(DeliverFn fn, int parcelSize) {
      this.fn = fn;
      this.parcelSize = parcelSize;
    }

    /** Delivers the slices, waiting out outages; returns the notifications delivered. */
    public int deliver(List<Slice> slices) throws InterruptedException {
      int delivered = 0;
      List<Slice> parcel = new ArrayList<>();
      int size = 0;
      for (Slice slice : slices) {
        if (size > 0 && size + slice.size() > parcelSize) {
          delivered += fn.deliver(parcel);
          parcel = new ArrayList<>();
          size = 0;
        }
        parcel.add(slice);
        size += slice.size();
      }
      if (!parcel.isEmpty()) {
        delivered += fn.deliver(parcel);
      }
      return delivered;
    }

    @Override
    public void close() {
      fn.teardown();
    }
  }

  static final class DeliverFn extends DoFn<Slice, Void> {
    /** Slices in delivery at once per DoFn instance: enough to keep both sinks busy. */
    static final int PARALLELISM = 4;

    /**
     * Slices handed over and not yet delivered, per DoFn instance: the 4 in delivery and 4 queued
     * behind them, so that a worker that finishes starts the next slice at once.
     */
    static final int ADMITTED = PARALLELISM * 2;

    private static final Logger LOG = LoggerFactory.getLogger(DeliverNotifications.class);

    private final String bootstrapServers;
    private final String topic;
    private final String deadLetterTopic;
    private final String inputTopic;
    private final KafkaClients kafka;
    private final SerializableFunction<Void, DataSource> postgres;
    private final int parcelSize;
    private final CampaignVersions versions;
    private final boolean eager;
    private final boolean bigBeside;
    private final int besideClients;
    private transient List<Object> besideKey;
    private final Counter withdrawn = Metrics.counter("notifications", "withdrawn");
    private final Counter notFavourite = Metrics.counter("notifications", "favouriteRemoved");
    private final AtomicLong notFavouriteSinceLastBundle = new AtomicLong();
    private final AtomicLong withdrawnSinceLastBundle = new AtomicLong();
    private final Counter toKafka = Metrics.counter("sinks", "notificationsToKafka");
    private final Counter toPostgres = Metrics.counter("sinks", "feedbackRowsToPostgres");
    private final Counter retries = Metrics.counter("sinks", "postgresRetries");
    private transient Producer<String, String> producer;
    private transient String producerKey;
    private transient ExecutorService workers;
    private transient Semaphore inFlight;
    private transient List<Future<Integer>> pending;
    private transient List<Slice> forming;
    private transient int formingSize;
    private transient int bundleSlices;
    private final Counter kafkaRetries = Metrics.counter("sinks", "kafkaRetries");
    private final AtomicLong retriesSinceLastBundle = new AtomicLong();
    private final AtomicLong kafkaRetriesSinceLastBundle = new AtomicLong();
    private transient WorkerTally tally;
    private transient SliceDelivery.Sinks sinks;
    private final Map<DeadLetterReason, AtomicLong> deadLettersSinceLastBundle =
        new ConcurrentHashMap<>();

    /**
     * Delivers to the sinks {@code delivery} names.
     *
     * @param eager a parcel goes at once while no parcel of this instance is in delivery, where a
     *     bundle ends on a timer rather than with its input ({@code
     *     RunnerProfile#bundlesEndWithInput}: Flink)
     * @param bigBeside a big fan-out's slices are delivered beside the bundle ({@link
     *     BesideBundles}, {@code RunnerProfile#deliversBigBeside}: Spark)
     */
    DeliverFn(DeliverNotifications delivery, boolean eager, boolean bigBeside) {
      this.eager = eager;
      this.bigBeside = bigBeside;
      this.bootstrapServers = delivery.bootstrapServers;
      this.topic = delivery.topic;
      this.deadLetterTopic = delivery.deadLetterTopic;
      this.inputTopic = delivery.inputTopic;
      this.kafka = delivery.kafka;
      this.postgres = delivery.postgres;
      this.parcelSize = delivery.parcelSize;
      this.besideClients = delivery.besideClients;
      this.versions = delivery.versions;
    }

    /** Another instance delivering to the same sinks, neither eager nor handing over. */
    private DeliverFn(DeliverFn same) {
      this.eager = false;
      this.bigBeside = false;
      this.bootstrapServers = same.bootstrapServers;
      this.topic = same.topic;
      this.deadLetterTopic = same.deadLetterTopic;
      this.inputTopic = same.inputTopic;
      this.kafka = same.kafka;
      this.postgres = same.postgres;
      this.parcelSize = same.parcelSize;
      this.besideClients = same.besideClients;
      this.versions = same.versions;
    }

    /**
     * The producer is the JVM's for this broker, topic and Kafka properties ({@link
     * SharedProducers}): on Spark this runs for every task of every micro-batch.
     */
    @Setup
    public void setup() {
      DataSource db = postgres.apply(null);
      boolean checksFavourites = Favourites.checkable(db);
      producerKey = bootstrapServers + " " + topic + " " + kafka.propertiesFile();
      producer = SharedProducers.inThisJvm().acquire(producerKey, this::newProducer);
      workers = Executors.newFixedThreadPool(PARALLELISM);
      inFlight = new Semaphore(ADMITTED);
      tally = WorkerTally.start(LOG, Thread.currentThread().getName());
      sinks =
          new SliceDelivery.Sinks(
              producer,
              topic,
              deadLetterTopic,
              inputTopic,
              db,
              LOG,
              retriesSinceLastBundle::incrementAndGet,
              kafkaRetriesSinceLastBundle::incrementAndGet,
              checksFavourites);
      if (bigBeside) {
        besideKey = besideKey();
      }
    }

    /**
     * The JVM's delivery beside the bundles this instance hands over to ({@link BesideBundles}):
     * one per set of sinks, shared by the delivery step's instances and the fan-out's.
     */
    List<Object> besideKey() {
      return List.of(
          bootstrapServers + " " + topic + " " + kafka.propertiesFile(),
          deadLetterTopic,
          inputTopic,
          parcelSize,
          besideClients,
          postgres);
    }

    /** Clients handed over beside the bundles and not yet delivered, at most, in the JVM. */
    int besideClients() {
      return besideClients;
    }

    private Producer<String, String> newProducer() {
      Map<String, Object> config = new HashMap<>(PRODUCER_CONFIG);
      config.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
      config.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class);
      config.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class);
      config.put(ProducerConfig.BATCH_SIZE_CONFIG, batchBytes());
      return kafka.<String, String>producerFactory().apply(config);
    }

    /**
     * The producer's batch size, below the output topic's {@code max.message.bytes}. Kafka's
     * producer 3.9 splits a batch the broker refuses as too large into batches of {@code
     * batch.size} again (KAFKA-8350, fixed after 3.9): with a topic limit below its 256 KiB, a
     * slice of records that each fit was split and sent again for ever. If the limit cannot be read
     * (no right to describe the topic), the default stays.
     */
    private int batchBytes() {
      int batch = (Integer) PRODUCER_CONFIG.get(ProducerConfig.BATCH_SIZE_CONFIG);
      ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, topic);
      try (Admin admin = kafka.admin(bootstrapServers, 15_000)) {
        ConfigEntry limit =
            admin
                .describeConfigs(List.of(resource))
                .all()
                .get(30, TimeUnit.SECONDS)
                .get(resource)
                .get(TopicConfig.MAX_MESSAGE_BYTES_CONFIG);
        int topicLimit = Integer.parseInt(limit.value());
        if (topicLimit <= batch) {
          // Room for the batch's own header, which the broker counts too.
          batch = Math.max(1_024, topicLimit - 1_024);
          LOG.info(
              "Topic {} takes batches of at most {} bytes (max.message.bytes): the producer's"
                  + " batches are {} bytes",
              topic,
              topicLimit,
              batch);
        }
      } catch (ExecutionException | java.util.concurrent.TimeoutException | RuntimeException e) {
        LOG.info(
            "Cannot read max.message.bytes of topic {} ({}); the producer's batches stay {} bytes",
            topic,
            e.getMessage(),
            batch);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      return batch;
    }

    @StartBundle
    public void startBundle() {
      pending = new ArrayList<>();
      forming = new ArrayList<>();
      formingSize = 0;
      bundleSlices = 0;
    }

    /**
     * Puts the slice into a parcel: small slices (a campaign of tens of subscribers is one small
     * slice) are delivered together with the others of the bundle, up to {@code parcelSize}
     * notifications, in one transaction and one wait for Kafka; a full slice goes alone. Where
     * {@code eager}, a parcel also goes at once while none is in delivery: a small campaign does
     * not wait for the end of a bundle that ends on a timer (Flink, 1 s), and while parcels are in
     * delivery the slices gather as before (on Flink a campaign alone faster to its last row, and
     * going whenever any worker was free made a rush slower: docs/performance.md, "One question per
     * bundle").
     */
    @ProcessElement
    public void process(@Element Slice slice) throws InterruptedException {
      if (besideKey != null && BesideBundles.isOfBigFanOut(slice)) {
        BesideBundles.handOver(besideKey, () -> new DeliverFn(this), slice);
        return;
      }
      if (formingSize > 0 && formingSize + slice.size() > parcelSize) {
        submit(forming);
        forming = new ArrayList<>();
        formingSize = 0;
      }
      forming.add(slice);
      formingSize += slice.size();
      bundleSlices++;
      if (formingSize >= parcelSize || (eager && inFlight.availablePermits() == ADMITTED)) {
        submit(forming);
        forming = new ArrayList<>();
        formingSize = 0;
      }
    }

    /**
     * Hands the parcel to one of {@link #PARALLELISM} workers, waiting while {@link #ADMITTED} are
     * already handed over: a big campaign arrives as one bundle of many slices, and delivering them
     * one after the other would leave both sinks idle most of the time. The bundle still completes
     * only when every parcel in it is delivered.
     */
    private void submit(List<Slice> parcel) throws InterruptedException {
      inFlight.acquire();
      pending.add(
          workers.submit(
              () -> {
                try {
                  return deliver(parcel);
                } finally {
                  inFlight.release();
                }
              }));
    }

    /** Waits for the bundle's slices; metrics are counted here, on the runner's own thread. */
    @FinishBundle
    public void finishBundle() throws InterruptedException, ExecutionException {
      if (!forming.isEmpty()) {
        submit(forming);
        forming = new ArrayList<>();
        formingSize = 0;
      }
      long delivered = 0;
      for (Future<Integer> delivery : pending) {
        delivered += delivery.get();
      }
      tally.add(bundleSlices, delivered);
      if (bundleSlices > 0) {
        // A Spark task shorter than the tally's period would otherwise never show its share.
        tally.logIfChanged();
      }
      pending.clear();
      count(delivered);
      if (besideKey != null) {
        BesideBundles.countSinceLastBundle(besideKey);
      }
    }

    /** Adds {@code delivered} and this instance's other counts since the last call to metrics. */
    void count(long delivered) {
      toKafka.inc(delivered);
      toPostgres.inc(delivered);
      retries.inc(retriesSinceLastBundle.getAndSet(0));
      withdrawn.inc(withdrawnSinceLastBundle.getAndSet(0));
      notFavourite.inc(notFavouriteSinceLastBundle.getAndSet(0));
      kafkaRetries.inc(kafkaRetriesSinceLastBundle.getAndSet(0));
      deadLettersSinceLastBundle.forEach(
          (reason, count) -> Metrics.counter("deadLetters", reason.name()).inc(count.getAndSet(0)));
    }

    /**
     * Delivers the parcel ({@link SliceDelivery}): what a sink refuses for good is dead-lettered,
     * outages of either are waited out. Returns the notifications delivered to both sinks.
     */
    int deliver(List<Slice> parcel) throws InterruptedException {
      return deliver(parcel, false);
    }

    /** As {@link #deliver(List)}, added to this instance's tally if {@code tallied}. */
    int deliver(List<Slice> parcel, boolean tallied) throws InterruptedException {
      int delivered = deliverParcel(parcel);
      if (tallied) {
        tally.add(parcel.size(), delivered);
      }
      return delivered;
    }

    private int deliverParcel(List<Slice> parcel) throws InterruptedException {
      parcel = asNewest(parcel, versions, System.currentTimeMillis() / 1000, LOG);
      if (parcel.isEmpty()) {
        return 0;
      }
      Object inDelivery = LiveState.deliveryStarted(System.nanoTime());
      SliceDelivery.Outcome outcome;
      try {
        outcome = SliceDelivery.deliver(sinks, parcel);
      } finally {
        LiveState.deliveryEnded(inDelivery);
      }
      notFavouriteSinceLastBundle.addAndGet(outcome.notFavourite());
      outcome
          .deadLettered()
          .forEach(
              (reason, count) ->
                  deadLettersSinceLastBundle
                      .computeIfAbsent(reason, r -> new AtomicLong())
                      .addAndGet(count));
      for (Slice slice : parcel) {
        LiveState.recorded(slice.fanOutId(), slice.campaign().endEpochSecond(), slice.size());
      }
      return outcome.delivered();
    }

    /**
     * The parcel as its campaigns' newest versions have it, just before it is published: the slices
     * of a campaign that changed so that it is not active now (ended early, cancelled, starting
     * later) are withdrawn, counted and logged; those of a campaign whose text or end changed carry
     * its newest version.
     */
    List<Slice> asNewest(List<Slice> parcel, CampaignVersions versions, long nowSecond, Logger log)
        throws InterruptedException {
      List<Slice> current = new ArrayList<>(parcel.size());
      for (Slice slice : parcel) {
        Campaign newest = versions.newest(slice.campaign());
        if (newest == slice.campaign()) {
          current.add(slice);
        } else if (newest.isActiveAt(nowSecond)) {
          current.add(slice.withCampaign(newest));
        } else {
          withdrawnSinceLastBundle.addAndGet(slice.size());
          // Settled: no longer pending (the /metrics gauge), though never published.
          LiveState.recorded(slice.fanOutId(), slice.campaign().endEpochSecond(), slice.size());
          log.info(
              "Campaign {} is not active in its newest version ({}..{}): a slice of {}"
                  + " notifications withdrawn",
              newest.advCampaignId(),
              newest.startEpochSecond(),
              newest.endEpochSecond(),
              slice.size());
        }
      }
      return current;
    }

    @Teardown
    public void teardown() {
      if (tally != null) {
        tally.close();
      }
      if (workers != null) {
        workers.shutdownNow();
      }
      if (producer != null) {
        SharedProducers.inThisJvm().release(producerKey);
        producer = null;
      }
    }
  }
}
