package org.apache.beam.runners.spark.stateful;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.beam.runners.core.StateNamespaces;
import org.apache.beam.runners.core.StateTags;
import org.apache.beam.sdk.coders.AtomicCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.coders.VarLongCoder;
import org.apache.beam.sdk.state.MapState;
import org.apache.beam.sdk.util.ReleaseInfo;
import org.junit.jupiter.api.Test;

/**
 * The project's patch of Beam 2.70's {@code SparkStateInternals} (src/spark): a map state keeps one
 * entry per cell. Each test below fails on the runner's own class (checked by moving src/spark
 * aside): of a map of 200, a get of a key and one of an absent key decoded 400 values, a put and a
 * remove 401, and a map emptied by a remove refused the next put.
 */
class SparkStateInternalsPatchTest {
  private static final AtomicInteger DECODED = new AtomicInteger();
  private static final AtomicInteger ENCODED = new AtomicInteger();

  /** Var-longs, counted. */
  private static final class CountingLongCoder extends AtomicCoder<Long> {
    @Override
    public void encode(Long value, OutputStream out) throws IOException {
      ENCODED.incrementAndGet();
      VarLongCoder.of().encode(value, out);
    }

    @Override
    public Long decode(InputStream in) throws IOException {
      DECODED.incrementAndGet();
      return VarLongCoder.of().decode(in);
    }
  }

  private static MapState<String, Long> map(SparkStateInternals<Integer> state) {
    return state.state(
        StateNamespaces.global(),
        StateTags.map("m", StringUtf8Coder.of(), new CountingLongCoder()));
  }

  private static MapState<String, Long> mapOf(int entries) {
    MapState<String, Long> map = map(SparkStateInternals.forKey(0));
    for (long i = 0; i < entries; i++) {
      map.put("k" + i, i);
    }
    DECODED.set(0);
    ENCODED.set(0);
    return map;
  }

  @Test
  void thePatchIsTheClassLoadedForTheBeamReleaseInUse() {
    String from =
        SparkStateInternals.class.getProtectionDomain().getCodeSource().getLocation().toString();
    assertTrue(from.endsWith("/target/classes/"), "loaded from " + from);
    assertEquals(
        "2.70.0",
        ReleaseInfo.getReleaseInfo().getVersion(),
        "Beam changed: compare src/spark/java with the new release's class of the same name");
  }

  @Test
  void aGetDecodesOnlyItsEntry() {
    MapState<String, Long> map = mapOf(200);
    assertEquals(7L, map.get("k7").read());
    assertEquals(null, map.get("absent").read());
    assertEquals(1, DECODED.get());
  }

  @Test
  void aPutOrARemoveCodesOnlyItsEntry() {
    MapState<String, Long> map = mapOf(200);
    map.put("k200", 200L);
    map.remove("k3");
    assertEquals(0, DECODED.get());
    assertEquals(1, ENCODED.get());
  }

  @Test
  void aMapEmptiedByARemoveTakesTheNextEntry() {
    MapState<String, Long> map = mapOf(1);
    map.remove("k0");
    map.put("again", 1L);
    assertEquals(1L, map.get("again").read());
  }

  /** What the service's steps use besides get and put, over a state carried to the next batch. */
  @Test
  void entriesKeysAndClearKeepTheirMeaningAcrossBatches() {
    SparkStateInternals<Integer> first = SparkStateInternals.forKey(0);
    MapState<String, Long> map = map(first);
    map.put("a", 1L);
    map.put("b\u0000\u00ff", 2L); // any bytes in a key
    SparkStateInternals<Integer> next = SparkStateInternals.forKeyAndState(0, first.getState());
    MapState<String, Long> again = map(next);
    Map<String, Long> entries = new HashMap<>();
    again.entries().read().forEach(e -> entries.put(e.getKey(), e.getValue()));
    assertEquals(Map.of("a", 1L, "b\u0000\u00ff", 2L), entries);
    assertEquals(2, ((java.util.Collection<?>) again.keys().read()).size());
    assertFalse(again.isEmpty().read());
    MapState<String, Long> other =
        next.state(
            StateNamespaces.global(),
            StateTags.map("m2", StringUtf8Coder.of(), new CountingLongCoder()));
    other.put("a", 9L);
    again.clear();
    assertTrue(again.isEmpty().read());
    assertEquals(9L, other.get("a").read(), "another map of the same key is left alone");
  }
}
