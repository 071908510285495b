package dev.campaignnotifier.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.campaignnotifier.Samples;
import dev.campaignnotifier.local.Ports;
import dev.campaignnotifier.options.CampaignNotifierOptions;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * What an operator sees of the service in its own JVM on real servers: {@code /metrics} during the
 * sample round trip and after a bad message, {@code /health/ready} before the first snapshot and
 * while PostgreSQL is unreachable, and the progress lines of a 200,000-subscriber campaign.
 */
@Tag("slow")
class OperationsIT {
  private static final Duration WAIT = Duration.ofMinutes(3);
  private static final int BIG = 200_000;
  private static final HttpClient HTTP = HttpClient.newHttpClient();

  private record Answer(int status, String body) {}

  private static Answer get(int port, String path) {
    try {
      HttpResponse<String> response =
          HTTP.send(
              HttpRequest.newBuilder(URI.create("http://localhost:" + port + path))
                  .timeout(Duration.ofSeconds(10))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      return new Answer(response.statusCode(), response.body());
    } catch (IOException e) {
      return new Answer(-1, e.toString());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  private static boolean scraped(int port, String line) {
    return get(port, "/metrics").body().lines().anyMatch(line::equals);
  }

  private static long now() {
    return Instant.now().getEpochSecond();
  }

  @Test
  void anOperatorCanScrapeProbeAndFollowTheService() throws Exception {
    CampaignNotifierOptions o = ServiceClient.options(true);
    ServiceClient db = new ServiceClient(o);
    db.insertSubscribers("big", BIG);
    int port = Ports.free();
    try (TcpProxy proxy = new TcpProxy(LocalServers.postgres().port());
        Connection lock = db.db()) {
      // Holds the first snapshot back: its COPY waits for this lock.
      lock.setAutoCommit(false);
      try (Statement s = lock.createStatement()) {
        s.execute("LOCK TABLE public.subscribers_restaurants IN ACCESS EXCLUSIVE MODE");
      }
      List<String> args = new ArrayList<>();
      ServiceClient.serviceArgs(
              o, "jdbc:postgresql://localhost:" + proxy.port() + "/" + db.database)
          .stream()
          .filter(a -> !a.startsWith("--metricsPort="))
          .forEach(args::add);
      args.add("--metricsPort=" + port);
      try (ServiceProcess service = ServiceProcess.start(args)) {
        Await.until(
            "live",
            WAIT,
            () -> service.alive("the service") && get(port, "/health/live").status() == 200);
        Await.until(
            "not ready for want of a snapshot",
            WAIT,
            () -> get(port, "/health/ready").body().contains("no subscriber snapshot loaded yet"));
        assertEquals(503, get(port, "/health/ready").status());

        lock.rollback();
        Await.until("ready", WAIT, () -> get(port, "/health/ready").status() == 200);
        assertEquals("ready\n", get(port, "/health/ready").body());

        db.publish(
            "k", Samples.campaignJson("sample", Samples.RESTAURANT, now() - 10, now() + 3600));
        Await.until("the sample's rows", WAIT, () -> db.rowsOf("sample") == 9);
        Await.until(
            "the sink counters at 9",
            WAIT,
            () ->
                scraped(port, "sinks_notificationsToKafka_total 9.0")
                    && scraped(port, "sinks_feedbackRowsToPostgres_total 9.0"));
        assertTrue(scraped(port, "campaigns_received_total 1.0"));
        assertTrue(scraped(port, "notifications_pending 0.0"));

        db.publish("k", "this is not JSON");
        Await.until(
            "the dead letter counted by reason",
            WAIT,
            () -> scraped(port, "deadLetters_total{reason=\"NOT_JSON\"} 1.0"));

        db.publish("k", Samples.campaignJson("big-one", "big", now() - 10, now() + 3600));
        Await.until("every row of the big campaign", WAIT, () -> db.rowsOf("big-one") == BIG);
        Await.until(
            "the progress line saying it is done",
            WAIT,
            () -> service.log().contains("Campaign big-one: all 200,000 delivered in "));
        Await.until(
            "the sink counter past the big campaign",
            WAIT,
            () -> scraped(port, "sinks_feedbackRowsToPostgres_total 200009.0"));
        assertTrue(scraped(port, "notifications_pending 0.0"));

        proxy.cut();
        Await.until(
            "not ready while PostgreSQL is unreachable",
            WAIT,
            () -> get(port, "/health/ready").body().contains("PostgreSQL unreachable"));
        assertEquals(503, get(port, "/health/ready").status());
        assertEquals(200, get(port, "/health/live").status(), "an outage is waited out");
        proxy.restore();
        Await.until("ready again", WAIT, () -> get(port, "/health/ready").status() == 200);
        System.out.println(
            "operations: /health/ready after the outage: "
                + get(port, "/health/ready").body().trim()
                + "; progress lines: "
                + service.log().lines().filter(l -> l.contains("Campaign big-one: ")).toList());
      }
    }
  }
}
