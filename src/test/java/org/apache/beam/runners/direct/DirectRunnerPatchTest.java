package org.apache.beam.runners.direct;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.apache.beam.sdk.util.ReleaseInfo;
import org.junit.jupiter.api.Test;

/**
 * The project's copies of two DirectRunner classes (src/direct/java) replace Beam's only because
 * they come first on the classpath, and they are copies of one Beam release. This test fails when
 * either stops being true, so an upgrade re-checks the patch instead of mixing two releases.
 */
class DirectRunnerPatchTest {
  @Test
  void patchedClassesAreTheOnesLoaded() {
    for (Class<?> patched :
        new Class<?>[] {QuiescenceDriver.class, ExecutorServiceParallelExecutor.class}) {
      String from = patched.getProtectionDomain().getCodeSource().getLocation().toString();
      assertTrue(
          from.endsWith("/target/classes/"),
          patched.getSimpleName() + " was loaded from " + from + ", not the project's patch");
    }
  }

  @Test
  void patchIsForTheBeamReleaseInUse() {
    assertEquals(
        "2.70.0",
        ReleaseInfo.getReleaseInfo().getVersion(),
        "Beam changed: compare src/direct/java with the new release's QuiescenceDriver and"
            + " ExecutorServiceParallelExecutor, re-apply the marked changes, then update this test");
  }
}
