package dev.campaignnotifier.bench;

import dev.campaignnotifier.local.EmbeddedKafka;
import java.nio.file.Path;

/**
 * A Kafka broker as a process of its own, for the benchmark: the same single-node KRaft broker as
 * the quick start's, but in a separate JVM, so that it neither shares the service's heap and
 * threads nor flatters it. Prints {@link #READY} and the bootstrap address, then runs until killed.
 */
public final class BrokerProcess {
  static final String READY = "BROKER READY ";

  private BrokerProcess() {}

  public static void main(String[] args) throws InterruptedException {
    EmbeddedKafka kafka = EmbeddedKafka.start(Path.of(args[0]), 0);
    Runtime.getRuntime().addShutdownHook(new Thread(kafka::close, "broker-stop"));
    System.out.println(READY + kafka.bootstrapServers());
    System.out.flush();
    Thread.currentThread().join();
  }
}
