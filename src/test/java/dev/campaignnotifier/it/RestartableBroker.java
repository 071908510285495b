package dev.campaignnotifier.it;

import dev.campaignnotifier.local.EmbeddedKafka;
import dev.campaignnotifier.local.Ports;
import java.nio.file.Path;
import java.util.List;
import java.util.Properties;

/**
 * An embedded plain broker that can be stopped and started again on the same ports and log, as an
 * outage or an operator's restart would.
 */
final class RestartableBroker implements AutoCloseable {
  private final Path dir;
  private final Properties config;
  private final String bootstrap;
  private EmbeddedKafka running;

  RestartableBroker(Path dir) {
    int port = Ports.free();
    this.dir = dir;
    this.config = EmbeddedKafka.plainConfig(dir, port, Ports.free());
    this.bootstrap = "127.0.0.1:" + port;
    startAgain();
  }

  /** The broker as it runs now (its address stays the same across restarts). */
  EmbeddedKafka kafka() {
    return running;
  }

  void restart() {
    stop();
    startAgain();
  }

  void stop() {
    if (running != null) {
      running.close();
      running = null;
    }
  }

  void startAgain() {
    running = EmbeddedKafka.start(dir, config, List.of(), bootstrap, bootstrap);
  }

  @Override
  public void close() {
    stop();
  }
}
