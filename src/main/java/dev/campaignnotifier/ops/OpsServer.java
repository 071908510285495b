package dev.campaignnotifier.ops;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.campaignnotifier.startup.StartupException;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.exporter.httpserver.MetricsHandler;
import io.prometheus.metrics.instrumentation.jvm.JvmMetrics;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.IOException;
import java.io.OutputStream;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.apache.beam.sdk.PipelineResult;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The service's HTTP endpoint ({@code --metricsPort}): {@code /metrics} in Prometheus's text format
 * (the pipeline's Beam metrics, the live gauges of {@link LiveState} and the JVM's own), {@code
 * /health/live} and {@code /health/ready} ({@link Health}). The exposition is Prometheus's Java
 * client; the HTTP server is the JDK's.
 */
public final class OpsServer implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(OpsServer.class);
  private static final long CHECK_PERIOD_MILLIS = 2000;

  private final HttpServer server;
  private final ScheduledExecutorService checker;
  private final Health health;

  private OpsServer(HttpServer server, ScheduledExecutorService checker, Health health) {
    this.server = server;
    this.checker = checker;
    this.health = health;
  }

  /**
   * Serves on {@code port}; {@code result} gives the pipeline's handle once there is one.
   *
   * @throws StartupException if the port is taken
   */
  public static OpsServer start(int port, Health health, Supplier<PipelineResult> result) {
    return serve(port, health, registry(result));
  }

  /** Everything /metrics serves: the JVM's metrics, the pipeline's and the live gauges. */
  static PrometheusRegistry registry(Supplier<PipelineResult> result) {
    PrometheusRegistry registry = new PrometheusRegistry();
    JvmMetrics.builder().register(registry);
    registry.register(new BeamMetrics(result));
    GaugeWithCallback.builder()
        .name("notifications_pending")
        .help("Notifications fanned out in this process and not yet recorded in both sinks.")
        .callback(g -> g.call(LiveState.pending(System.currentTimeMillis() / 1000)))
        .register(registry);
    GaugeWithCallback.builder()
        .name("delivery_oldestSliceSeconds")
        .help("How long the slice longest in delivery has been there; 0 when none is.")
        .callback(g -> g.call(LiveState.oldestDeliveryNanos(System.nanoTime()) / 1e9))
        .register(registry);
    GaugeWithCallback.builder()
        .name("subscribers_snapshotAgeSeconds")
        .help("Age of the subscriber snapshot in force (snapshot mode; absent before the first).")
        .callback(
            g ->
                LiveState.snapshotLoadedAtMillis()
                    .ifPresent(at -> g.call((System.currentTimeMillis() - at) / 1000.0)))
        .register(registry);
    GaugeWithCallback.builder()
        .name("spark_microBatchLagSeconds")
        .help(
            "SparkRunner: from the last finished micro-batch's batch time to its end; grows when"
                + " the driver cannot build batches as fast as --batchIntervalMillis asks.")
        .callback(g -> LiveState.microBatchLagMillis().ifPresent(lag -> g.call(lag / 1000.0)))
        .register(registry);
    return registry;
  }

  private static OpsServer serve(int port, Health health, PrometheusRegistry registry) {
    HttpServer server;
    try {
      server = HttpServer.create(new InetSocketAddress(port), 16);
    } catch (BindException e) {
      throw new StartupException(
          "--metricsPort=" + port + " is in use; choose another port, or 0 to turn it off");
    } catch (IOException e) {
      throw new StartupException("Cannot serve --metricsPort=" + port + ": " + e.getMessage());
    }
    server.setExecutor(
        Executors.newFixedThreadPool(
            2,
            task -> {
              Thread thread = new Thread(task, "ops-http");
              thread.setDaemon(true);
              return thread;
            }));
    server.createContext("/metrics", new MetricsHandler(registry));
    server.createContext("/health/live", exchange -> answer(exchange, health.live()));
    server.createContext("/health/ready", exchange -> answer(exchange, health.ready()));
    server.start();

    ScheduledExecutorService checker =
        Executors.newSingleThreadScheduledExecutor(
            task -> {
              Thread thread = new Thread(task, "health-check");
              thread.setDaemon(true);
              return thread;
            });
    checker.scheduleWithFixedDelay(health::check, 0, CHECK_PERIOD_MILLIS, TimeUnit.MILLISECONDS);
    LOG.info(
        "Metrics on http://localhost:{}/metrics; health on /health/live and /health/ready",
        server.getAddress().getPort());
    return new OpsServer(server, checker, health);
  }

  private static void answer(HttpExchange exchange, Health.Answer answer) throws IOException {
    byte[] body = answer.body().getBytes(StandardCharsets.UTF_8);
    exchange.getResponseHeaders().set("Content-Type", "text/plain; charset=utf-8");
    exchange.sendResponseHeaders(answer.status(), body.length);
    try (OutputStream out = exchange.getResponseBody()) {
      out.write(body);
    }
  }

  public int port() {
    return server.getAddress().getPort();
  }

  @Override
  public void close() {
    checker.shutdownNow();
    server.stop(0);
    health.close();
  }
}
