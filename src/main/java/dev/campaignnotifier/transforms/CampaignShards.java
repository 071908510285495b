package dev.campaignnotifier.transforms;

import dev.campaignnotifier.model.Campaign;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.VarIntCoder;
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

  static int shardOf(String campaignId) {
    return Math.floorMod(campaignId.hashCode(), SHARDS);
  }

  @Override
  public PCollection<KV<Integer, Campaign>> expand(PCollection<Campaign> campaigns) {
    return campaigns
        .apply(
            "KeyByShard",
            WithKeys.of((Campaign c) -> shardOf(c.advCampaignId()))
                .withKeyType(TypeDescriptors.integers()))
        .setCoder(KvCoder.of(VarIntCoder.of(), Campaign.CampaignCoder.of()));
  }
}
