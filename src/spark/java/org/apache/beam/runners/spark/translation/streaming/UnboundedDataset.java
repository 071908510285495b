/*
 * Licensed to the Apache Software Foundation (ASF) under one
 * or more contributor license agreements.  See the NOTICE file
 * distributed with this work for additional information
 * regarding copyright ownership.  The ASF licenses this file
 * to you under the Apache License, Version 2.0 (the
 * "License"); you may not use this file except in compliance
 * with the License.  You may obtain a copy of the License at
 *
 *     http://www.apache.org/licenses/LICENSE-2.0
 *
 * Unless required by applicable law or agreed to in writing, software
 * distributed under the License is distributed on an "AS IS" BASIS,
 * WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
 * See the License for the specific language governing permissions and
 * limitations under the License.
 */
// campaign-notifier: a copy of Beam 2.70.0's UnboundedDataset (Apache License 2.0, above) with one
// change, marked "campaign-notifier patch": a leaf's action runs its job with functions of named
// classes. Through the Java API's foreach, every leaf's job of every micro-batch had three closures
// cleaned (JavaRDDLike's, RDD's and SparkContext's), and Spark's closure cleaner reads and parses
// with ASM the class that declares each one, every time: the largest share of an idle Spark
// service's CPU (docs/performance.md, "seventh session"). It comes before the runner's own class on every
// classpath (src/spark, pom.xml); SparkDriverPatchesIT fails without it.
package org.apache.beam.runners.spark.translation.streaming;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import org.apache.beam.runners.spark.coders.CoderHelpers;
import org.apache.beam.runners.spark.translation.Dataset;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.values.WindowedValue;
import org.apache.spark.TaskContext;
import org.apache.spark.rdd.RDD;
import org.apache.spark.storage.StorageLevel;
import org.apache.spark.streaming.api.java.JavaDStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import scala.collection.Iterator;
import scala.collection.immutable.Range;
import scala.reflect.ClassTag$;
import scala.runtime.AbstractFunction2;
import scala.runtime.BoxedUnit;

/**
 * DStream holder Can also crate a DStream from a supplied queue of values, but mainly for testing.
 */
public class UnboundedDataset<T> implements Dataset {

  private static final Logger LOG = LoggerFactory.getLogger(UnboundedDataset.class);

  private JavaDStream<WindowedValue<T>> dStream;
  // points to the input streams that created this UnboundedDataset,
  // should be greater > 1 in case of Flatten for example.
  // when using GlobalWatermarkHolder this information helps to take only the relevant watermarks
  // and reason about them accordingly.
  private final List<Integer> streamSources = new ArrayList<>();

  public UnboundedDataset(JavaDStream<WindowedValue<T>> dStream, List<Integer> streamSources) {
    this.dStream = dStream;
    this.streamSources.addAll(streamSources);
  }

  public JavaDStream<WindowedValue<T>> getDStream() {
    return dStream;
  }

  public List<Integer> getStreamSources() {
    return streamSources;
  }

  @Override
  @SuppressWarnings("unchecked")
  public void cache(String storageLevel, Coder<?> coder) {
    // we "force" MEMORY storage level in streaming
    if (!StorageLevel.fromString(storageLevel).equals(StorageLevel.MEMORY_ONLY_SER())) {
      LOG.warn(
          "Provided StorageLevel: {} is ignored for streams, using the default level: {}",
          storageLevel,
          StorageLevel.MEMORY_ONLY_SER());
    }
    // Caching can cause Serialization, we need to code to bytes
    // more details in https://issues.apache.org/jira/browse/BEAM-2669
    Coder<WindowedValue<T>> wc = (Coder<WindowedValue<T>>) coder;
    this.dStream =
        dStream.map(CoderHelpers.toByteFunction(wc)).cache().map(CoderHelpers.fromByteFunction(wc));
  }

  @Override
  public void action() {
    // Force computation of DStream.
    // campaign-notifier patch: was rdd.foreach(TranslationUtils.emptyVoidFunction()).
    dStream.foreachRDD(rdd -> computeAll(rdd.rdd()));
  }

  /**
   * campaign-notifier patch: computes every partition of {@code rdd} and keeps nothing, as {@code
   * rdd.foreach} with an empty function did, through the one overload of {@code runJob} that cleans
   * only the functions given to it: classes of their own, which the closure cleaner leaves at once.
   */
  static <T> void computeAll(RDD<T> rdd) {
    int partitions = rdd.partitions().length;
    rdd.sparkContext()
        .runJob(
            rdd,
            new ComputePartition<T>(),
            new Range(0, partitions, 1),
            new IgnoreResult(),
            ClassTag$.MODULE$.apply(Object.class));
  }

  /** Runs through a partition's elements; its result is nothing. */
  private static final class ComputePartition<T>
      extends AbstractFunction2<TaskContext, Iterator<T>, Object> implements Serializable {
    private static final long serialVersionUID = 1L;

    @Override
    public Object apply(TaskContext context, Iterator<T> elements) {
      while (elements.hasNext()) {
        elements.next();
      }
      return null;
    }
  }

  /** The driver's side of a partition's result: nothing to keep. */
  private static final class IgnoreResult extends AbstractFunction2<Object, Object, BoxedUnit>
      implements Serializable {
    private static final long serialVersionUID = 1L;

    @Override
    public BoxedUnit apply(Object partition, Object result) {
      return BoxedUnit.UNIT;
    }
  }

  @Override
  public void setName(String name) {
    // ignore
  }
}
