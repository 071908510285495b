package dev.campaignnotifier.local;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import kafka.tools.StorageTool;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.utils.Time;

/**
 * A single-node Kafka (broker and KRaft controller in one) running inside this JVM. Its storage is
 * formatted with Kafka's own storage tool, as {@code kafka-storage.sh format} would, so it is the
 * real broker, not a mock: clients talk to it over the Kafka protocol on a loopback port.
 */
public final class EmbeddedKafka implements AutoCloseable {
  private final KafkaRaftServer server;
  private final String bootstrapServers;
  private final String adminBootstrapServers;

  private EmbeddedKafka(
      KafkaRaftServer server, String bootstrapServers, String adminBootstrapServers) {
    this.server = server;
    this.bootstrapServers = bootstrapServers;
    this.adminBootstrapServers = adminBootstrapServers;
  }

  /** Starts a plain broker on {@code port} (0: any free port), its log in {@code dir}. */
  public static EmbeddedKafka start(Path dir, int port) {
    int brokerPort = port == 0 ? Ports.free() : port;
    String bootstrap = "127.0.0.1:" + brokerPort;
    return start(dir, plainConfig(dir, brokerPort, Ports.free()), List.of(), bootstrap, bootstrap);
  }

  /**
   * A plain broker's settings: one PLAINTEXT listener on {@code brokerPort}, log in {@code dir}.
   */
  public static Properties plainConfig(Path dir, int brokerPort, int controllerPort) {
    Properties props = baseConfig(dir, controllerPort);
    props.put(
        "listeners",
        "PLAINTEXT://127.0.0.1:" + brokerPort + ",CONTROLLER://127.0.0.1:" + controllerPort);
    props.put("advertised.listeners", "PLAINTEXT://127.0.0.1:" + brokerPort);
    props.put("inter.broker.listener.name", "PLAINTEXT");
    props.put("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT");
    return props;
  }

  /**
   * Settings every embedded broker shares: one node that is broker and KRaft controller, one
   * replica of everything, no topic created by accident. Listeners are the caller's.
   */
  public static Properties baseConfig(Path dir, int controllerPort) {
    Properties props = new Properties();
    props.put("process.roles", "broker,controller");
    props.put("node.id", "1");
    props.put("controller.quorum.voters", "1@127.0.0.1:" + controllerPort);
    props.put("controller.listener.names", "CONTROLLER");
    props.put("log.dirs", dir.resolve("log").toString());
    props.put("offsets.topic.replication.factor", "1");
    props.put("offsets.topic.num.partitions", "1");
    props.put("transaction.state.log.replication.factor", "1");
    props.put("transaction.state.log.min.isr", "1");
    props.put("group.initial.rebalance.delay.ms", "0");
    props.put("auto.create.topics.enable", "false");
    return props;
  }

  /**
   * Formats {@code dir} for the broker {@code props} describe (unless it already is: a broker
   * started again on the same log keeps its data) and starts it. {@code formatArgs} go to Kafka's
   * storage tool (SCRAM users, say); clients connect to {@code clientBootstrap}, the admin client
   * to {@code adminBootstrap}.
   */
  public static EmbeddedKafka start(
      Path dir,
      Properties props,
      List<String> formatArgs,
      String clientBootstrap,
      String adminBootstrap) {
    createDirectories(dir);
    Path configFile = dir.resolve("server.properties");
    try (OutputStream out = Files.newOutputStream(configFile)) {
      props.store(out, "embedded broker");
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + configFile, e);
    }
    if (!Files.exists(Path.of(props.getProperty("log.dirs"), "meta.properties"))) {
      format(configFile, formatArgs);
    }
    KafkaConfig config = new KafkaConfig(props);
    KafkaRaftServer server = new KafkaRaftServer(config, Time.SYSTEM);
    server.startup();
    EmbeddedKafka kafka = new EmbeddedKafka(server, clientBootstrap, adminBootstrap);
    kafka.awaitReady();
    return kafka;
  }

  private static void format(Path configFile, List<String> extraArgs) {
    List<String> args =
        new ArrayList<>(
            List.of(
                "format",
                "-t",
                Uuid.randomUuid().toString(),
                "-c",
                configFile.toString(),
                "--ignore-formatted"));
    args.addAll(extraArgs);
    ByteArrayOutputStream output = new ByteArrayOutputStream();
    int rc;
    try (PrintStream print = new PrintStream(output, true, StandardCharsets.UTF_8)) {
      rc = StorageTool.execute(args.toArray(String[]::new), print);
    }
    if (rc != 0) {
      throw new IllegalStateException(
          "kafka-storage format failed: " + output.toString(StandardCharsets.UTF_8));
    }
  }

  private void awaitReady() {
    try (Admin admin = admin()) {
      admin.describeCluster().nodes().get(30, TimeUnit.SECONDS);
    } catch (ExecutionException | TimeoutException e) {
      throw new IllegalStateException("the embedded Kafka did not become ready", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted waiting for the embedded Kafka", e);
    }
  }

  /** An admin client on the plain loopback listener. */
  public Admin admin() {
    return Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, adminBootstrapServers));
  }

  /** Creates the topics that do not exist yet. */
  public void createTopics(int partitions, String... names) {
    try (Admin admin = admin()) {
      createTopics(admin, partitions, names);
    }
  }

  /**
   * Creates the topics that do not exist yet through {@code admin}, on any broker, and returns once
   * the broker lists them: in KRaft the creation is acknowledged when the controller commits it,
   * and a {@code listTopics} right after (the service's start-up check) could still miss it.
   */
  public static void createTopics(Admin admin, int partitions, String... names) {
    try {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      for (String name : names) {
        try {
          admin
              .createTopics(List.of(new NewTopic(name, partitions, (short) 1)))
              .all()
              .get(30, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
          if (!(e.getCause() instanceof TopicExistsException)) {
            throw new IllegalStateException("cannot create topic " + name, e.getCause());
          }
        }
      }
      while (!admin.listTopics().names().get(30, TimeUnit.SECONDS).containsAll(List.of(names))) {
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException(
              "created topics not listed after 30 s: " + List.of(names));
        }
        Thread.sleep(20);
      }
    } catch (ExecutionException e) {
      throw new IllegalStateException("cannot list topics", e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while creating topics", e);
    } catch (TimeoutException e) {
      throw new IllegalStateException("timed out creating topics", e);
    }
  }

  /** Where clients connect (on a broker with several listeners, the clients' one). */
  public String bootstrapServers() {
    return bootstrapServers;
  }

  /** Stops the broker; its log stays in its directory. */
  @Override
  public void close() {
    server.shutdown();
    server.awaitShutdown();
  }

  private static void createDirectories(Path dir) {
    try {
      Files.createDirectories(dir);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create " + dir, e);
    }
  }
}
