package dev.campaignnotifier.it;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.campaignnotifier.local.Ports;
import dev.campaignnotifier.options.CampaignNotifierOptions;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The Spark bundle on a real Spark standalone cluster: a master and a worker from Spark's jars on
 * Maven Central (a SPARK_HOME of our own, on loopback), the bundle built with {@code mvn
 * -Pspark-runner package} and submitted with SparkSubmit (what {@code spark-submit} runs), client
 * deploy mode. The fan-out, the late subscribers and both sinks run in an executor the worker
 * started.
 */
@Tag("slow")
class SparkClusterIT {
  private static final Duration WAIT = Duration.ofMinutes(4);

  @Test
  void bundleSubmittedToStandaloneClusterDoesTheRoundTrip() throws Exception {
    Path bundle = ClusterKit.bundle("spark-runner");
    Path jars = ClusterKit.engineJars("spark");
    Path home = jars.getParent();
    Path workDir = Files.createDirectories(home.resolve("work-" + System.nanoTime()));
    String classpath = jars + "/*";
    int masterPort = Ports.free();
    int masterUi = Ports.free();
    String masterUrl = "spark://127.0.0.1:" + masterPort;
    // What sbin/start-master.sh and the worker's executor launcher read from the environment.
    Map<String, String> env =
        Map.of(
            "SPARK_HOME",
            home.toString(),
            "SPARK_SCALA_VERSION",
            "2.12",
            "SPARK_LOCAL_IP",
            "127.0.0.1");

    CampaignNotifierOptions options = ServiceClient.options(true);
    ServiceClient client = new ServiceClient(options);
    List<String> submit =
        new ArrayList<>(sparkJvm(classpath, "org.apache.spark.deploy.SparkSubmit"));
    submit.addAll(
        List.of(
            "--master",
            masterUrl,
            "--deploy-mode",
            "client",
            "--class",
            "dev.campaignnotifier.CampaignNotifier",
            "--conf",
            "spark.executor.memory=1g",
            "--conf",
            "spark.ui.enabled=false",
            bundle.toString(),
            "--runner=SparkRunner",
            "--batchIntervalMillis=500",
            "--checkpointDir=" + LocalServers.tempDir("spark-cluster-checkpoint").toUri()));
    submit.addAll(ServiceClient.serviceArgs(options, options.getJdbcUrl()));

    try (ServiceProcess master =
            ServiceProcess.exec(
                sparkJvm(
                    classpath,
                    "org.apache.spark.deploy.master.Master",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    String.valueOf(masterPort),
                    "--webui-port",
                    String.valueOf(masterUi)),
                env,
                "spark-master");
        ServiceProcess worker =
            ServiceProcess.exec(
                sparkJvm(
                    classpath,
                    "org.apache.spark.deploy.worker.Worker",
                    "--host",
                    "127.0.0.1",
                    "--webui-port",
                    String.valueOf(Ports.free()),
                    "--cores",
                    "2",
                    "--memory",
                    "2g",
                    "--work-dir",
                    workDir.toString(),
                    masterUrl),
                env,
                "spark-worker")) {
      Await.until(
          "a worker registered with the master",
          WAIT,
          () ->
              master.alive("the master")
                  && worker.alive("the worker")
                  && masterState(masterUi).contains("\"aliveworkers\" : 1"),
          () -> "\nmaster:\n" + master.log() + "\nworker:\n" + worker.log());

      try (ServiceProcess driver = ServiceProcess.exec(submit, env, "spark-driver")) {
        Supplier<String> logs =
            () -> "\ndriver:\n" + driver.log() + "\nexecutors:\n" + executorLogs(workDir);
        ClusterKit.sampleRoundTrip(client, () -> driver.alive("the driver"), logs);
        ClusterKit.lateSubscriberOfTheSample(client, () -> driver.alive("the driver"), logs);
        String state = masterState(masterUi);
        assertTrue(
            state.contains("\"activeapps\" : [ {"),
            "the application ran on the standalone master:\n" + state);
        // Spark runs a job's tasks in executors only; the worker starts each in a directory of its
        // own under its work dir (<app id>/<executor id>), and the master counts the cores it gave.
        assertTrue(
            executorDirs(workDir) >= 1,
            "the worker started an executor for the application:\n" + executorLogs(workDir));
        assertTrue(
            state.matches("(?s).*\"activeapps\" : \\[ \\{.*\"cores\" : [1-9].*"),
            "the application was granted cores:\n" + state);
      }
    }
  }

  private static List<String> sparkJvm(String classpath, String mainClass, String... args) {
    return ClusterKit.javaCommand(classpath, "1g", List.of(), mainClass, List.of(args));
  }

  /** The standalone master's state, from its web UI's JSON endpoint. */
  private static String masterState(int uiPort) {
    return ClusterKit.httpGet("http://127.0.0.1:" + uiPort + "/json/");
  }

  /** The executor directories ({@code <work dir>/app-.../<n>}) the worker created. */
  private static long executorDirs(Path workDir) {
    try (Stream<Path> dirs = Files.walk(workDir, 2)) {
      return dirs.filter(
              p ->
                  Files.isDirectory(p)
                      && p.getParent() != null
                      && p.getParent().getFileName().toString().startsWith("app-"))
          .count();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Everything the worker's executors wrote to stderr (work-dir/app-id/executor-id/stderr). */
  private static String executorLogs(Path workDir) {
    try (Stream<Path> files = Files.walk(workDir)) {
      StringBuilder all = new StringBuilder();
      for (Path f : (Iterable<Path>) files.filter(p -> p.endsWith("stderr"))::iterator) {
        all.append(Files.readString(f));
      }
      return all.toString();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
