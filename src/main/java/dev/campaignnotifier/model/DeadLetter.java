package dev.campaignnotifier.model;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.Arrays;
import java.util.Objects;
import org.apache.beam.sdk.coders.AtomicCoder;
import org.apache.beam.sdk.coders.ByteArrayCoder;
import org.apache.beam.sdk.coders.DefaultCoder;
import org.apache.beam.sdk.coders.NullableCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.coders.VarIntCoder;
import org.apache.beam.sdk.coders.VarLongCoder;

/**
 * A message that could not become a campaign, with everything needed to find, understand and replay
 * it: the original key and value bytes exactly as received (either may be null), where it came
 * from, and why it was refused.
 */
@DefaultCoder(DeadLetter.DeadLetterCoder.class)
public final class DeadLetter {
  private final DeadLetterReason reason;
  private final String message;
  private final String topic;
  private final int partition;
  private final long offset;
  private final long timestampMillis;
  private final byte[] key;
  private final byte[] value;

  public DeadLetter(
      DeadLetterReason reason,
      String message,
      String topic,
      int partition,
      long offset,
      long timestampMillis,
      byte[] key,
      byte[] value) {
    this.reason = reason;
    this.message = message;
    this.topic = topic;
    this.partition = partition;
    this.offset = offset;
    this.timestampMillis = timestampMillis;
    this.key = key;
    this.value = value;
  }

  public DeadLetterReason reason() {
    return reason;
  }

  public String message() {
    return message;
  }

  public String topic() {
    return topic;
  }

  public int partition() {
    return partition;
  }

  public long offset() {
    return offset;
  }

  public long timestampMillis() {
    return timestampMillis;
  }

  /** The original key bytes, or null when the record had no key. */
  public byte[] key() {
    return key;
  }

  /** The original value bytes, or null for a tombstone. */
  public byte[] value() {
    return value;
  }

  @Override
  public boolean equals(Object o) {
    if (!(o instanceof DeadLetter)) {
      return false;
    }
    DeadLetter d = (DeadLetter) o;
    return reason == d.reason
        && message.equals(d.message)
        && topic.equals(d.topic)
        && partition == d.partition
        && offset == d.offset
        && timestampMillis == d.timestampMillis
        && Arrays.equals(key, d.key)
        && Arrays.equals(value, d.value);
  }

  @Override
  public int hashCode() {
    return Objects.hash(reason, topic, partition, offset);
  }

  @Override
  public String toString() {
    return reason + " at " + topic + "-" + partition + "@" + offset + ": " + message;
  }

  /** Field by field; the key and value keep null apart from empty. */
  public static final class DeadLetterCoder extends AtomicCoder<DeadLetter> {
    /** As Java first computed it: pinned, since Flink keeps the coder beside its state. */
    private static final long serialVersionUID = 8305988043861644769L;

    private static final DeadLetterCoder INSTANCE = new DeadLetterCoder();
    private static final NullableCoder<byte[]> BYTES = NullableCoder.of(ByteArrayCoder.of());

    public static DeadLetterCoder of() {
      return INSTANCE;
    }

    @Override
    public void encode(DeadLetter d, OutputStream out) throws IOException {
      StringUtf8Coder.of().encode(d.reason.name(), out);
      StringUtf8Coder.of().encode(d.message, out);
      StringUtf8Coder.of().encode(d.topic, out);
      VarIntCoder.of().encode(d.partition, out);
      VarLongCoder.of().encode(d.offset, out);
      VarLongCoder.of().encode(d.timestampMillis, out);
      BYTES.encode(d.key, out);
      BYTES.encode(d.value, out);
    }

    @Override
    public DeadLetter decode(InputStream in) throws IOException {
      return new DeadLetter(
          DeadLetterReason.valueOf(StringUtf8Coder.of().decode(in)),
          StringUtf8Coder.of().decode(in),
          StringUtf8Coder.of().decode(in),
          VarIntCoder.of().decode(in),
          VarLongCoder.of().decode(in),
          VarLongCoder.of().decode(in),
          BYTES.decode(in),
          BYTES.decode(in));
    }

    @Override
    public void verifyDeterministic() {}
  }
}
