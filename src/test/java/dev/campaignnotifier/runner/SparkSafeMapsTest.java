package dev.campaignnotifier.runner;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.apache.beam.runners.core.StateNamespaces;
import org.apache.beam.runners.core.StateTags;
import org.apache.beam.runners.spark.stateful.SparkStateInternals;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.coders.VarLongCoder;
import org.apache.beam.sdk.state.MapState;
import org.junit.jupiter.api.Test;

/**
 * A map state emptied and filled again through {@link SparkSafeMaps}, on the Spark runner's state
 * (the project's patch of it, which also takes an entry after a plain remove:
 * SparkStateInternalsPatchTest).
 */
class SparkSafeMapsTest {
  private static MapState<String, Long> sparkMap() {
    return SparkStateInternals.forKey(0)
        .state(
            StateNamespaces.global(), StateTags.map("m", StringUtf8Coder.of(), VarLongCoder.of()));
  }

  @Test
  void aMapEmptiedByItsLastRemoveTakesANewEntry() {
    MapState<String, Long> map = sparkMap();
    map.put("a", 1L);
    map.put("b", 2L);
    SparkSafeMaps.remove(map, "a");
    SparkSafeMaps.remove(map, "b");
    map.put("c", 3L);
    assertEquals(3L, map.get("c").read());
    SparkSafeMaps.remove(map, "absent");
    map.put("d", 4L);
    assertEquals(4L, map.get("d").read());
  }
}
