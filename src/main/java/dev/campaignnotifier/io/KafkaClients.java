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
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.Serializer;
import org.apache.kafka.common.serialization.StringSerializer;

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

  /** The properties file's path, or null: what tells two clients' settings apart. */
  public String propertiesFile() {
    return propertiesFile;
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

  /**
   * A producer of string values that waits for every replica ({@code acks=all}) and never writes a
   * record twice on its own retries (idempotence): for the topics written a few records at a time
   * and acknowledged per bundle (dead letters, campaign updates).
   */
  public <K> Producer<K, String> acknowledgedProducer(
      String bootstrapServers, Class<? extends Serializer<K>> keySerializer) {
    Map<String, Object> config = new java.util.HashMap<>();
    config.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
    config.put(ProducerConfig.ACKS_CONFIG, "all");
    config.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
    config.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, keySerializer);
    config.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class);
    return this.<K, String>producerFactory().apply(config);
  }
}
