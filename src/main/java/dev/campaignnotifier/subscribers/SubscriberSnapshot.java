package dev.campaignnotifier.subscribers;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import org.apache.beam.sdk.coders.AtomicCoder;
import org.apache.beam.sdk.coders.DefaultCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.coders.VarIntCoder;
import org.apache.beam.sdk.coders.VarLongCoder;

/**
 * Who follows which restaurant, as read by one query: the side input every campaign is fanned out
 * against. It is immutable and complete by construction (built whole, then published), so a
 * campaign never sees a half-read table. Each restaurant's clients are distinct and sorted, so
 * duplicate rows in {@code subscribers_restaurants} notify a client once.
 */
@DefaultCoder(SubscriberSnapshot.SnapshotCoder.class)
public final class SubscriberSnapshot implements SubscriberReader {
  private static final String[] NONE = new String[0];
  private static final long NOT_LOADED = -1;

  private final Map<String, String[]> clientsByRestaurant;
  private final long loadedAtMillis;
  private final long sourceRows;

  private SubscriberSnapshot(
      Map<String, String[]> clientsByRestaurant, long loadedAtMillis, long sourceRows) {
    this.clientsByRestaurant = clientsByRestaurant;
    this.loadedAtMillis = loadedAtMillis;
    this.sourceRows = sourceRows;
  }

  /**
   * Collects (restaurant, client) rows, in any order and with repeats, into a snapshot. Rows go
   * into one growing array per restaurant (no per-row set entry: 10 million of those are most of a
   * gigabyte of garbage); {@link #build} sorts each array and drops repeats, restaurants in
   * parallel.
   */
  public static final class Builder {
    private final Map<String, Clients> rows = new HashMap<>();
    private long sourceRows;

    public Builder add(String restaurantId, String clientId) {
      Clients clients = rows.get(restaurantId);
      if (clients == null) {
        clients = new Clients();
        rows.put(restaurantId, clients);
      }
      clients.add(clientId);
      sourceRows++;
      return this;
    }

    public SubscriberSnapshot build(long loadedAtMillis) {
      Map<String, String[]> frozen =
          rows.entrySet().parallelStream()
              .collect(
                  Collectors.toMap(
                      Map.Entry::getKey,
                      e -> e.getValue().sortedDistinct(),
                      (a, b) -> a,
                      () -> new HashMap<>(rows.size() * 2)));
      rows.clear();
      return new SubscriberSnapshot(frozen, loadedAtMillis, sourceRows);
    }
  }

  /** A restaurant's clients while a snapshot is being built. */
  private static final class Clients {
    private String[] ids = new String[4];
    private int size;

    void add(String id) {
      if (size == ids.length) {
        ids = Arrays.copyOf(ids, size * 2);
      }
      ids[size++] = id;
    }

    String[] sortedDistinct() {
      Arrays.sort(ids, 0, size);
      int distinct = 0;
      for (int i = 0; i < size; i++) {
        if (distinct == 0 || !ids[i].equals(ids[distinct - 1])) {
          ids[distinct++] = ids[i];
        }
      }
      return Arrays.copyOf(ids, distinct);
    }
  }

  public static Builder builder() {
    return new Builder();
  }

  /**
   * The value a runner gives the side input before the first table read has completed (the Spark
   * runner does so; the others hold the campaign back instead). A campaign must wait for a loaded
   * snapshot rather than be fanned out to this empty one.
   */
  public static SubscriberSnapshot notLoaded() {
    return new SubscriberSnapshot(new HashMap<>(), NOT_LOADED, 0);
  }

  public boolean isLoaded() {
    return loadedAtMillis != NOT_LOADED;
  }

  /** The distinct clients of a restaurant, sorted; empty when nobody follows it. */
  public List<String> clientsOf(String restaurantId) {
    return Arrays.asList(clientsByRestaurant.getOrDefault(restaurantId, NONE));
  }

