package dev.campaignnotifier.late;

import java.io.Serializable;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import javax.sql.DataSource;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.ListCoder;
import org.apache.beam.sdk.coders.MapCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.coders.VarLongCoder;
import org.apache.beam.sdk.io.GenerateSequence;
import org.apache.beam.sdk.state.StateSpec;
import org.apache.beam.sdk.state.StateSpecs;
import org.apache.beam.sdk.state.ValueState;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.SerializableFunction;
import org.apache.beam.sdk.transforms.WithKeys;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PBegin;
import org.apache.beam.sdk.values.PCollection;
import org.joda.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Finds subscriptions added to {@code subscribers_restaurants} since the last look, every {@code
 * period}, as (restaurant, its new clients) per look: the rows whose {@code id} is above a
 * high-water mark, through the primary key's index (never a scan of the table), in pages. Ids are
 * taken from a sequence when a row is inserted but become visible when its transaction commits, so
 * a row can appear below the mark after the mark has passed it; the ids skipped over are remembered
 * as gaps for ten minutes and asked for again at every look, so a late commit is still found (a gap
 * that never fills was a rolled-back insert). The mark and the gaps are Beam state on one key, so a
 * restored Flink job resumes where its checkpoint left off. The mark is also saved in {@code
 * campaign_notifier_watch} for the consumer group (below the oldest open gap), so a process started
 * afresh (a DirectRunner or Spark restart, a new Flink job) resumes from the last run's mark and
 * finds the favourites added while it was stopped. The first look of a new group only sets the
 * mark: subscriptions older than the service are the fan-out's business.
 *
 * <p>Used in both subscriber modes: it finds a new subscription within seconds and costs one
 * indexed query per look, where comparing consecutive snapshots would find it only after a refresh
 * and cost a pass over tens of millions of pairs.
 */
