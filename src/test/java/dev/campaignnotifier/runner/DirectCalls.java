package dev.campaignnotifier.runner;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.beam.runners.core.InMemoryStateInternals;
import org.apache.beam.runners.core.StateNamespaces;
import org.apache.beam.runners.core.StateTags;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.state.MapState;
import org.apache.beam.sdk.state.Timer;
import org.apache.beam.sdk.state.ValueState;
import org.apache.beam.sdk.transforms.DoFn.MultiOutputReceiver;
import org.apache.beam.sdk.transforms.DoFn.OutputReceiver;
import org.apache.beam.sdk.values.OutputBuilder;
import org.apache.beam.sdk.values.Row;
import org.apache.beam.sdk.values.TupleTag;
import org.joda.time.Duration;
import org.joda.time.Instant;

/**
 * State, a timer and an output for calling a stateful DoFn's methods directly, in an order no
 * runner of these tests produces: the Spark runner's timer fired after the bundle has finished.
 */
public final class DirectCalls {
  private final InMemoryStateInternals<Integer> state = InMemoryStateInternals.forKey(0);

  public <V> MapState<String, V> map(String id, Coder<String> keys, Coder<V> values) {
    return state.state(StateNamespaces.global(), StateTags.map(id, keys, values));
  }

  public <V> ValueState<V> value(String id, Coder<V> coder) {
    return state.state(StateNamespaces.global(), StateTags.value(id, coder));
  }

  /** A timer that counts how often it was set. */
  public static final class CountingTimer implements Timer {
    public int sets;

    @Override
    public void set(Instant absoluteTime) {
      sets++;
    }

    @Override
    public void setRelative() {
      sets++;
    }

    @Override
    public void clear() {}

    @Override
    public Timer offset(Duration offset) {
      return this;
    }

    @Override
    public Timer align(Duration period) {
      return this;
    }

    @Override
    public Timer withOutputTimestamp(Instant outputTime) {
      return this;
    }

    @Override
    public Timer withNoOutputTimestamp() {
      return this;
    }

    @Override
    public Instant getCurrentRelativeTime() {
      return Instant.now();
    }
  }

  /** An output that keeps what it was given. */
  public static final class Collected<T> implements OutputReceiver<T> {
    public final List<T> all = new ArrayList<>();

    @Override
    public OutputBuilder<T> builder(T value) {
      throw new UnsupportedOperationException("only output(value) is expected");
    }

    @Override
    public void output(T value) {
      all.add(value);
    }
  }

  /** Outputs by tag, each keeping what it was given. */
  public static final class CollectedByTag implements MultiOutputReceiver {
    private final Map<TupleTag<?>, Collected<?>> byTag = new HashMap<>();

    @Override
    @SuppressWarnings("unchecked")
    public <T> Collected<T> get(TupleTag<T> tag) {
      return (Collected<T>) byTag.computeIfAbsent(tag, t -> new Collected<>());
    }

    @Override
    public <T> OutputReceiver<Row> getRowReceiver(TupleTag<T> tag) {
      throw new UnsupportedOperationException("rows are not expected");
    }
  }
}
