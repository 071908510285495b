package dev.campaignnotifier.it;

import dev.campaignnotifier.local.EmbeddedKafka;
import dev.campaignnotifier.local.Ports;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import org.apache.kafka.common.Uuid;

/**
 * An embedded broker whose client listener is {@code SASL_SSL} with {@code SCRAM-SHA-512}, like the
 * brief's managed cluster: a self-signed certificate for localhost (its PEM at {@link
 * #caCertificate}) and one SCRAM user. Administration (topic creation) uses a second, plain
 * loopback listener, so only the service's clients go through SASL.
 */
final class SecuredBroker {
  private SecuredBroker() {}

  static EmbeddedKafka start(Path dir, String user, String password) {
    int clientPort = Ports.free();
    int internalPort = Ports.free();
    int controllerPort = Ports.free();
    String storePassword = Uuid.randomUuid().toString();
    Path keystore = dir.resolve("broker.p12");
    try {
      Files.createDirectories(dir);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
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
        caCertificate(dir).toString());

    Properties props = EmbeddedKafka.baseConfig(dir, controllerPort);
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
    return EmbeddedKafka.start(
        dir,
        props,
        List.of("--add-scram", "SCRAM-SHA-512=[name=" + user + ",password=" + password + "]"),
        "localhost:" + clientPort,
        "127.0.0.1:" + internalPort);
  }

  /** The PEM certificate clients of the broker started in {@code dir} trust. */
  static Path caCertificate(Path dir) {
    return dir.resolve("ca.crt");
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
}