public final class WatchSubscriptions
    extends PTransform<PCollection<KV<String, Long>>, PCollection<KV<String, List<String>>>> {
  static final int PAGE = 20_000;
  static final long GAP_MILLIS = 10 * 60 * 1000L;
  static final int MAX_GAPS = 10_000;

  static final String MAX_ID = "SELECT coalesce(max(id), 0) FROM public.subscribers_restaurants";
  static final String SAVED_MARK =
      "SELECT seen_through FROM public.campaign_notifier_watch WHERE consumer_group = ?";
  static final String SAVE_MARK =
      "INSERT INTO public.campaign_notifier_watch (consumer_group, seen_through) VALUES (?, ?)"
          + " ON CONFLICT (consumer_group)"
          + " DO UPDATE SET seen_through = EXCLUDED.seen_through, updated_at = now()";

  /** PostgreSQL's code for a table that does not exist. */
  private static final String UNDEFINED_TABLE = "42P01";

  public static final String NEW_ROWS =
      "SELECT id, restaurant_id, client_id FROM public.subscribers_restaurants"
          + " WHERE id > ? OR id = ANY(?) ORDER BY id LIMIT "
          + PAGE;

  private final SerializableFunction<Void, DataSource> postgres;
  private final String consumerGroup;

  /**
   * Looks once per tick ({@link #ticks}).
   *
   * @param consumerGroup whose saved mark a fresh start resumes from
   */
  public WatchSubscriptions(SerializableFunction<Void, DataSource> postgres, String consumerGroup) {
    this.postgres = postgres;
    this.consumerGroup = consumerGroup;
  }

  /** A tick every {@code period}, on one key (what the watcher's state hangs on). */
  public static PTransform<PBegin, PCollection<KV<String, Long>>> ticks(Duration period) {
    return new PTransform<>() {
      @Override
      public PCollection<KV<String, Long>> expand(PBegin begin) {
        return begin
            .apply("Tick", GenerateSequence.from(0).withRate(1, period))
            .apply("OneKey", WithKeys.<String, Long>of("subscriptions"))
            .setCoder(KvCoder.of(StringUtf8Coder.of(), VarLongCoder.of()));
      }
    };
  }

  @Override
  public PCollection<KV<String, List<String>>> expand(PCollection<KV<String, Long>> ticks) {
    return ticks
        .apply("ReadNewRows", ParDo.of(new WatchFn(postgres, consumerGroup)))
        .setCoder(KvCoder.of(StringUtf8Coder.of(), ListCoder.of(StringUtf8Coder.of())));
  }

  /** One row of the table. */
  record Row(long id, String restaurant, String client) {}

  /** The mark and the gaps after one look at {@code rows} (sorted by id). */
  record Mark(long highWater, Map<Long, Long> gaps) {
    Mark after(List<Row> rows, long nowMillis) {
      Map<Long, Long> open = new HashMap<>(gaps);
      long high = highWater;
      for (Row row : rows) {
        open.remove(row.id());
        if (row.id() > high) {
          for (long skipped = high + 1; skipped < row.id() && open.size() < MAX_GAPS; skipped++) {
            open.put(skipped, nowMillis);
          }
          high = row.id();
        }
      }
      open.values().removeIf(since -> nowMillis - since > GAP_MILLIS);
      return new Mark(high, open);
    }

    /** Every id up to this one has been looked at: below the oldest open gap, or the mark. */
    long seenThrough() {
      return gaps.keySet().stream().mapToLong(id -> id - 1).min().orElse(highWater);
    }
  }

  /**
   * The table's side of the watcher: where a group's mark starts, the rows above it, and the mark
   * saved for the next start. Used by {@link WatchFn} (the mark in Beam state) and by {@link
   * LateInDriver} (the mark in a field).
   */
  static final class Table implements Serializable {
    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(WatchSubscriptions.class);

    private final SerializableFunction<Void, DataSource> postgres;
    private final String consumerGroup;
    private transient boolean noSavedMarks;
    private transient long saved = -1;

    Table(SerializableFunction<Void, DataSource> postgres, String consumerGroup) {
      this.postgres = postgres;
      this.consumerGroup = consumerGroup;
    }

    /**
     * Where a new watcher starts: the mark the consumer group's last run saved, or the newest row
     * now (the first look of a new group: older subscriptions are the fan-out's business).
     */
    long start() throws SQLException {
      Long resumed = savedMark(postgres.apply(null));
      long start = resumed != null ? resumed : maxId(postgres.apply(null));
      if (resumed != null) {
        LOG.info("Watching for new subscriptions from id {}, where the last run got to", start);
        saved = resumed;
      }
      save(start);
      return start;
    }

    /** The rows above the mark and in its gaps, sorted by id, one page at most. */
    List<Row> newRows(Mark mark) throws SQLException {
      List<Row> rows = new ArrayList<>();
      try (Connection c = postgres.apply(null).getConnection();
          PreparedStatement s = c.prepareStatement(NEW_ROWS)) {
        s.setLong(1, mark.highWater());
        s.setArray(2, c.createArrayOf("int8", mark.gaps().keySet().toArray()));
        try (ResultSet r = s.executeQuery()) {
          while (r.next()) {
            rows.add(new Row(r.getLong(1), r.getString(2), r.getString(3)));
          }
        }
      }
      return rows;
    }

    /** The mark the consumer group's last run saved, or null (none yet, or no table for it). */
    private Long savedMark(DataSource dataSource) throws SQLException {
      try (Connection c = dataSource.getConnection();
          PreparedStatement s = c.prepareStatement(SAVED_MARK)) {
        s.setString(1, consumerGroup);
        try (ResultSet r = s.executeQuery()) {
          return r.next() ? r.getLong(1) : null;
        }
      } catch (SQLException e) {
        if (!UNDEFINED_TABLE.equals(e.getSQLState())) {
          throw e;
        }
        noSavedMarks = true; // start-up checks warned about it
        return null;
      }
    }

    /** Saves where the watcher got to, when it moved. */
    void save(long seenThrough) throws SQLException {
      if (noSavedMarks || seenThrough == saved) {
        return;
      }
      try (Connection c = postgres.apply(null).getConnection()) {
        c.setAutoCommit(true);
        try (PreparedStatement s = c.prepareStatement(SAVE_MARK)) {
          s.setString(1, consumerGroup);
          s.setLong(2, seenThrough);
          s.executeUpdate();
        }
      } catch (SQLException e) {
        if (!UNDEFINED_TABLE.equals(e.getSQLState())) {
          throw e;
        }
        noSavedMarks = true;
        return;
      }
      saved = seenThrough;
    }

    private static long maxId(DataSource dataSource) throws SQLException {
      try (Connection c = dataSource.getConnection();
          PreparedStatement s = c.prepareStatement(MAX_ID);
          ResultSet r = s.executeQuery()) {
        r.next();
        return r.getLong(1);
      }
    }
  }

  /** The new rows by restaurant: its clients in them. */
  static Map<String, List<String>> byRestaurant(List<Row> rows) {
    Map<String, List<String>> byRestaurant = new HashMap<>();
    for (Row row : rows) {
      byRestaurant.computeIfAbsent(row.restaurant(), r -> new ArrayList<>()).add(row.client());
    }
    return byRestaurant;
  }

  /** Per look, one element per restaurant: its clients in the new rows. */
  static final class WatchFn extends DoFn<KV<String, Long>, KV<String, List<String>>> {
    private static final Logger LOG = LoggerFactory.getLogger(WatchSubscriptions.class);

    @StateId("mark")
    private final StateSpec<ValueState<Long>> markSpec = StateSpecs.value(VarLongCoder.of());

    @StateId("gaps")
    private final StateSpec<ValueState<Map<Long, Long>>> gapsSpec =
        StateSpecs.value(MapCoder.of(VarLongCoder.of(), VarLongCoder.of()));

    private final Table table;
    private transient boolean unavailable;

    WatchFn(SerializableFunction<Void, DataSource> postgres, String consumerGroup) {
      this.table = new Table(postgres, consumerGroup);
    }

    @ProcessElement
    public void process(
        @StateId("mark") ValueState<Long> markState,
        @StateId("gaps") ValueState<Map<Long, Long>> gapsState,
        OutputReceiver<KV<String, List<String>>> out) {
      try {
        Long high = markState.read();
        if (high == null) {
          markState.write(table.start());
          return;
        }
        Map<Long, Long> gaps = gapsState.read();
        Mark mark = new Mark(high, gaps == null ? Map.of() : gaps);
        List<Row> rows = table.newRows(mark);
        byRestaurant(rows).forEach((restaurant, clients) -> out.output(KV.of(restaurant, clients)));
        Mark next = mark.after(rows, System.currentTimeMillis());
        markState.write(next.highWater());
        gapsState.write(next.gaps());
        table.save(next.seenThrough());
        if (unavailable) {
          unavailable = false;
          LOG.info("PostgreSQL reachable again: watching for new subscriptions");
        }
      } catch (SQLException e) {
        // Waited out: the next look asks again from the same mark.
        if (!unavailable) {
          unavailable = true;
          LOG.warn("PostgreSQL unavailable to watch for new subscriptions: {}", e.getMessage());
        }
      }
    }
  }
}
