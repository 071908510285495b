package dev.campaignnotifier.transforms;

import dev.campaignnotifier.model.Campaign;
import dev.campaignnotifier.options.RunnerProfile;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.VarIntCoder;
import org.apache.beam.sdk.options.PipelineOptions;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.WithKeys;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.TypeDescriptors;

/**
 * Keys campaigns by one of a few shards of their id, for the stateful steps ({@link
 * ScheduleCampaigns}, {@link TurnsOnTimerFn}): the set of keys a runner tracks stays bounded
 * however many campaigns come and go. Beam's Spark runner injects a timer check for every key it
 * has ever seen into every micro-batch and never forgets a key. How many shards is the runner's
 * ({@link RunnerProfile#shards}: fewer on the DirectRunner, where every key is a bundle of its own
 * each time it has work).
 */
final class CampaignShards
    extends PTransform<PCollection<Campaign>, PCollection<KV<Integer, Campaign>>> {
  /**
   * The most shards a runner uses; every runner's count divides it, so two ids in one shard here
   * are in one shard on every runner.
   */
  static final int SHARDS = 256;

  static int shardOf(String id) {
    return shardOf(id, SHARDS);
  }

  static int shardOf(String id, int shards) {
    return Math.floorMod(id.hashCode(), shards);
  }

  /** The shards for the pipeline's runner. */
  static int shardsFor(PipelineOptions options) {
    return RunnerProfile.of(options).shards();
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
