package dev.campaignnotifier.io;

import java.io.IOException;
import java.io.Reader;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.beam.sdk.transforms.SerializableFunction;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.common.TopicPartition;

/**
 * Opens Kafka clients with the user's properties file laid over the service's own settings. KafkaIO
 * calls these factories on the worker for every client it opens (the reader, the offset consumer
 * and each producer), so SASL credentials in the file reach all of them while the pipeline itself
 * only carries the file's path.
 */
public final class KafkaClients implements Serializable {
  private static final long serialVersionUID = 1L;

  private final String propertiesFile;

  /**
   * @param propertiesFile path of a Java properties file, or null for none
   */
  public KafkaClients(String propertiesFile) {
    this.propertiesFile = propertiesFile;
  }

  /** The service's settings with the file's on top: a user's file always has the last word. */
  public Map<String, Object> configure(Map<String, Object> serviceConfig) {
    Map<String, Object> merged = new HashMap<>(serviceConfig);
    if (propertiesFile != null) {
      load(propertiesFile).forEach((k, v) -> merged.put((String) k, v));
    }
    return merged;
  }

  /** Reads a properties file, failing with its path (never its contents) when it cannot. */
  private static Properties load(String path) {
    Properties props = new Properties();
    try (Reader in = Files.newBufferedReader(Path.of(path), StandardCharsets.UTF_8)) {
      props.load(in);
    } catch (IOException e) {
      throw new UncheckedIOException(
          "cannot read the Kafka properties file " + path + " (--kafkaPropertiesFile)", e);
    }
    return props;
  }

  /**
   * An admin client of {@code bootstrapServers} for the work around the pipeline (start-up checks,
   * the replay plan, health), every call of which gives up after {@code timeoutMillis}.
   */
  public Admin admin(String bootstrapServers, int timeoutMillis) {
    Map<String, Object> config = new HashMap<>();
    config.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
    config.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, timeoutMillis);
    config.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, timeoutMillis);
    return Admin.create(configure(config));
  }

  /** Every partition of {@code topic}, as {@code consumer} finds them. */
  public static List<TopicPartition> partitions(Consumer<?, ?> consumer, String topic) {
    return consumer.partitionsFor(topic).stream()
        .map(p -> new TopicPartition(topic, p.partition()))
        .toList();
  }

  public SerializableFunction<Map<String, Object>, Consumer<byte[], byte[]>> consumerFactory() {
    return config -> new KafkaConsumer<>(configure(config));
  }

  public <K, V> SerializableFunction<Map<String, Object>, Producer<K, V>> producerFactory() {
    return config -> new KafkaProducer<>(configure(config));
  }
}
