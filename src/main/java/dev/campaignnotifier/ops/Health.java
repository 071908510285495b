package dev.campaignnotifier.ops;

import dev.campaignnotifier.io.KafkaClients;
import dev.campaignnotifier.io.PostgresDataSource;
import dev.campaignnotifier.options.CampaignNotifierOptions;
import dev.campaignnotifier.startup.ServiceConfig;
import dev.campaignnotifier.subscribers.SubscriberMode;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import org.apache.beam.sdk.PipelineResult;
import org.apache.beam.sdk.metrics.MetricNameFilter;
import org.apache.beam.sdk.metrics.MetricResult;
import org.apache.beam.sdk.metrics.MetricsFilter;
import org.apache.kafka.clients.admin.Admin;

/**
 * Liveness and readiness. Live: the process is up and its pipeline has not stopped. Ready: live,
 * running (not starting, not a standby), Kafka and PostgreSQL answer, the subscribers are usable
 * (in snapshot mode a snapshot has been loaded; in lookup mode PostgreSQL answering is enough), and
 * no slice has been in delivery longer than {@code --deliveryStuckAfter}. The checks run in the
 * background ({@link #check}, every 2 s from {@link OpsServer}), so a probe never waits on a server
 * that does not answer; a failed readiness lists every reason.
 */
public final class Health implements AutoCloseable {
  /** One check of a dependency: null when fine, else what is wrong. */
  @FunctionalInterface
  interface Check {
    String problem() throws Exception;
  }

  /** An HTTP answer: 200 or 503, and a body saying why. */
  public record Answer(int status, String body) {}

  private final List<Check> checks;
  private final List<AutoCloseable> resources;
  private volatile String phase = "starting: checking Kafka and PostgreSQL";
  private volatile Supplier<PipelineResult> result = () -> null;
  private volatile List<String> problems = List.of("not checked yet");

  Health(List<Check> checks, List<AutoCloseable> resources) {
    this.checks = checks;
    this.resources = resources;
  }

  /** The checks of the service the options describe. */
  public static Health of(ServiceConfig config) {
    CampaignNotifierOptions options = config.options();
    PostgresCheck postgres = new PostgresCheck(config.postgres());
    KafkaCheck kafka = new KafkaCheck(options.getBootstrapServers(), config.kafka());
    List<Check> checks = new ArrayList<>();
    checks.add(postgres);
    checks.add(kafka);
    Health health = new Health(checks, List.of(postgres, kafka));
    if (options.getSubscribers() == SubscriberMode.snapshot) {
      checks.add(health::snapshotProblem);
    }
    long stuckNanos = TimeUnit.MILLISECONDS.toNanos(config.deliveryStuckAfter().getMillis());
    checks.add(deliveryCheck(stuckNanos, System::nanoTime));
    return health;
  }

  /** Fails while a slice has been in delivery (in this JVM) longer than {@code stuckNanos}. */
  static Check deliveryCheck(long stuckNanos, LongSupplier nanos) {
    return () -> {
      long oldest = LiveState.oldestDeliveryNanos(nanos.getAsLong());
      return oldest <= stuckNanos
          ? null
          : "delivery stuck: a slice has been in delivery for "
              + TimeUnit.NANOSECONDS.toSeconds(oldest)
              + " s (--deliveryStuckAfter is "
              + TimeUnit.NANOSECONDS.toSeconds(stuckNanos)
              + " s): Kafka or PostgreSQL is not taking notifications";
    };
  }

  private String snapshotProblem() {
    if (LiveState.snapshotLoadedAtMillis().isPresent()) {
      return null;
    }
    // On a cluster the snapshot is loaded by the workers; the runner's metrics say it was.
    PipelineResult running = result.get();
    if (running != null) {
      for (MetricResult<Long> refreshes :
          running
              .metrics()
              .queryMetrics(
                  MetricsFilter.builder()
                      .addNameFilter(MetricNameFilter.named("subscribers", "refreshes"))
                      .build())
              .getCounters()) {
        if (refreshes.getAttempted() != null && refreshes.getAttempted() > 0) {
          return null;
        }
      }
    }
    return "no subscriber snapshot loaded yet (--subscribers=snapshot)";
  }

  /** Before the pipeline runs: what the service is doing instead (not ready meanwhile). */
  public void phase(String whatItIsDoing) {
    this.phase = whatItIsDoing;
  }

  /** The pipeline runs; {@code result} is its handle, or gives null where the runner has none. */
  public void running(Supplier<PipelineResult> result) {
    this.result = result;
    this.phase = null;
  }

  /** Runs every check once and keeps what they found. */
  void check() {
    List<String> found = new ArrayList<>();
    String now = phase;
    if (now != null) {
      found.add(now);
    }
    String stopped = stopped();
    if (stopped != null) {
      found.add(stopped);
    }
    for (Check c : checks) {
      String problem;
      try {
        problem = c.problem();
      } catch (Exception e) {
        problem = e.toString();
      }
      if (problem != null) {
        found.add(problem);
      }
    }
    problems = List.copyOf(found);
  }

  private String stopped() {
    PipelineResult running = result.get();
    if (running == null) {
      return null;
    }
    PipelineResult.State state = running.getState();
    return state.isTerminal() ? "the pipeline has stopped: " + state : null;
  }

  public Answer live() {
    String stopped = stopped();
    return stopped == null ? new Answer(200, "live\n") : new Answer(503, stopped + "\n");
  }

  public Answer ready() {
    List<String> now = problems;
    return now.isEmpty()
        ? new Answer(200, "ready\n")
        : new Answer(503, "not ready:\n- " + String.join("\n- ", now) + "\n");
  }

  @Override
  public void close() {
    for (AutoCloseable r : resources) {
      try {
        r.close();
      } catch (Exception e) {
        // closing on the way out; nothing to do
      }
    }
  }

  /** Keeps one connection and asks it whether it is still valid; reconnects when it is not. */
  private static final class PostgresCheck implements Check, AutoCloseable {
    private final PostgresDataSource postgres;
    private Connection connection;

    PostgresCheck(PostgresDataSource postgres) {
      this.postgres = postgres;
    }

    @Override
    public synchronized String problem() {
      try {
        if (connection == null || !connection.isValid(3)) {
          close();
          connection = postgres.connect(3, "campaign-notifier health check");
        }
        return null;
      } catch (SQLException e) {
        return "PostgreSQL unreachable at " + postgres.url() + ": " + e.getMessage();
      }
    }

    @Override
    public synchronized void close() {
      if (connection != null) {
        try {
          connection.close();
        } catch (SQLException e) {
          // a broken connection; dropped either way
        }
        connection = null;
      }
    }
  }

  /** Asks the cluster for its brokers, with short timeouts. */
  private static final class KafkaCheck implements Check, AutoCloseable {
    private final String servers;
    private final KafkaClients clients;
    private Admin admin;

    KafkaCheck(String servers, KafkaClients clients) {
      this.servers = servers;
      this.clients = clients;
    }

    @Override
    public synchronized String problem() throws InterruptedException {
      try {
        if (admin == null) {
          admin = clients.admin(servers, 3000);
        }
        admin.describeCluster().nodes().get(4, TimeUnit.SECONDS);
        return null;
      } catch (Exception e) {
        if (e instanceof InterruptedException) {
          throw (InterruptedException) e;
        }
        Throwable cause = e.getCause() == null ? e : e.getCause();
        return "Kafka unreachable at " + servers + ": " + cause;
      }
    }

    @Override
    public synchronized void close() {
      if (admin != null) {
        admin.close();
      }
    }
  }
}
