package dev.campaignnotifier.local;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
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
  private KafkaRaftServer server;
  private final KafkaConfig config;
  private final String bootstrapServers;
  private final String adminBootstrapServers;
  private final Path caCertificate;

  private EmbeddedKafka(
      KafkaRaftServer server,
      KafkaConfig config,
      String bootstrapServers,
      String adminBootstrapServers,
      Path caCertificate) {
    this.server = server;
    this.config = config;
    this.bootstrapServers = bootstrapServers;
    this.adminBootstrapServers = adminBootstrapServers;
    this.caCertificate = caCertificate;
  }

  /** Starts a plain broker on {@code port} (0: any free port), its log in {@code dir}. */
  public static EmbeddedKafka start(Path dir, int port) {
    int brokerPort = port == 0 ? freePort() : port;
    int controllerPort = freePort();
    Properties props = baseConfig(dir, controllerPort);
    props.put(
        "listeners",
        "PLAINTEXT://127.0.0.1:" + brokerPort + ",CONTROLLER://127.0.0.1:" + controllerPort);
    props.put("advertised.listeners", "PLAINTEXT://127.0.0.1:" + brokerPort);
    props.put("inter.broker.listener.name", "PLAINTEXT");
    props.put("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT");
    String bootstrap = "127.0.0.1:" + brokerPort;
    return start(dir, props, List.of(), bootstrap, bootstrap, null);
  }

  /**
   * Starts a broker whose client listener is {@code SASL_SSL} with {@code SCRAM-SHA-512}, like the
   * brief's managed cluster: a self-signed certificate for localhost (its PEM at {@link
   * #caCertificate()}) and one SCRAM user. Administration (topic creation) uses a second, plain
   * loopback listener, so only the service's clients go through SASL.
   */
  public static EmbeddedKafka startWithSaslSsl(Path dir, String user, String password) {
    int clientPort = freePort();
    int internalPort = freePort();
    int controllerPort = freePort();
    String storePassword = Uuid.randomUuid().toString();
    Path keystore = dir.resolve("broker.p12");
    Path certificate = dir.resolve("ca.crt");
    createDirectories(dir);
    keytool(
        "-genkeypair",
        "-alias",
        "broker",
        "-keyalg",
        "RSA",
        "-keysize",
        "2048",
        "-validity",
        "2",
        "-dname",
        "CN=localhost",
        "-ext",
        "SAN=dns:localhost,ip:127.0.0.1",
        "-keystore",
        keystore.toString(),
        "-storetype",
        "PKCS12",
        "-storepass",
        storePassword);
    keytool(
        "-exportcert",
        "-rfc",
        "-alias",
        "broker",
        "-keystore",
        keystore.toString(),
        "-storetype",
        "PKCS12",
        "-storepass",
        storePassword,
        "-file",
        certificate.toString());

    Properties props = baseConfig(dir, controllerPort);
    props.put(
        "listeners",
        "INTERNAL://127.0.0.1:"
            + internalPort
            + ",SECURE://127.0.0.1:"
            + clientPort
            + ",CONTROLLER://127.0.0.1:"
            + controllerPort);
    props.put(
        "advertised.listeners",
        "INTERNAL://127.0.0.1:" + internalPort + ",SECURE://localhost:" + clientPort);
    props.put("inter.broker.listener.name", "INTERNAL");
    props.put(
        "listener.security.protocol.map",
        "INTERNAL:PLAINTEXT,SECURE:SASL_SSL,CONTROLLER:PLAINTEXT");
    props.put("sasl.enabled.mechanisms", "SCRAM-SHA-512");
    props.put("listener.name.secure.sasl.enabled.mechanisms", "SCRAM-SHA-512");
    props.put(
        "listener.name.secure.scram-sha-512.sasl.jaas.config",
        "org.apache.kafka.common.security.scram.ScramLoginModule required;");
    props.put("listener.name.secure.ssl.keystore.location", keystore.toString());
    props.put("listener.name.secure.ssl.keystore.type", "PKCS12");
    props.put("listener.name.secure.ssl.keystore.password", storePassword);
    props.put("listener.name.secure.ssl.key.password", storePassword);
    return start(
        dir,
        props,
        List.of("--add-scram", "SCRAM-SHA-512=[name=" + user + ",password=" + password + "]"),
        "localhost:" + clientPort,
        "127.0.0.1:" + internalPort,
        certificate);
  }

  private static Properties baseConfig(Path dir, int controllerPort) {
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

  private static EmbeddedKafka start(
      Path dir,
      Properties props,
      List<String> formatArgs,
      String clientBootstrap,
      String adminBootstrap,
      Path caCertificate) {
    createDirectories(dir);
    Path configFile = dir.resolve("server.properties");
    try (OutputStream out = Files.newOutputStream(configFile)) {
      props.store(out, "embedded broker");
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + configFile, e);
    }
    format(configFile, formatArgs);
    KafkaConfig config = new KafkaConfig(props);
    KafkaRaftServer server = new KafkaRaftServer(config, Time.SYSTEM);
    server.startup();
    EmbeddedKafka kafka =
        new EmbeddedKafka(server, config, clientBootstrap, adminBootstrap, caCertificate);
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

  private static void keytool(String... args) {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "keytool").toString());
    command.addAll(List.of(args));
    try {
      Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
      String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (p.waitFor() != 0) {
        throw new IllegalStateException("keytool failed: " + output);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot run keytool", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted running keytool", e);
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

  /** Where clients connect: the SASL_SSL listener on a secured broker. */
  public String bootstrapServers() {
    return bootstrapServers;
  }

  /** The PEM certificate clients trust on a secured broker; null on a plain one. */
  public Path caCertificate() {
    return caCertificate;
  }

  /** Stops the broker and starts it again on the same ports and log, as an operator would. */
  public void restart() {
    stop();
    startAgain();
  }

  /** Stops the broker, as an outage would; {@link #startAgain} brings it back. */
  public void stop() {
    if (server != null) {
      server.shutdown();
      server.awaitShutdown();
      server = null;
    }
  }

  /** Starts a stopped broker again on the same ports and log. */
  public void startAgain() {
    server = new KafkaRaftServer(config, Time.SYSTEM);
    server.startup();
    awaitReady();
  }

  @Override
  public void close() {
    stop();
  }

  private static void createDirectories(Path dir) {
    try {
      Files.createDirectories(dir);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create " + dir, e);
    }
  }

  static int freePort() {
    try (ServerSocket socket = new ServerSocket(0)) {
      socket.setReuseAddress(true);
      return socket.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException("no free local port", e);
    }
  }

  /** True when nothing listens on the port yet, so the brief's well-known port can be used. */
  static boolean isFree(int port) {
    try (ServerSocket socket = new ServerSocket(port)) {
      socket.setReuseAddress(true);
      return true;
    } catch (IOException e) {
      return false;
    }
  }
}
