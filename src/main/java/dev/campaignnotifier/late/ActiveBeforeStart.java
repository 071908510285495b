package dev.campaignnotifier.late;

import dev.campaignnotifier.model.Campaign;
import java.util.ArrayList;
import java.util.List;
import org.apache.beam.sdk.coders.BooleanCoder;
import org.apache.beam.sdk.coders.CoderException;
import org.apache.beam.sdk.state.StateSpec;
import org.apache.beam.sdk.state.StateSpecs;
import org.apache.beam.sdk.state.ValueState;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.util.CoderUtils;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;

/**
 * The campaigns a restart found active and already delivered in full ({@code
 * ReplayPlan.Resume#activeDeliveredInFull}), put back into the stream once, on the first tick: they
 * are not read from Kafka again (slow on the DirectRunner: docs/performance.md, restart), but late
 * subscribers must still reach them. A Flink job restored from a checkpoint has its flag set and
 * emits nothing (its state already knows them).
 */
public final class ActiveBeforeStart
    extends PTransform<PCollection<KV<String, Long>>, PCollection<Campaign>> {
  private final List<byte[]> encoded = new ArrayList<>();

  public ActiveBeforeStart(List<Campaign> campaigns) {
    try {
      for (Campaign c : campaigns) {
        encoded.add(CoderUtils.encodeToByteArray(Campaign.CampaignCoder.of(), c));
      }
    } catch (CoderException e) {
      throw new IllegalStateException(e);
    }
  }

  @Override
  public PCollection<Campaign> expand(PCollection<KV<String, Long>> ticks) {
    return ticks.apply("Once", ParDo.of(new OnceFn(encoded))).setCoder(Campaign.CampaignCoder.of());
  }

  static final class OnceFn extends DoFn<KV<String, Long>, Campaign> {
    @StateId("done")
    private final StateSpec<ValueState<Boolean>> doneSpec = StateSpecs.value(BooleanCoder.of());

    private final List<byte[]> encoded;

    OnceFn(List<byte[]> encoded) {
      this.encoded = encoded;
    }

    @ProcessElement
    public void process(@StateId("done") ValueState<Boolean> done, OutputReceiver<Campaign> out)
        throws CoderException {
      if (Boolean.TRUE.equals(done.read())) {
        return;
      }
      for (byte[] bytes : encoded) {
        out.output(CoderUtils.decodeFromByteArray(Campaign.CampaignCoder.of(), bytes));
      }
      done.write(true);
    }
  }
}
