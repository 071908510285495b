package dev.campaignnotifier.delivery;

import dev.campaignnotifier.ops.CampaignProgress;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import org.apache.beam.sdk.transforms.SerializableFunction;

/**
 * {@link Delivered} for tests: a test says who has had each campaign ({@link #clientsOf}) and
 * overrides what else it scripts; every other answer follows from that, as PostgreSQL's would.
 */
public abstract class ScriptedDelivered implements Delivered {
  /** Scripted by who has had each campaign alone. */
  public static ScriptedDelivered of(SerializableFunction<String, Set<String>> clientsOf) {
    return new ScriptedDelivered() {
      @Override
      public Set<String> clientsOf(String campaignId) {
        return clientsOf.apply(campaignId);
      }
    };
  }

  /** The clients with a feedback row for the campaign. */
  public abstract Set<String> clientsOf(String campaignId);

  @Override
  public Map<String, DeliveryLedger.Before> beforeAmong(Collection<String> campaignIds)
      throws InterruptedException {
    Map<String, DeliveryLedger.Before> before = new HashMap<>();
    for (String id : campaignIds) {
      before.put(
          id,
          finished(id)
              ? DeliveryLedger.Before.IN_FULL
              : anyDelivered(id) ? DeliveryLedger.Before.SOME : DeliveryLedger.Before.NOTHING);
    }
    return before;
  }

  @Override
  public boolean finished(String campaignId) throws InterruptedException {
    return false;
  }

  /** True if anyone has had the campaign (a feedback row). */
  public boolean anyDelivered(String campaignId) {
    return !clientsOf(campaignId).isEmpty();
  }

  @Override
  public Set<String> deliveredAmong(String campaignId, Collection<String> clients) {
    Set<String> among = new HashSet<>(clientsOf(campaignId));
    among.retainAll(clients);
    return among;
  }

  @Override
  public void nothingLeft(String campaignId, String fanOutId) throws InterruptedException {}

  @Override
  public CampaignProgress.Ledger ledger() {
    return null;
  }
}
