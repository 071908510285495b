package org.apache.beam.runners.core.construction;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;

import org.apache.beam.sdk.options.ApplicationNameOptions;
import org.apache.beam.sdk.options.PipelineOptions;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.apache.beam.sdk.util.SerializableUtils;
import org.junit.jupiter.api.Test;

/**
 * The project's patch of Beam 2.70's {@code SerializablePipelineOptions} (src/spark): the Spark
 * runner deserializes the options with every task of every micro-batch, and each copy read from the
 * same JSON is now parsed once per JVM.
 */
class SerializablePipelineOptionsPatchTest {
  private static PipelineOptions named(String name) {
    PipelineOptions options = PipelineOptionsFactory.create();
    options.as(ApplicationNameOptions.class).setAppName(name);
    return options;
  }

  @Test
  void copiesOfTheSameOptionsAreParsedOnce() {
    byte[] shipped =
        SerializableUtils.serializeToByteArray(
            new SerializablePipelineOptions(named("parsed-once")));
    SerializablePipelineOptions first =
        (SerializablePipelineOptions) SerializableUtils.deserializeFromByteArray(shipped, "a task");
    SerializablePipelineOptions second =
        (SerializablePipelineOptions)
            SerializableUtils.deserializeFromByteArray(shipped, "the next task");
    assertSame(first.get(), second.get(), "the second copy reused the first one's options");
    assertEquals("parsed-once", second.get().as(ApplicationNameOptions.class).getAppName());
  }

  @Test
  void otherOptionsAreParsedApart() {
    SerializablePipelineOptions one =
        SerializableUtils.clone(new SerializablePipelineOptions(named("one")));
    SerializablePipelineOptions other =
        SerializableUtils.clone(new SerializablePipelineOptions(named("other")));
    assertNotSame(one.get(), other.get());
    assertEquals("one", one.get().as(ApplicationNameOptions.class).getAppName());
    assertEquals("other", other.get().as(ApplicationNameOptions.class).getAppName());
  }
}
