package dev.campaignnotifier.delivery;

import dev.campaignnotifier.io.Retry;
import dev.campaignnotifier.ops.CampaignProgress;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import javax.sql.DataSource;
import org.apache.beam.sdk.metrics.Metrics;
import org.apache.beam.sdk.transforms.SerializableFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the delivery has recorded of a campaign, as the fan-out and the late step ask it: whether a
 * fan-out of it was recorded in full (the {@link DeliveryLedger}), and who has a row for it (the
 * {@link FeedbackTable}). Production asks PostgreSQL ({@link #inPostgres}); tests script it.
 */
public interface Delivered extends Serializable {
  /**
   * What was delivered before of each of the campaigns: asked once for a bundle of campaigns before
   * their fan-outs begin ({@code AskDelivered}).
   */
  Map<String, DeliveryLedger.Before> beforeAmong(Collection<String> campaignIds)
      throws InterruptedException;

  /** True if a fan-out of the campaign was delivered and recorded in full. */
  boolean finished(String campaignId) throws InterruptedException;

  /** Those of {@code clients} that have had the campaign (a feedback row). */
  Set<String> deliveredAmong(String campaignId, Collection<String> clients)
      throws InterruptedException;

  /** Notes that a fan-out found nobody left to notify. */
  void nothingLeft(String campaignId, String fanOutId) throws InterruptedException;

  /** Where the progress of a big fan-out is read from, or null for nowhere. */
  CampaignProgress.Ledger ledger();

  /**
   * The delivery ledger and the feedback table, each question waited out while PostgreSQL is
   * unreachable ({@link Retry}; counted in {@code campaigns/postgresRetries}). {@code
   * deliveredInFull} (the replay plan's answer at start) is taken as finished without asking again.
   */
  static Delivered inPostgres(
      SerializableFunction<Void, DataSource> dataSource, Set<String> deliveredInFull) {
    return new InPostgres(dataSource, Set.copyOf(deliveredInFull));
  }

  /** {@link #inPostgres}. */
  final class InPostgres implements Delivered {
    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(Delivered.class);

    private final SerializableFunction<Void, DataSource> dataSource;
    private final Set<String> known;

    private InPostgres(SerializableFunction<Void, DataSource> dataSource, Set<String> known) {
      this.dataSource = dataSource;
      this.known = known;
    }

    private <T> T ask(String what, Retry.SqlCall<T> call) throws InterruptedException {
      return Retry.sql(what, LOG, Metrics.counter("campaigns", "postgresRetries")::inc, call);
    }

    private DataSource db() {
      return dataSource.apply(null);
    }

    @Override
    public boolean finished(String campaignId) throws InterruptedException {
      return known.contains(campaignId)
          || ask(
              "read the delivery ledger of campaign " + campaignId,
              () -> DeliveryLedger.finished(db(), campaignId));
    }

    @Override
    public Map<String, DeliveryLedger.Before> beforeAmong(Collection<String> campaignIds)
        throws InterruptedException {
      Map<String, DeliveryLedger.Before> before = new HashMap<>();
      List<String> toAsk = new ArrayList<>();
      for (String id : campaignIds) {
        if (known.contains(id)) {
          before.put(id, DeliveryLedger.Before.IN_FULL);
        } else {
          toAsk.add(id);
        }
      }
      if (!toAsk.isEmpty()) {
        before.putAll(
            ask(
                "read what was delivered of " + toAsk.size() + " campaign(s)",
                () -> DeliveryLedger.beforeAmong(db(), toAsk)));
      }
      return before;
    }

    @Override
    public Set<String> deliveredAmong(String campaignId, Collection<String> clients)
        throws InterruptedException {
      return ask(
          "read which of " + clients.size() + " clients have campaign " + campaignId,
          () -> FeedbackTable.deliveredAmong(db(), campaignId, clients));
    }

    @Override
    public CampaignProgress.Ledger ledger() {
      return (campaignId, fanOutId) -> DeliveryLedger.recorded(db(), campaignId, fanOutId);
    }

    @Override
    public void nothingLeft(String campaignId, String fanOutId) throws InterruptedException {
      ask(
          "write the delivery ledger of campaign " + campaignId,
          () -> {
            DeliveryLedger.recordEmptyFanOut(db(), campaignId, fanOutId);
            return null;
          });
    }
  }
}
