package dev.campaignnotifier.runner;

import org.apache.beam.sdk.state.MapState;

/**
 * Removes from a {@link MapState} so that the map can take entries again on every runner. Beam
 * 2.70's Spark runner keeps a map state encoded, and {@code MapCoder} decodes an empty map as
 * {@code Collections.emptyMap()}: once a remove has emptied a key's map, the next {@code put} into
 * it throws {@code UnsupportedOperationException} and fails the micro-batch for good (seen when a
 * shard of restaurants let its last one go, then met a new one). A map left empty is cleared
 * instead, which the next {@code put} starts afresh from.
 */
public final class SparkSafeMaps {
  private SparkSafeMaps() {}

  public static <K, V> void remove(MapState<K, V> map, K key) {
    map.remove(key);
    clearIfEmpty(map);
  }

  /**
   * Clears the map if it holds nothing, after plain removes in a loop: one read however many were
   * removed. Call it before the next {@code put} into the same map.
   */
  public static <K, V> void clearIfEmpty(MapState<K, V> map) {
    // Not isEmpty(): on that runner it says whether anything is stored, and an empty map is.
    Iterable<K> left = map.keys().read();
    if (left == null || !left.iterator().hasNext()) {
      map.clear();
    }
  }
}
