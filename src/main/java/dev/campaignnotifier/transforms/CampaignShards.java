package dev.campaignnotifier.transforms;

import dev.campaignnotifier.model.Campaign;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.VarIntCoder;
import org.apache.beam.sdk.options.PipelineOptions;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.WithKeys;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.TypeDescriptors;

/**
 * Keys campaigns by one of {@link #SHARDS} shards of their id, for the stateful steps ({@link
 * ScheduleCampaigns}, {@link TurnsOnTimerFn}): the set of keys a runner tracks stays bounded
 * however many campaigns come and go. Beam's Spark runner injects a timer check for every key it
 * has ever seen into every micro-batch and never forgets a key.
 */
final class CampaignShards
    extends PTransform<PCollection<Campaign>, PCollection<KV<Integer, Campaign>>> {
  /** How many keys the campaigns are spread over. */
  static final int SHARDS = 256;

  /**
   * Shards on the DirectRunner: it runs a few threads, and there every key is a bundle of its own
   * each time it has work and every key's timers are scanned on every round of its loop, so a rush
   * of thousands of campaigns over 256 keys made hundreds of tiny bundles per step. Measured in
   * docs/performance.md (rush).
   */
  static final int DIRECT_SHARDS = 16;

  static int shardOf(String id) {
    return shardOf(id, SHARDS);
  }

  static int shardOf(String id, int shards) {
    return Math.floorMod(id.hashCode(), shards);
  }

  /** The shards for the pipeline's runner. */
  static int shardsFor(PipelineOptions options) {
    String runner = options.getRunner().getSimpleName();
    return runner.equals("DirectRunner") || runner.equals("TestDirectRunner")
        ? DIRECT_SHARDS
        : SHARDS;
  }

  @Override
  public PCollection<KV<Integer, Campaign>> expand(PCollection<Campaign> campaigns) {
    int shards = shardsFor(campaigns.getPipeline().getOptions());
    return campaigns
        .apply(
            "KeyByShard",
            WithKeys.of((Campaign c) -> shardOf(c.advCampaignId(), shards))
                .withKeyType(TypeDescriptors.integers()))
        .setCoder(KvCoder.of(VarIntCoder.of(), Campaign.CampaignCoder.of()));
  }
}