  @Override
  public long forEachClientAfter(
      String restaurantId, String after, int limit, Consumer<String> client) {
    String[] clients = clientsByRestaurant.getOrDefault(restaurantId, NONE);
    int from = 0;
    if (after != null) {
      int at = Arrays.binarySearch(clients, after);
      from = at >= 0 ? at + 1 : -at - 1;
    }
    int to = (int) Math.min(clients.length, (long) from + limit);
    for (int i = from; i < to; i++) {
      client.accept(clients[i]);
    }
    return to - from;
  }

  @Override
  public long forEachClient(String restaurantId, Consumer<String> client) {
    String[] clients = clientsByRestaurant.getOrDefault(restaurantId, NONE);
    for (String c : clients) {
      client.accept(c);
    }
    return clients.length;
  }

  public int restaurantCount() {
    return clientsByRestaurant.size();
  }

  /** Distinct (restaurant, client) pairs. */
  public long subscriptionCount() {
    long n = 0;
    for (String[] clients : clientsByRestaurant.values()) {
      n += clients.length;
    }
    return n;
  }

  /** Rows the query returned, repeats included. */
  public long sourceRows() {
    return sourceRows;
  }

  public long loadedAtMillis() {
    return loadedAtMillis;
  }

  @Override
  public boolean equals(Object o) {
    if (!(o instanceof SubscriberSnapshot)) {
      return false;
    }
    SubscriberSnapshot s = (SubscriberSnapshot) o;
    if (loadedAtMillis != s.loadedAtMillis
        || sourceRows != s.sourceRows
        || !clientsByRestaurant.keySet().equals(s.clientsByRestaurant.keySet())) {
      return false;
    }
    for (Map.Entry<String, String[]> e : clientsByRestaurant.entrySet()) {
      if (!Arrays.equals(e.getValue(), s.clientsByRestaurant.get(e.getKey()))) {
        return false;
      }
    }
    return true;
  }

  @Override
  public int hashCode() {
    return Long.hashCode(loadedAtMillis) * 31 + clientsByRestaurant.size();
  }

  @Override
  public String toString() {
    return "SubscriberSnapshot{restaurants="
        + restaurantCount()
        + ", subscriptions="
        + subscriptionCount()
        + ", loadedAtMillis="
        + loadedAtMillis
        + "}";
  }

  /** Restaurants in sorted order (so equal snapshots encode to equal bytes), each with clients. */
  public static final class SnapshotCoder extends AtomicCoder<SubscriberSnapshot> {
    /** As Java first computed it: pinned, since Flink keeps the coder beside its state. */
    private static final long serialVersionUID = 9017890246060009202L;

    private static final SnapshotCoder INSTANCE = new SnapshotCoder();

    public static SnapshotCoder of() {
      return INSTANCE;
    }

    @Override
    public void encode(SubscriberSnapshot s, OutputStream out) throws IOException {
      VarLongCoder.of().encode(s.loadedAtMillis, out);
      VarLongCoder.of().encode(s.sourceRows, out);
      VarIntCoder.of().encode(s.clientsByRestaurant.size(), out);
      for (Map.Entry<String, String[]> e : new TreeMap<>(s.clientsByRestaurant).entrySet()) {
        StringUtf8Coder.of().encode(e.getKey(), out);
        VarIntCoder.of().encode(e.getValue().length, out);
        for (String client : e.getValue()) {
          StringUtf8Coder.of().encode(client, out);
        }
      }
    }

    @Override
    public SubscriberSnapshot decode(InputStream in) throws IOException {
      long loadedAt = VarLongCoder.of().decode(in);
      long sourceRows = VarLongCoder.of().decode(in);
      int restaurants = VarIntCoder.of().decode(in);
      Map<String, String[]> map = new HashMap<>(restaurants * 2);
      for (int r = 0; r < restaurants; r++) {
        String restaurant = StringUtf8Coder.of().decode(in);
        String[] clients = new String[VarIntCoder.of().decode(in)];
        for (int i = 0; i < clients.length; i++) {
          clients[i] = StringUtf8Coder.of().decode(in);
        }
        map.put(restaurant, clients);
      }
      return new SubscriberSnapshot(map, loadedAt, sourceRows);
    }

    @Override
    public void verifyDeterministic() {}
  }
}
