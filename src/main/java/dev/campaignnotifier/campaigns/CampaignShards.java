package dev.campaignnotifier.campaigns;

import dev.campaignnotifier.runner.RunnerProfile;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.VarIntCoder;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.SerializableFunction;
import org.apache.beam.sdk.transforms.WithKeys;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.TypeDescriptors;

/**
 * Keys campaigns by one of a few shards of their id, for the stateful steps ({@link
 * ScheduleCampaigns}, the fan-out's {@code TurnsOnTimerFn}): the set of keys a runner tracks stays
 * bounded however many campaigns come and go. Beam's Spark runner injects a timer check for every
 * key it has ever seen into every micro-batch and never forgets a key. How many shards is the
 * runner's ({@link RunnerProfile#shards}: fewer on the DirectRunner, where every key is a bundle of
 * its own each time it has work).
 */
public final class CampaignShards<T>
    extends PTransform<PCollection<T>, PCollection<KV<Integer, T>>> {
  /**
   * The most shards a runner uses; every runner's count divides it, so two ids in one shard here
   * are in one shard on every runner.
   */
  static final int SHARDS = 256;

  public static int shardOf(String id) {
    return shardOf(id, SHARDS);
  }

  public static int shardOf(String id, int shards) {
    return Math.floorMod(id.hashCode(), shards);
  }

  private final SerializableFunction<T, String> campaignId;
  private final Coder<T> coder;
  private final int shards;

  /**
   * @param campaignId the campaign id of an element, which picks its shard
   * @param coder the elements' coder
   * @param shards how many ({@link RunnerProfile#shards})
   */
  public CampaignShards(SerializableFunction<T, String> campaignId, Coder<T> coder, int shards) {
    this.campaignId = campaignId;
    this.coder = coder;
    this.shards = shards;
  }

  @Override
  public PCollection<KV<Integer, T>> expand(PCollection<T> elements) {
    int shards = this.shards;
    SerializableFunction<T, String> id = campaignId;
    return elements
        .apply(
            "KeyByShard",
            WithKeys.of((T e) -> shardOf(id.apply(e), shards))
                .withKeyType(TypeDescriptors.integers()))
        .setCoder(KvCoder.of(VarIntCoder.of(), coder));
  }
}
