package dev.campaignnotifier.it;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.campaignnotifier.io.PostgresDataSource;
import dev.campaignnotifier.late.WatchSubscriptions;
import dev.campaignnotifier.local.EmbeddedPostgresServer;
import dev.campaignnotifier.subscribers.SubscriberLookup;
import dev.campaignnotifier.subscribers.SubscriberTable;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/**
 * Lookup mode's query on a real PostgreSQL: a restaurant's distinct clients, in order, across many
 * cursor pages, through the index of sql/003_subscriber_lookup_index.sql and not a scan of the
 * table.
 */
class SubscriberLookupIT {
  private static String database() {
    return LocalServers.postgres().createDatabase(LocalServers.unique("lookup"), false);
  }

  private static void execute(String url, String sql) throws Exception {
    try (Connection c = LocalServers.postgres().connect(url.substring(url.lastIndexOf('/') + 1));
        Statement s = c.createStatement()) {
      s.execute(sql);
    }
  }

  @Test
  void readsEachDistinctClientOnceInOrderAcrossCursorPages() throws Exception {
    String url = database();
    // 12,345 clients of r1 (more than two pages), each subscribed twice; others' rows around them.
    execute(
        url,
        "INSERT INTO public.subscribers_restaurants (client_id, restaurant_id)"
            + " SELECT 'c' || lpad(g::text, 6, '0'), r FROM generate_series(1, 12345) g,"
            + " (VALUES ('r1'), ('r1'), ('r0'), ('r2')) v(r)");
    List<String> clients = new ArrayList<>();
    long count =
        new SubscriberLookup(new PostgresDataSource(url, EmbeddedPostgresServer.USER, null, null))
            .forEachClient("r1", clients::add);
    List<String> expected =
        IntStream.rangeClosed(1, 12345)
            .mapToObj(i -> String.format("c%06d", i))
            .collect(Collectors.toList());
    assertEquals(12345, count);
    assertEquals(expected, clients);
  }

  @Test
  void aRestaurantNobodyFollowsHasNoClients() throws Exception {
    String url = database();
    List<String> clients = new ArrayList<>();
    long count =
        new SubscriberLookup(new PostgresDataSource(url, EmbeddedPostgresServer.USER, null, null))
            .forEachClient("nobody", clients::add);
    assertEquals(0, count);
    assertEquals(List.of(), clients);
  }

  private static String plan(Connection c, String query) throws Exception {
    StringBuilder lines = new StringBuilder();
    try (Statement s = c.createStatement();
        ResultSet r = s.executeQuery("EXPLAIN " + query)) {
      while (r.next()) {
        lines.append(r.getString(1)).append('\n');
      }
    }
    return lines.toString();
  }

  @Test
  void theLookupAndTheWatcherAreIndexRangesNotTableScans() throws Exception {
    String url = database();
    execute(
        url,
        "INSERT INTO public.subscribers_restaurants (client_id, restaurant_id)"
            + " SELECT 'c' || g, 'r' || (g % 1000) FROM generate_series(1, 200000) g");
    execute(url, "VACUUM ANALYZE public.subscribers_restaurants");
    String plan;
    String page;
    String watch;
    try (Connection c = LocalServers.postgres().connect(url.substring(url.lastIndexOf('/') + 1))) {
      assertEquals(true, SubscriberTable.hasLookupIndex(c));
      plan = plan(c, SubscriberLookup.QUERY.replace("restaurant_id = ?", "restaurant_id = 'r7'"));
      // A fan-out made in turns: the next page after the last client handed over.
      page =
          plan(
              c,
              SubscriberLookup.PAGE_QUERY_AFTER
                  .replace("restaurant_id = ?", "restaurant_id = 'r7'")
                  .replace("client_id > ?", "client_id > 'c1007'")
                  .replace("LIMIT ?", "LIMIT 8001"));
      // The late-subscriber watcher's look: above the mark, or one of the gaps.
      watch =
          plan(
              c,
              WatchSubscriptions.NEW_ROWS
                  .replace("id > ?", "id > 199000")
                  .replace("ANY(?)", "ANY('{17,4242}'::int8[])"));
    }
    assertEquals(false, watch.contains("Seq Scan"), watch);
    assertEquals(true, watch.contains("pk_id"), watch);
    assertEquals(false, page.contains("Seq Scan"), page);
    assertEquals(true, page.contains("subscribers_restaurants_restaurant_client_idx"), page);
    assertEquals(false, plan.contains("Seq Scan"), plan);
    assertEquals(true, plan.contains("subscribers_restaurants_restaurant_client_idx"), plan);
  }

  /**
   * A bundle's question: the first clients of each of 2,500 restaurants (in queries of at most
   * 1,000), distinct, in client order, at most the limit; a restaurant of 20,000 followers is read
   * only as far as the limit, along the index in order (the generic plan, with bitmaps off).
   */
  @Test
  void theFirstClientsOfManyRestaurantsAreReadTogetherAlongTheIndex() throws Exception {
    String url = database();
    execute(
        url,
        "INSERT INTO public.subscribers_restaurants (client_id, restaurant_id)"
            + " SELECT 'c' || lpad((g / 2500)::text, 3, '0'), 'r' || (g % 2500)"
            + " FROM generate_series(0, 24999) g");
    execute(
        url,
        "INSERT INTO public.subscribers_restaurants (client_id, restaurant_id)"
            + " SELECT 'b' || lpad(g::text, 5, '0'), r FROM generate_series(1, 20000) g,"
            + " (VALUES ('big'), ('big')) v(r)");
    execute(url, "VACUUM ANALYZE public.subscribers_restaurants");
    List<String> restaurants = new ArrayList<>();
    for (int i = 0; i < 2500; i++) {
      restaurants.add("r" + i);
    }
    restaurants.add("big");
    restaurants.add("nobody");
    restaurants.add("r7"); // twice in one bundle: two campaigns of one restaurant
    java.util.Map<String, List<String>> first =
        new SubscriberLookup(new PostgresDataSource(url, EmbeddedPostgresServer.USER, null, null))
            .firstClientsOf(restaurants, 6);
    assertEquals(2502, first.size());
    assertEquals(List.of("c000", "c001", "c002", "c003", "c004", "c005"), first.get("r7"));
    assertEquals(
        List.of("b00001", "b00002", "b00003", "b00004", "b00005", "b00006"), first.get("big"));
    assertEquals(List.of(), first.get("nobody"));
    String plan;
    try (Connection c = LocalServers.postgres().connect(url.substring(url.lastIndexOf('/') + 1))) {
      c.setAutoCommit(false);
      try (Statement s = c.createStatement()) {
        s.execute(SubscriberLookup.INDEX_IN_ORDER);
      }
      try (Statement s = c.createStatement()) {
        // The plan pgjdbc's prepared statement gets once PostgreSQL stops planning it per call.
        s.execute("SET LOCAL plan_cache_mode = force_generic_plan");
        s.execute(
            "PREPARE first_clients(int, text[]) AS "
                + SubscriberLookup.FIRST_CLIENTS_QUERY
                    .replace("LIMIT ?", "LIMIT $1")
                    .replace("unnest(?::text[])", "unnest($2)"));
      }
      plan = plan(c, "EXECUTE first_clients(7, '{r7,big}')");
      c.rollback();
    }
    assertEquals(false, plan.contains("Sort"), plan);
    assertEquals(true, plan.contains("Index Only Scan"), plan);
  }
}
