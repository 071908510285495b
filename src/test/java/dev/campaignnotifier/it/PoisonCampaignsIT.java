package dev.campaignnotifier.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.campaignnotifier.Samples;
import dev.campaignnotifier.options.CampaignNotifierOptions;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.ConfigResource;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Campaigns that pass JSON but that a sink would never accept, between two good ones, on each
 * runner with the service in a JVM of its own (each launcher's subscriber mode): every poison
 * campaign is dead-lettered with its reason, the good ones are delivered in full, the service keeps
 * running, and a restart neither dead-letters them again nor sends anything for them. A campaign
 * whose notifications each fit the output topic but not four together is delivered too.
 *
 * <p>The kinds: U+0000 in the text and an unpaired surrogate (refused by the parser), an {@code
 * adv_campaign_id} of 3,500 random characters and a {@code restaurant_id} of 1,200 bytes in 600
 * characters (by the parser), a subscriber whose {@code client_id} with the campaign id is too long
 * for the feedback table's unique index (by PostgreSQL: SQLState 54000, that client only), and a
 * notification larger than the output topic's {@code max.message.bytes} (by the broker), and a
 * 900,000-byte value that is not UTF-8, whose dead letter in base64 is too large for the
 * dead-letter topic (sent again without its bytes).
 */
@Tag("slow")
class PoisonCampaignsIT {
  private static final Duration WAIT = Duration.ofMinutes(3);
  private static final String LONG_RESTAURANT = "long-client-restaurant";
  private static final String LONG_CLIENT = Samples.randomId(2_000);
  private static final String LONG_CLIENT_CAMPAIGN = "lc-" + Samples.randomId(1_000);

  /**
   * Below the producer's 256 KiB batches: a batch of several notifications that each fit is refused
   * whole, and Kafka's producer 3.9 split it into batches of 256 KiB again, for ever (KAFKA-8350),
   * unless the service sizes its batches to the topic.
   */
  private static final int OUTPUT_MAX_MESSAGE_BYTES = 100_000;

  /** A notification of this many characters fits the output topic alone, four do not. */
  private static final int FITS_ALONE = 60_000;

  private static final int TOO_BIG = 400_000;

  static Stream<Arguments> runners() {
    return Stream.of(
        Arguments.of("DirectRunner", List.of("--runner=DirectRunner")),
        Arguments.of(
            "SparkRunner",
            concat(List.of(SparkRunnerIT.sparkArgs()), List.of("--subscribers=lookup"))),
        Arguments.of(
            "FlinkRunner",
            List.of(
                "--runner=FlinkRunner",
                "--flinkMaster=[local]",
                "--parallelism=2",
                "--checkpointingInterval=2000",
                "--fanOutSlicesPerTurn=4",
                "--subscribers=lookup")));
  }

  private static long now() {
    return Instant.now().getEpochSecond();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("runners")
  void poisonCampaignsAreDeadLetteredAndTheRestIsDelivered(String runner, List<String> runnerArgs)
      throws Exception {
    CampaignNotifierOptions options = ServiceClient.options(true);
    List<String> args = new ArrayList<>(runnerArgs);
    args.addAll(ServiceClient.serviceArgs(options, options.getJdbcUrl()));
    args.add("--maxFieldChars=" + (TOO_BIG + 1));
    args.add("--maxMessageBytes=" + (TOO_BIG + 1_000));
    try (ServiceClient client = new ServiceClient(options)) {
      limitMessageBytes(options, OUTPUT_MAX_MESSAGE_BYTES);
      client.execute(
          "INSERT INTO public.subscribers_restaurants (client_id, restaurant_id) VALUES"
              + " ('short-client', '"
              + LONG_RESTAURANT
              + "'), ('"
              + LONG_CLIENT
              + "', '"
              + LONG_RESTAURANT
              + "')");
      long end = now() + 3600;
      try (ServiceProcess service = start(runner, args)) {
        client.publish("k", campaign("good-1", Samples.RESTAURANT, "first campaign"));
        client.publish("k", campaign("nul", Samples.RESTAURANT, "50% off\\u0000 today"));
        client.publish("k", campaign("half", Samples.RESTAURANT, "half \\ud83d an emoji"));
        client.publish("k", campaign(Samples.randomId(3_500), Samples.RESTAURANT, "x"));
        client.publish("k", campaign("cyrillic", "ж".repeat(600), "x"));
        client.publish("k", campaign(LONG_CLIENT_CAMPAIGN, LONG_RESTAURANT, "x"));
        client.publish("k", campaign("too-big", Samples.RESTAURANT, Samples.randomId(TOO_BIG)));
        client.publish("k", binary(900_000));
        client.publish("k", campaign("big", Samples.RESTAURANT, Samples.randomId(FITS_ALONE)));
        client.publish("k", campaign("good-2", Samples.RESTAURANT, "second campaign"));

        Await.until(
            "the three good campaigns, the short client and 7 dead letters",
            WAIT,
            () ->
                service.alive(runner)
                    && client.rowsOf("good-1") == 9
                    && client.rowsOf("good-2") == 9
                    && client.rowsOf("big") == 9
                    && rows(client, LONG_CLIENT_CAMPAIGN) == 1
                    && client.deadLetters().size() >= 7,
            () -> " (dead letters " + reasons(client) + ")\n" + tail(service.log()));
        assertEquals(
            Map.of(
                "UNSTORABLE_TEXT", 2,
                "ID_TOO_LONG", 2,
                "MESSAGE_TOO_LARGE", 1,
                "FEEDBACK_REFUSED", 1,
                "NOTIFICATION_REFUSED", 1),
            reasons(client));
        Await.until("the good campaigns' messages", WAIT, () -> messages(client).size() >= 28);
        assertEquals(0, client.rowsOf("too-big"), "a message refused by Kafka has no row");
        assertEquals(
            List.of(),
            messages(client).stream().filter(k -> k.startsWith("too-big:")).toList(),
            "nothing of the too big campaign in the output topic");
        assertEquals(
            List.of(LONG_CLIENT_CAMPAIGN + ":short-client"),
            messages(client).stream().filter(k -> k.startsWith(LONG_CLIENT_CAMPAIGN)).toList(),
            "the client PostgreSQL refused gets no message; the other one does");
        assertEquals(28, messages(client).size(), messages(client).toString());

        ConsumerRecord<String, String> huge = letter(client, "MESSAGE_TOO_LARGE");
        assertTrue(huge.value().contains("\"value\":null"), "sent without its bytes");
        assertTrue(huge.value().contains("\"value_bytes\":900000"), "sent without its bytes");
        ConsumerRecord<String, String> tooBig = letter(client, "NOTIFICATION_REFUSED");
        assertEquals("too-big", tooBig.key());
        assertTrue(tooBig.value().contains("\"sink\":\"kafka\""), tooBig.value());
        assertTrue(tooBig.value().contains("RecordTooLargeException"), tooBig.value());
        assertTrue(tooBig.value().contains("\"clients_refused\":9"), tooBig.value());
        ConsumerRecord<String, String> longClient = letter(client, "FEEDBACK_REFUSED");
        assertTrue(longClient.value().contains("\"error_code\":\"54000\""), longClient.value());
        assertTrue(longClient.value().contains("\"clients\":[\"" + LONG_CLIENT + "\"]"));
        assertTrue(
            longClient.value().contains("\\\"adv_campaign_id\\\":\\\"" + LONG_CLIENT_CAMPAIGN),
            "the dead letter's value is the campaign");
        // The reader has committed past every record, as it does in its own time: a record below
        // the committed offset is not dead-lettered again (docs/guarantees.md, 3).
        Await.until(
            "the consumer group's offset past every record",
            WAIT,
            () -> committed(options) == 10,
            () -> ", committed " + committed(options));
        // As a crash loop would: no shutdown, no goodbye.
        service.kill();
      }

      // Spark's restart starts from a new checkpoint directory: from the same one, after a kill -9,
      // the restored streaming context read the next campaign and delivered nothing for 3 minutes
      // (2026-12-03; docs/runners.md, runner differences). The restart here is the replay plan's
      // and the
      // ledger's, the same on every runner.
      List<String> restartArgs =
          args.stream()
              .map(
                  a ->
                      a.startsWith("--checkpointDir=")
                          ? "--checkpointDir=" + LocalServers.tempDir("spark-checkpoint").toUri()
                          : a)
              .toList();
      try (ServiceProcess again = start(runner, restartArgs)) {
        client.publish("k", campaign("good-3", Samples.RESTAURANT, "third campaign"));
        Await.until(
            "a campaign after the restart",
            WAIT,
            () -> again.alive(runner) && client.rowsOf("good-3") == 9,
            () -> "\n" + tail(again.log()));
        Await.until("its messages", WAIT, () -> messages(client).size() >= 37);
        assertEquals(7, client.deadLetters().size(), "no dead letter twice: " + reasons(client));
        assertEquals(37, messages(client).size(), "nothing new for the poison campaigns");
        assertEquals(1, rows(client, LONG_CLIENT_CAMPAIGN));
      }
    }
  }

  private static ServiceProcess start(String runner, List<String> args) throws Exception {
    List<String> command = ClusterKit.serviceCommand(args);
    return ServiceProcess.exec(command, Map.of(), "poison-" + runner);
  }

  private static String campaign(String id, String restaurant, String content) {
    return Samples.campaignJson(id, restaurant, now() - 60, now() + 3600)
        .replace("first campaign", content);
  }

  /**
   * A value that is not UTF-8, near the broker's 1 MB limit: its dead letter, in base64, would be
   * over it (the dead letters' producer refused it at once, and the bundle failed).
   */
  private static byte[] binary(int bytes) {
    byte[] value = new byte[bytes];
    new java.util.Random(bytes).nextBytes(value);
    value[0] = (byte) 0xFF;
    return value;
  }

  private static void limitMessageBytes(CampaignNotifierOptions options, int bytes)
      throws Exception {
    try (Admin admin =
        Admin.create(
            Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, options.getBootstrapServers()))) {
      admin
          .incrementalAlterConfigs(
              Map.of(
                  new ConfigResource(ConfigResource.Type.TOPIC, options.getOutputTopic()),
                  List.of(
                      new AlterConfigOp(
                          new ConfigEntry("max.message.bytes", Integer.toString(bytes)),
                          AlterConfigOp.OpType.SET))))
          .all()
          .get(30, TimeUnit.SECONDS);
    }
  }

  /** The consumer group's committed offset on the input topic's one partition, or -1. */
  private static long committed(CampaignNotifierOptions options) {
    try (Admin admin =
        Admin.create(
            Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, options.getBootstrapServers()))) {
      OffsetAndMetadata offset =
          admin
              .listConsumerGroupOffsets(options.getConsumerGroup())
              .partitionsToOffsetAndMetadata()
              .get(30, TimeUnit.SECONDS)
              .get(new TopicPartition(options.getInputTopic(), 0));
      return offset == null ? -1 : offset.offset();
    } catch (Exception e) {
      return -1;
    }
  }

  private static Map<String, Integer> reasons(ServiceClient client) {
    Map<String, Integer> reasons = new TreeMap<>();
    for (ConsumerRecord<String, String> letter : client.deadLetters()) {
      String value = letter.value();
      int at = value.indexOf("\"reason\":\"") + 10;
      reasons.merge(value.substring(at, value.indexOf('"', at)), 1, Integer::sum);
    }
    return reasons;
  }

  private static ConsumerRecord<String, String> letter(ServiceClient client, String reason) {
    return client.deadLetters().stream()
        .filter(r -> r.value().startsWith("{\"reason\":\"" + reason + "\""))
        .findFirst()
        .orElseThrow();
  }

  private static List<String> messages(ServiceClient client) {
    return client.notifications().stream()
        .map(ConsumerRecord::key)
        .sorted()
        .collect(Collectors.toList());
  }

  private static long rows(ServiceClient client, String campaign) {
    return client.count(
        "SELECT count(*) FROM public.subscribers_feedback WHERE adv_campaign_id = '"
            + campaign
            + "'");
  }

  private static <T> List<T> concat(List<T> a, List<T> b) {
    List<T> all = new ArrayList<>(a);
    all.addAll(b);
    return all;
  }

  private static String tail(String log) {
    return log.length() > 6000 ? log.substring(log.length() - 6000) : log;
  }
}
