package dev.campaignnotifier.campaigns;

import dev.campaignnotifier.model.Arrival;
import dev.campaignnotifier.model.Campaign;
import dev.campaignnotifier.model.CampaignParser;
import dev.campaignnotifier.model.DeadLetter;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import org.apache.beam.sdk.io.kafka.KafkaRecord;
import org.apache.beam.sdk.metrics.Counter;
import org.apache.beam.sdk.metrics.Metrics;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.TupleTag;
import org.apache.beam.sdk.values.TupleTagList;

/**
 * Turns raw Kafka records into campaigns ({@link #CAMPAIGNS}); every record that cannot become one
 * leaves as a {@link DeadLetter} ({@link #DEAD_LETTERS}) with its original bytes and position,
 * except a campaign whose end is before its start (a withdrawal), which the schedule decides on.
 * Nothing is dropped here: each input record produces exactly one output.
 */
public final class ParseCampaigns
    extends PTransform<PCollection<KafkaRecord<byte[], byte[]>>, PCollectionTuple> {
  /**
   * Campaigns, in the order they were read: valid ones, and withdrawals (an end before the start),
   * each with the dead letter it is if the schedule knows no version of it ({@link Arrival}). One
   * collection for both, because a withdrawal must reach the schedule after the version it cancels.
   */
  public static final TupleTag<Arrival> CAMPAIGNS = new TupleTag<>() {};

  public static final TupleTag<DeadLetter> DEAD_LETTERS = new TupleTag<>() {};

  /**
   * Campaigns an earlier run read and delivered in full, read again by a replay: nothing to
   * schedule or fan out, only to be known as active (late subscribers).
   */
  public static final TupleTag<Campaign> DELIVERED_BEFORE = new TupleTag<>() {};

  private final CampaignParser parser;
  private final Map<Integer, Long> readBefore;
  private final Set<String> deliveredInFull;

  public ParseCampaigns(int maxMessageBytes, int maxFieldChars) {
    this(maxMessageBytes, maxFieldChars, Map.of(), Set.of());
  }

  /**
   * @param readBefore per partition, the offset an earlier run had read up to: a bad record below
   *     it was dead-lettered then, and is not dead-lettered again when it is replayed
   * @param deliveredInFull campaigns the delivery ledger showed delivered in full at this start;
   *     one read again below {@code readBefore} goes to {@link #DELIVERED_BEFORE}
   */
  public ParseCampaigns(
      int maxMessageBytes,
      int maxFieldChars,
      Map<Integer, Long> readBefore,
      Set<String> deliveredInFull) {
    this.parser = new CampaignParser(maxMessageBytes, maxFieldChars);
    this.readBefore = new HashMap<>(readBefore);
    this.deliveredInFull = new HashSet<>(deliveredInFull);
  }

  @Override
  public PCollectionTuple expand(PCollection<KafkaRecord<byte[], byte[]>> records) {
    PCollectionTuple parsed =
        records.apply(
            "ParseJson",
            ParDo.of(new ParseFn(parser, readBefore, deliveredInFull))
                .withOutputTags(CAMPAIGNS, TupleTagList.of(DEAD_LETTERS).and(DELIVERED_BEFORE)));
    parsed.get(CAMPAIGNS).setCoder(Arrival.ArrivalCoder.of());
    parsed.get(DELIVERED_BEFORE).setCoder(Campaign.CampaignCoder.of());
    parsed.get(DEAD_LETTERS).setCoder(DeadLetter.DeadLetterCoder.of());
    return parsed;
  }

  static final class ParseFn extends DoFn<KafkaRecord<byte[], byte[]>, Arrival> {
    private final CampaignParser parser;
    private final Map<Integer, Long> readBefore;
    private final Set<String> deliveredInFull;
    private final Counter alreadyFinished = Metrics.counter("campaigns", "alreadyFinished");
    private final Counter received = Metrics.counter("campaigns", "received");
    private final Counter replayed = Metrics.counter("campaigns", "deadLettersNotRepeated");
    private final Counter parsed = Metrics.counter("campaigns", "parsed");
    private final Counter refused = Metrics.counter("campaigns", "deadLettered");

    ParseFn(CampaignParser parser, Map<Integer, Long> readBefore, Set<String> deliveredInFull) {
      this.parser = parser;
      this.readBefore = readBefore;
      this.deliveredInFull = deliveredInFull;
    }

    @ProcessElement
    public void process(@Element KafkaRecord<byte[], byte[]> record, MultiOutputReceiver out) {
      received.inc();
      byte[] value = record.getKV().getValue();
      CampaignParser.Result result = parser.parse(value);
      boolean readBeforeNow =
          record.getOffset() < readBefore.getOrDefault(record.getPartition(), 0L);
      if (result.isValid()) {
        parsed.inc();
        if (readBeforeNow && deliveredInFull.contains(result.campaign().advCampaignId())) {
          // Through the stateful steps one key at a time, they made a restart slow on the
          // DirectRunner (docs/performance.md, restart); they have nothing left to deliver.
          alreadyFinished.inc();
          out.get(DELIVERED_BEFORE).output(result.campaign());
          return;
        }
        out.get(CAMPAIGNS).output(Arrival.of(result.campaign()));
        return;
      }
      DeadLetter letter =
          new DeadLetter(
              result.reason(),
              result.message(),
              record.getTopic(),
              record.getPartition(),
              record.getOffset(),
              record.getTimestamp(),
              record.getKV().getKey(),
              value);
      if (result.isWithdrawal()) {
        // Read again by a replay, it was dead-lettered then if it cancelled nothing: no letter now.
        out.get(CAMPAIGNS).output(new Arrival(result.campaign(), readBeforeNow ? null : letter));
        return;
      }
      if (readBeforeNow) {
        replayed.inc();
        return;
      }
      refused.inc();
      out.get(DEAD_LETTERS).output(letter);
    }
  }
}
